import type { Duplex } from 'node:stream';
import type { Ctx } from '../router.js';
import { InvalidArgument } from '../../lib/errors.js';

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

/** Bytes the client sent after the request head (Node hands them over with the upgrade event). */
const heads = new WeakMap<object, Buffer>();
export function rememberHead(req: object, head: Buffer): void {
  heads.set(req, head);
}

export interface Hijacked {
  socket: Duplex;
  /** Bytes already read past the request body: the start of stdin. */
  leftover: Buffer;
}

/** Read the request body off an upgraded socket (Content-Length or chunked, as dockerode sends exec bodies). */
export async function readUpgradeBody(ctx: Ctx, max = 1024 * 1024): Promise<{ body: Buffer; leftover: Buffer }> {
  const socket = ctx.req.socket;
  let buf: Buffer = heads.get(ctx.req) ?? Buffer.alloc(0);
  const more = (): Promise<void> => new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => { cleanup(); buf = Buffer.concat([buf, d]); resolve(); };
    const onEnd = (): void => { cleanup(); reject(new InvalidArgument('connection closed while reading the request body')); };
    const cleanup = (): void => { socket.off('data', onData); socket.off('end', onEnd); socket.off('error', onEnd); socket.pause(); };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
    socket.resume();
  });
  const len = ctx.req.headers['content-length'];
  if (len !== undefined) {
    const n = Number(len);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new InvalidArgument('invalid Content-Length');
    while (buf.length < n) await more();
    return { body: buf.subarray(0, n), leftover: buf.subarray(n) };
  }
  if (/chunked/i.test(String(ctx.req.headers['transfer-encoding'] ?? ''))) {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      let i: number;
      while ((i = buf.indexOf('\r\n')) < 0) await more();
      const size = parseInt(buf.subarray(0, i).toString('latin1').split(';')[0]!, 16);
      if (!Number.isInteger(size) || size < 0) throw new InvalidArgument('invalid chunked body');
      total += size;
      if (total > max) throw new InvalidArgument('request body too large');
      while (buf.length < i + 2 + size + 2) await more();
      if (size === 0) return { body: Buffer.concat(parts), leftover: buf.subarray(i + 4) };
      parts.push(buf.subarray(i + 2, i + 2 + size));
      buf = buf.subarray(i + 2 + size + 2);
    }
  }
  return { body: Buffer.alloc(0), leftover: buf };
}

/**
 * Take over the connection as Docker does: `101 UPGRADED` for upgrade requests (what the docker CLI sends), a plain
 * `200 OK` stream otherwise. After this the socket carries the raw or multiplexed stream both ways.
 */
export function hijack(ctx: Ctx, mediaType: string, leftover: Buffer = Buffer.alloc(0)): Hijacked {
  const socket = ctx.req.socket;
  const upgrade = typeof ctx.req.headers.upgrade === 'string';
  if (upgrade) {
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${mediaType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: 1.50\r\n\r\n`);
  } else {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${mediaType}\r\nConnection: close\r\nApi-Version: 1.50\r\n\r\n`);
  }
  socket.setNoDelay?.(true);
  const head = upgrade ? heads.get(ctx.req) : undefined;
  return { socket, leftover: leftover.length ? leftover : head ?? Buffer.alloc(0) };
}
