import { spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InvalidArgument } from './errors.js';

export type Detected = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

/** Identify a compressed stream by its magic bytes. */
export function sniff(head: Uint8Array): Detected {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.length >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/** Peek at the first bytes of a stream without losing them. */
export async function peek(src: Readable, n = 8): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let len = 0;
  const it = src[Symbol.asyncIterator]();
  while (len < n) {
    const r = await it.next();
    if (r.done) break;
    const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    chunks.push(c);
    len += c.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value as Buffer;
    }
  }
  return { head, stream: Readable.from(rest(), { objectMode: false, highWaterMark: 1024 * 1024 }) };
}

/** A child process filter (zstd, xz, bzip2 from Debian): C decoders beat any JS port and keep the loop free. */
function viaProcess(cmd: string, args: string[], src: Readable): Readable {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.on('error', (e) => out.destroy(new InvalidArgument(`cannot run ${cmd} to decompress: ${e.message}`)));
  src.on('error', (e) => { child.kill(); out.destroy(e); });
  child.stdin.on('error', () => undefined);
  src.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  let exited: number | null = null;
  let ended = false;
  const finish = (): void => {
    if (exited === null || !ended) return;
    if (exited !== 0) out.destroy(new InvalidArgument(`${cmd} failed to decompress: ${stderr.trim().split('\n')[0] ?? 'exit ' + exited}`));
    else out.end();
  };
  child.stdout.on('end', () => { ended = true; finish(); });
  child.on('exit', (code) => { exited = code ?? 1; finish(); });
  out.on('close', () => { if (exited === null) child.kill(); });
  return out;
}

/** Turn a possibly compressed stream into the plain stream, sniffing the format. */
export async function decompress(src: Readable): Promise<{ kind: Detected; stream: Readable }> {
  const { head, stream } = await peek(src);
  const kind = sniff(head);
  switch (kind) {
    case 'none': return { kind, stream };
    case 'gzip': {
      const gz = createGunzip({ chunkSize: 256 * 1024 });
      stream.on('error', (e) => gz.destroy(e));
      return { kind, stream: stream.pipe(gz) };
    }
    case 'zstd': return { kind, stream: viaProcess('zstd', ['-dcq'], stream) };
    case 'xz': return { kind, stream: viaProcess('xz', ['-dcq'], stream) };
    case 'bzip2': return { kind, stream: viaProcess('bzip2', ['-dcq'], stream) };
  }
}
