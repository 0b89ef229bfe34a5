/**
 * Streaming tar reader: ustar, PAX ('x' and 'g'), GNU long names ('L'/'K'), base-256 numbers.
 *
 * Written here (not tar-stream) because PAX values must stay bytes: tar-stream decodes them as UTF-8 and so
 * corrupts binary xattrs such as security.capability. Bodies are handed out as views of the source chunks, never
 * copied; a body the caller does not read is skipped before the next entry.
 */
import { InvalidArgument } from '../errors.js';
import { corrupt, isZeroBlock, parsePax, parseRawHeader, typeOf, type RawHeader } from './header.js';
import { BLOCK, type TarHeader } from './types.js';

export interface TarReadOptions {
  /** Largest PAX ('x'/'g') or GNU long-name ('L'/'K') payload accepted. Default 1 MiB. */
  maxMetaSize?: number;
  /** Read the source to its end after the end-of-archive marker (so a hash of the stream covers it). Default true. */
  drain?: boolean;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's data; iterate it at most once. Unread data is skipped when the next entry is requested. */
  body: AsyncIterable<Buffer>;
}

export type TarSource = AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array>;

const DEFAULT_META = 1024 * 1024;

function unsafe(msg: string): InvalidArgument {
  return new InvalidArgument(msg, { code: 'PETI_ERR_UNSAFE_ARCHIVE' });
}

class ChunkSource {
  private readonly it: AsyncIterator<Buffer | Uint8Array | string> | Iterator<Buffer | Uint8Array | string>;
  private cur: Buffer = Buffer.alloc(0);
  private pos = 0;
  private done = false;

  constructor(src: TarSource) {
    this.it = Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : src[Symbol.iterator]();
  }

  /** Make at least one unread byte available; false at EOF. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.cur.length) {
      if (this.done) return false;
      const r = await this.it.next();
      if (r.done === true) {
        this.done = true;
        return false;
      }
      const v = r.value;
      this.cur = typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.pos = 0;
    }
    return true;
  }

  /** Exactly n bytes (a view when they sit in one chunk), or fewer only at EOF. */
  async read(n: number): Promise<Buffer> {
    if (!(await this.fill())) return Buffer.alloc(0);
    if (this.cur.length - this.pos >= n) {
      const out = this.cur.subarray(this.pos, this.pos + n);
      this.pos += n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n && (await this.fill())) {
      const take = Math.min(n - got, this.cur.length - this.pos);
      this.cur.copy(out, got, this.pos, this.pos + take);
      this.pos += take;
      got += take;
    }
    return got === n ? out : out.subarray(0, got);
  }

  /** Up to n bytes as a view of the current chunk; empty at EOF. */
  async readSome(n: number): Promise<Buffer> {
    if (!(await this.fill())) return Buffer.alloc(0);
    const take = Math.min(n, this.cur.length - this.pos);
    const out = this.cur.subarray(this.pos, this.pos + take);
    this.pos += take;
    return out;
  }

  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) return false;
      const take = Math.min(left, this.cur.length - this.pos);
      this.pos += take;
      left -= take;
    }
    return true;
  }

  async drain(): Promise<void> {
    this.pos = this.cur.length;
    while (await this.fill()) this.pos = this.cur.length;
  }

  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.it.return?.();
    }
  }
}

function decodeName(b: Buffer): string {
  return b.toString('utf8');
}

function padOf(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

function paxNumber(v: string | undefined, key: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw corrupt(`bad PAX ${key}`);
  return n;
}

/** Iterate the entries of an uncompressed tar stream. */
export async function* readTar(
  source: TarSource,
  opts: TarReadOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const maxMeta = opts.maxMetaSize ?? DEFAULT_META;
  const src = new ChunkSource(source);
  let globalPax: Record<string, string> = {};
  let globalXattrs = new Map<string, Buffer>();
  try {
    for (;;) {
      let localPax: Record<string, string> | undefined;
      let localXattrs: Map<string, Buffer> | undefined;
      let longName: Buffer | undefined;
      let longLink: Buffer | undefined;
      let raw: RawHeader;
      // meta headers (PAX, GNU long names) apply to the next real header
      for (;;) {
        const block = await src.read(BLOCK);
        if (block.length === 0) {
          if (localPax !== undefined || longName !== undefined || longLink !== undefined) throw corrupt('unexpected end of archive');
          return; // EOF without the zero blocks: Docker accepts this, so do we
        }
        if (block.length < BLOCK) throw corrupt('unexpected end of archive');
        if (isZeroBlock(block)) {
          if (opts.drain !== false) await src.drain();
          return;
        }
        raw = parseRawHeader(block);
        const f = raw.typeflag;
        if (f !== 'x' && f !== 'g' && f !== 'L' && f !== 'K') break;
        if (raw.size > maxMeta) throw unsafe(`tar ${f} header of ${raw.size} bytes exceeds the ${maxMeta}-byte limit`);
        const data = await src.read(raw.size);
        if (data.length < raw.size || !(await src.skip(padOf(raw.size)))) throw corrupt('unexpected end of archive');
        if (f === 'L' || f === 'K') {
          const nul = data.indexOf(0);
          const v = Buffer.from(nul === -1 ? data : data.subarray(0, nul));
          if (f === 'L') longName = v;
          else longLink = v;
        } else {
          const rec = parsePax(data);
          if (f === 'g') {
            globalPax = { ...globalPax, ...rec.text };
            globalXattrs = new Map([...globalXattrs, ...rec.xattrs]);
          } else {
            localPax = { ...localPax, ...rec.text };
            localXattrs = new Map([...(localXattrs ?? []), ...rec.xattrs]);
          }
        }
      }
      const pax = localPax === undefined ? { ...globalPax } : { ...globalPax, ...localPax };
      const xattrs = localXattrs === undefined ? new Map(globalXattrs) : new Map([...globalXattrs, ...localXattrs]);

      let name: string;
      if (pax.path !== undefined) name = pax.path;
      else if (longName !== undefined) name = decodeName(longName);
      else if (raw.prefix !== undefined) name = `${decodeName(raw.prefix)}/${decodeName(raw.name)}`;
      else name = decodeName(raw.name);
      const linkname = pax.linkpath ?? (longLink !== undefined ? decodeName(longLink) : decodeName(raw.linkname));

      let type = typeOf(raw.typeflag);
      if (type === 'contiguous') type = 'file';
      // old V7 archives mark directories only by the trailing slash
      if (type === 'file' && raw.typeflag === '0' && name.endsWith('/')) type = 'dir';

      const size = paxNumber(pax.size, 'size') ?? raw.size;
      if (!Number.isSafeInteger(size) || size < 0) throw corrupt('bad entry size');
      const header: TarHeader = {
        name,
        type,
        mode: raw.mode & 0o7777,
        uid: paxNumber(pax.uid, 'uid') ?? raw.uid,
        gid: paxNumber(pax.gid, 'gid') ?? raw.gid,
        uname: pax.uname ?? raw.uname,
        gname: pax.gname ?? raw.gname,
        size,
        mtime: paxNumber(pax.mtime, 'mtime') ?? raw.mtime,
        linkname,
        devmajor: raw.devmajor,
        devminor: raw.devminor,
        xattrs,
        pax,
        typeflag: raw.typeflag,
      };
      // only regular files (and unknown types, which we skip) carry data; tar writers put 0 elsewhere
      const dataSize = type === 'file' || type === 'unknown' ? size : 0;
      let left = dataSize;
      let started = false;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: async function* () {
          if (started) throw new Error('tar entry body read twice');
          started = true;
          while (left > 0) {
            const chunk = await src.readSome(left);
            if (chunk.length === 0) throw corrupt('unexpected end of archive');
            left -= chunk.length;
            yield chunk;
          }
        },
      };
      yield { header, body };
      if (left > 0 && !(await src.skip(left))) throw corrupt('unexpected end of archive');
      left = 0;
      started = true;
      if (!(await src.skip(padOf(dataSize)))) throw corrupt('unexpected end of archive');
    }
  } finally {
    await src.close();
  }
}
