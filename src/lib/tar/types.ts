/** Tar entry shapes shared by the reader and the writer. */

export type TarEntryType =
  | 'file'
  | 'dir'
  | 'symlink'
  | 'hardlink'
  | 'char'
  | 'block'
  | 'fifo'
  | 'contiguous'
  | 'unknown';

export interface TarHeader {
  /** Path as stored (PAX `path` / GNU long name / ustar prefix+name), UTF-8 decoded, not normalised. */
  name: string;
  type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Body length in bytes (0 for everything but files). */
  size: number;
  /** Seconds since the epoch, with a fraction when PAX carried one. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.*`, values as raw bytes (never UTF-8 decoded). */
  xattrs: Map<string, Buffer>;
  /** Other PAX records (global merged with local), values UTF-8 decoded; xattrs are not repeated here. */
  pax: Record<string, string>;
  /** The raw type flag character, for types reported as 'unknown'. */
  typeflag: string;
}

/** What a caller gives the writer; omitted fields get tar's usual defaults. */
export interface TarWriteHeader {
  name: string;
  type: Exclude<TarEntryType, 'unknown' | 'contiguous'>;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Required (and must match the body) for files; ignored otherwise. */
  size?: number;
  /** Seconds since the epoch (fractions go to PAX) or a Date. Default: 0. */
  mtime?: number | Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer> | Record<string, Buffer>;
  /** Extra PAX records to emit verbatim. */
  pax?: Record<string, string>;
}

export const BLOCK = 512;
