/**
 * Streaming tar writer: ustar headers, PAX records when a field does not fit (long or non-ASCII names, big
 * numbers, fractional mtimes) and for xattrs (raw bytes, as GNU tar's SCHILY.xattr.*). Output is a Readable with
 * backpressure: `add` waits while the consumer is behind.
 */
import { Readable } from 'node:stream';
import { InvalidArgument } from '../errors.js';
import { flagOf, paxRecord, writeBase256, writeChecksum, writeOctal, XATTR_PAX_PREFIX } from './header.js';
import { BLOCK, type TarWriteHeader } from './types.js';

export type TarBody = Buffer | Uint8Array | AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>;

const ZERO = Buffer.alloc(BLOCK * 2);
const MAX_OCTAL_12 = 0o77777777777;
const MAX_OCTAL_8 = 0o7777777;

function isAscii(s: string): boolean {
  // eslint-style regex; control characters are allowed by ustar but keep them in PAX to be safe with readers
  return /^[\x20-\x7e]*$/.test(s);
}

/** Split a path into ustar prefix (≤155) and name (≤100) at a '/', or undefined when impossible. */
function splitUstar(path: string): [string, string] | undefined {
  if (path.length <= 100) return ['', path];
  if (path.length > 256) return undefined;
  let i = path.indexOf('/', path.length - 101 < 0 ? 0 : path.length - 101);
  while (i !== -1) {
    if (i <= 155 && path.length - i - 1 <= 100 && i > 0) return [path.slice(0, i), path.slice(i + 1)];
    if (i > 155) return undefined;
    i = path.indexOf('/', i + 1);
  }
  return undefined;
}

function toSeconds(m: number | Date | undefined): number {
  if (m === undefined) return 0;
  return m instanceof Date ? m.getTime() / 1000 : m;
}

function fmtSeconds(s: number): string {
  if (Number.isInteger(s)) return String(s);
  // 9 decimals at most, trailing zeros dropped
  return s.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
}

/** Encode the header block(s) of one entry: optional PAX 'x' header + its data, then the ustar header. */
export function encodeHeader(h: TarWriteHeader): Buffer {
  const type = h.type;
  const size = type === 'file' ? h.size ?? 0 : 0;
  if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgument(`bad tar entry size ${size}`);
  let name = h.name;
  if (type === 'dir' && !name.endsWith('/')) name += '/';
  const linkname = h.linkname ?? '';
  const mode = (h.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644)) & 0o7777;
  const uid = h.uid ?? 0;
  const gid = h.gid ?? 0;
  const uname = h.uname ?? '';
  const gname = h.gname ?? '';
  const mtime = toSeconds(h.mtime);

  const pax: Buffer[] = [];
  const b = Buffer.alloc(BLOCK);
  const split = isAscii(name) ? splitUstar(name) : undefined;
  if (split === undefined) {
    pax.push(paxRecord('path', name));
    b.write(Buffer.from(name, 'utf8').subarray(0, 99).toString('latin1'), 0, 100, 'latin1');
  } else {
    b.write(split[1], 0, 100, 'latin1');
    b.write(split[0], 345, 155, 'latin1');
  }
  writeOctal(b, 100, 8, mode);
  if (!writeOctal(b, 108, 8, uid)) {
    pax.push(paxRecord('uid', String(uid)));
    writeOctal(b, 108, 8, 0);
  }
  if (!writeOctal(b, 116, 8, gid)) {
    pax.push(paxRecord('gid', String(gid)));
    writeOctal(b, 116, 8, 0);
  }
  if (size > MAX_OCTAL_12) {
    pax.push(paxRecord('size', String(size)));
    writeBase256(b, 124, 12, size);
  } else writeOctal(b, 124, 12, size);
  const whole = Math.floor(mtime);
  if (whole !== mtime || whole < 0 || whole > MAX_OCTAL_12) {
    pax.push(paxRecord('mtime', fmtSeconds(mtime)));
    writeOctal(b, 136, 12, Math.min(Math.max(whole, 0), MAX_OCTAL_12));
  } else writeOctal(b, 136, 12, whole);
  b[156] = flagOf(type).charCodeAt(0);
  if (linkname.length > 100 || !isAscii(linkname)) {
    pax.push(paxRecord('linkpath', linkname));
  } else b.write(linkname, 157, 100, 'latin1');
  b.write('ustar\x0000', 257, 8, 'latin1');
  if (Buffer.byteLength(uname) > 31 || !isAscii(uname)) pax.push(paxRecord('uname', uname));
  else b.write(uname, 265, 32, 'latin1');
  if (Buffer.byteLength(gname) > 31 || !isAscii(gname)) pax.push(paxRecord('gname', gname));
  else b.write(gname, 297, 32, 'latin1');
  for (const [off, v, key] of [[329, h.devmajor ?? 0, 'devmajor'], [337, h.devminor ?? 0, 'devminor']] as const) {
    if (!writeOctal(b, off, 8, v)) {
      if (v > MAX_OCTAL_8 && Number.isSafeInteger(v)) writeBase256(b, off, 8, v);
      else throw new InvalidArgument(`bad tar ${key} ${v}`);
    }
  }
  if (h.xattrs !== undefined) {
    const entries = h.xattrs instanceof Map ? [...h.xattrs] : Object.entries(h.xattrs);
    for (const [k, v] of entries) pax.push(paxRecord(XATTR_PAX_PREFIX + k, v));
  }
  if (h.pax !== undefined) for (const [k, v] of Object.entries(h.pax)) pax.push(paxRecord(k, v));
  writeChecksum(b);
  if (pax.length === 0) return b;

  const data = Buffer.concat(pax);
  const ph = Buffer.alloc(BLOCK);
  const base = name.replace(/\/+$/, '').split('/').pop() ?? '';
  ph.write(`PaxHeaders.0/${Buffer.from(base, 'utf8').subarray(0, 80).toString('latin1')}`, 0, 100, 'latin1');
  writeOctal(ph, 100, 8, 0o644);
  writeOctal(ph, 108, 8, 0);
  writeOctal(ph, 116, 8, 0);
  writeOctal(ph, 124, 12, data.length);
  writeOctal(ph, 136, 12, Math.min(Math.max(whole, 0), MAX_OCTAL_12));
  ph[156] = 0x78; // 'x'
  ph.write('ustar\x0000', 257, 8, 'latin1');
  writeChecksum(ph);
  const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return Buffer.concat([ph, data, Buffer.alloc(pad), b]);
}

/** Writes entries one at a time into `stream`. Call `finalize()` once after the last `add`. */
export class TarWriter {
  readonly stream: Readable;
  private wake: (() => void) | undefined;
  private failed: Error | undefined;
  private busy = false;
  private finished = false;

  constructor(opts: { highWaterMark?: number } = {}) {
    this.stream = new Readable({
      highWaterMark: opts.highWaterMark ?? 1024 * 1024,
      read: () => this.resume(),
      destroy: (err, cb) => {
        this.failed = err ?? new Error('tar output stream destroyed');
        this.resume();
        cb(err);
      },
    });
  }

  private resume(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async push(chunk: Buffer): Promise<void> {
    if (this.failed !== undefined) throw this.failed;
    if (!this.stream.push(chunk)) {
      await new Promise<void>((resolve) => { this.wake = resolve; });
      if (this.failed !== undefined) throw this.failed;
    }
  }

  /** Append one entry. For files, the body must be exactly `size` bytes. Entries must be added one after another. */
  async add(header: TarWriteHeader, body?: TarBody): Promise<void> {
    if (this.busy) throw new Error('TarWriter.add called while another add is in progress');
    if (this.finished) throw new Error('TarWriter.add after finalize');
    this.busy = true;
    try {
      const size = header.type === 'file' ? header.size ?? (body instanceof Uint8Array ? body.length : 0) : 0;
      await this.push(encodeHeader({ ...header, size }));
      let written = 0;
      if (size > 0 || body !== undefined) {
        if (body instanceof Uint8Array) {
          written = body.length;
          if (written !== size) throw new InvalidArgument(`tar entry ${header.name}: body is ${written} bytes, header says ${size}`);
          if (written > 0) await this.push(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
        } else if (body !== undefined) {
          for await (const c of body as AsyncIterable<Buffer | Uint8Array>) {
            const buf = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
            written += buf.length;
            if (written > size) throw new InvalidArgument(`tar entry ${header.name}: body is longer than ${size} bytes`);
            if (buf.length > 0) await this.push(buf);
          }
        }
        if (written !== size) throw new InvalidArgument(`tar entry ${header.name}: body is ${written} bytes, header says ${size}`);
        const pad = (BLOCK - (size % BLOCK)) % BLOCK;
        if (pad > 0) await this.push(ZERO.subarray(0, pad));
      }
    } catch (e) {
      if (this.failed === undefined) this.stream.destroy(e as Error);
      throw e;
    } finally {
      this.busy = false;
    }
  }

  /** Write the end-of-archive marker (two zero blocks) and end the stream. */
  async finalize(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.push(ZERO);
    this.stream.push(null);
  }

  /** Abort: the stream errors with `err`. */
  destroy(err: Error): void {
    this.stream.destroy(err);
  }
}
