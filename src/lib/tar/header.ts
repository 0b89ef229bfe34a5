/** Tar header block codec: ustar fields, GNU base-256 numbers, PAX records. Pure functions over Buffers. */
import { InvalidArgument } from '../errors.js';
import { BLOCK, type TarEntryType } from './types.js';

/** Raw fields of one 512-byte header block. */
export interface RawHeader {
  name: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: Buffer;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** ustar prefix (POSIX magic only; GNU headers use that area for other fields). */
  prefix: Buffer | undefined;
}

export function corrupt(msg: string): InvalidArgument {
  return new InvalidArgument(`invalid tar archive: ${msg}`, { code: 'PETI_ERR_INVALID_ARGUMENT' });
}

function cstr(b: Buffer, off: number, len: number): Buffer {
  const end = b.indexOf(0, off);
  return b.subarray(off, end === -1 || end > off + len ? off + len : end);
}

/** Octal (NUL/space terminated) or GNU base-256 (high bit of the first byte set). */
export function parseNumeric(b: Buffer, off: number, len: number, field: string): number {
  const first = b[off] as number;
  if (first & 0x80) {
    // base-256: two's complement big-endian; 0x80 marks positive, 0xff negative. Rare, so BigInt is fine.
    let v = BigInt(first & 0x7f);
    for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(b[off + i] as number);
    if (first === 0xff) v -= 1n << BigInt(8 * len - 1);
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw corrupt(`${field} out of range`);
    return n;
  }
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++; // leading spaces (and empty fields)
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i] as number;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw corrupt(`bad octal digit in ${field}`);
    v = v * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : v;
}

export function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i += 8) {
    if (b.readBigUInt64LE(i) !== 0n) return false;
  }
  return true;
}

function checksumOk(b: Buffer): boolean {
  const stored = parseNumeric(b, 148, 8, 'checksum');
  let unsigned = 8 * 0x20; // the checksum field counts as spaces
  for (let i = 0; i < 148; i++) unsigned += b[i] as number;
  for (let i = 156; i < BLOCK; i++) unsigned += b[i] as number;
  if (stored === unsigned) return true;
  // some old writers summed signed chars
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const c = b[i] as number;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === signed;
}

export function parseRawHeader(b: Buffer): RawHeader {
  if (!checksumOk(b)) throw corrupt('header checksum mismatch');
  const magic = b.toString('latin1', 257, 263);
  const posix = magic === 'ustar\0';
  const prefix = posix ? cstr(b, 345, 155) : undefined;
  const tf = b[156] as number;
  return {
    name: cstr(b, 0, 100),
    mode: parseNumeric(b, 100, 8, 'mode'),
    uid: parseNumeric(b, 108, 8, 'uid'),
    gid: parseNumeric(b, 116, 8, 'gid'),
    size: parseNumeric(b, 124, 12, 'size'),
    mtime: parseNumeric(b, 136, 12, 'mtime'),
    typeflag: tf === 0 ? '0' : String.fromCharCode(tf),
    linkname: cstr(b, 157, 100),
    uname: cstr(b, 265, 32).toString('utf8'),
    gname: cstr(b, 297, 32).toString('utf8'),
    devmajor: parseNumeric(b, 329, 8, 'devmajor'),
    devminor: parseNumeric(b, 337, 8, 'devminor'),
    prefix: prefix !== undefined && prefix.length > 0 ? prefix : undefined,
  };
}

export function typeOf(flag: string): TarEntryType {
  switch (flag) {
    case '0': return 'file';
    case '1': return 'hardlink';
    case '2': return 'symlink';
    case '3': return 'char';
    case '4': return 'block';
    case '5': return 'dir';
    case '6': return 'fifo';
    case '7': return 'contiguous';
    default: return 'unknown';
  }
}

export function flagOf(type: TarEntryType): string {
  switch (type) {
    case 'file': return '0';
    case 'hardlink': return '1';
    case 'symlink': return '2';
    case 'char': return '3';
    case 'block': return '4';
    case 'dir': return '5';
    case 'fifo': return '6';
    case 'contiguous': return '7';
    default: throw new InvalidArgument(`cannot write tar entry of type ${type}`);
  }
}

export interface PaxRecords {
  /** Values UTF-8 decoded. */
  text: Record<string, string>;
  /** SCHILY.xattr.* values as raw bytes. */
  xattrs: Map<string, Buffer>;
}

const XATTR_PREFIX = 'SCHILY.xattr.';

/** Parse `"<len> <key>=<value>\n"` records. Values stay bytes until we know the key. */
export function parsePax(data: Buffer): PaxRecords {
  const text: Record<string, string> = {};
  const xattrs = new Map<string, Buffer>();
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break; // padding some writers leave
    const sp = data.indexOf(0x20, off);
    if (sp === -1 || sp - off > 20) throw corrupt('bad PAX record length');
    const len = Number(data.toString('latin1', off, sp));
    if (!Number.isSafeInteger(len) || len <= sp - off + 1 || off + len > data.length) throw corrupt('bad PAX record length');
    const end = off + len;
    if (data[end - 1] !== 0x0a) throw corrupt('PAX record not newline-terminated');
    const eq = data.indexOf(0x3d, sp + 1);
    if (eq === -1 || eq >= end) throw corrupt('PAX record without "="');
    const key = data.toString('utf8', sp + 1, eq);
    const value = data.subarray(eq + 1, end - 1);
    if (key.startsWith(XATTR_PREFIX)) {
      // copy: the record buffer may be a view into a larger chunk we do not want to keep alive
      xattrs.set(key.slice(XATTR_PREFIX.length), Buffer.from(value));
    } else {
      text[key] = value.toString('utf8');
    }
    off = end;
  }
  return { text, xattrs };
}

/** One PAX record; the length prefix counts itself. */
export function paxRecord(key: string, value: Buffer | string): Buffer {
  const k = Buffer.from(key, 'utf8');
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const base = k.length + v.length + 3; // ' ' '=' '\n'
  let len = base + String(base).length;
  if (String(len).length + base !== len) len = base + String(len).length;
  const out = Buffer.allocUnsafe(len);
  let o = out.write(`${len} `, 0, 'latin1');
  o += k.copy(out, o);
  out[o++] = 0x3d;
  o += v.copy(out, o);
  out[o] = 0x0a;
  return out;
}

export const XATTR_PAX_PREFIX = XATTR_PREFIX;

/** Write `value` as a NUL-terminated octal field of `len` bytes; false when it does not fit. */
export function writeOctal(b: Buffer, off: number, len: number, value: number): boolean {
  if (!Number.isSafeInteger(value) || value < 0) return false;
  const s = value.toString(8);
  if (s.length > len - 1) return false;
  b.write(s.padStart(len - 1, '0'), off, len - 1, 'latin1');
  b[off + len - 1] = 0;
  return true;
}

/** GNU base-256 for numbers octal cannot hold (tar reads both). */
export function writeBase256(b: Buffer, off: number, len: number, value: number): void {
  let v = value;
  for (let i = len - 1; i > 0; i--) {
    b[off + i] = v % 256;
    v = Math.floor(v / 256);
  }
  b[off] = 0x80;
}

export function writeChecksum(b: Buffer): void {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i] as number;
  b.write(sum.toString(8).padStart(6, '0'), 148, 6, 'latin1');
  b[154] = 0;
  b[155] = 0x20;
}
