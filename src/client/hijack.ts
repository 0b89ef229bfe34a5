/**
 * Hijacked streams of the Engine API (attach, exec start): the request asks for `Upgrade: tcp`, the daemon answers
 * `101 UPGRADED` and the connection then carries the container's stdio both ways. A plain `200` stream (older
 * servers, proxies) is accepted too; it is read-only.
 */
import { request, type IncomingMessage } from 'node:http';
import { Duplex, PassThrough, Writable, type Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { errorFromStatus, Unavailable } from '../lib/errors.js';
import type { EngineClient, RequestOptions } from './client.js';

export interface HijackedStream {
  /** Output from the container; stdin written here (unless `writable` is false). */
  socket: Duplex;
  /** False for a plain 200 answer: nothing can be sent after the request. */
  writable: boolean;
  contentType: string;
}

function qs(q: RequestOptions['query']): string {
  if (!q) return '';
  const p = new URLSearchParams();
  // Sorted like Go's url.Values.Encode, so request logs read the same as the docker CLI's.
  for (const [k, v] of Object.entries(q).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

async function readBody(r: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/**
 * POST `path` asking to upgrade the connection, with an optional JSON body (exec start). Resolves with the socket
 * once the daemon answered 101 (or 200); error statuses are thrown as lib/errors classes.
 */
export function hijack(client: EngineClient, path: string, opts: Pick<RequestOptions, 'query' | 'body'> = {}): Promise<HijackedStream> {
  const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp' };
  let payload: Buffer | undefined;
  if (opts.body !== undefined) {
    payload = Buffer.from(JSON.stringify(opts.body));
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(payload.length);
  }
  return new Promise<HijackedStream>((resolve, reject) => {
    const req = request({ socketPath: client.socketPath, method: 'POST', path: `/v1.50${path}${qs(opts.query)}`, headers, agent: false });
    req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      // The daemon may have sent output in the same packet as the 101 head: put it back in front.
      if (head.length) socket.unshift(head);
      socket.setNoDelay(true);
      resolve({ socket, writable: true, contentType: String(res.headers['content-type'] ?? '') });
    });
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 500;
      if (status >= 400) {
        readBody(res).then((text) => {
          let message = text.trim();
          try {
            message = (JSON.parse(message) as { message?: string }).message ?? message;
          } catch {
            // not JSON: keep the text
          }
          reject(errorFromStatus(status, message));
        }, reject);
        return;
      }
      // A plain stream: readable output, stdin has nowhere to go.
      const sink = new Writable({ write: (_c, _e, cb) => cb() });
      const out = new PassThrough();
      res.pipe(out);
      resolve({ socket: Duplex.from({ readable: out, writable: sink }), writable: false, contentType: String(res.headers['content-type'] ?? '') });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES') {
        reject(new Unavailable(`Cannot connect to the Peti daemon at unix://${client.socketPath}. Is petid running?`, { cause: e }));
      } else reject(e);
    });
    req.end(payload);
  });
}

export interface DemuxSinks {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Stream 3: an error the daemon reports inside the stream. */
  onError?(text: string): void;
}

/**
 * Docker's stdcopy: split `[stream, 0, 0, 0, size uint32 BE] + payload` frames into stdout/stderr. Feed chunks as
 * they arrive; partial frames are kept until the rest comes.
 */
export class StdcopyDemuxer {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly sinks: DemuxSinks) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const stream = this.buf[0];
      const data = this.buf.subarray(8, 8 + size);
      this.buf = this.buf.subarray(8 + size);
      if (stream === 0 || stream === 1) this.sinks.stdout.write(data);
      else if (stream === 2) this.sinks.stderr.write(data);
      else if (stream === 3) this.sinks.onError?.(data.toString('utf8'));
      else throw new Error(`Unrecognized input header: ${stream}`);
    }
  }

  /** Bytes of an unfinished frame left when the stream ended. */
  get pending(): number {
    return this.buf.length;
  }
}

/**
 * Copy the daemon's output to the sinks (raw for TTY, demultiplexed otherwise). Resolves when the daemon closes its
 * side; rejects on a stream-3 error frame after the output has been written.
 */
export function copyOutput(socket: Readable, tty: boolean, sinks: DemuxSinks): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let error: string | undefined;
    const demux = tty ? undefined : new StdcopyDemuxer({ ...sinks, onError: (t) => { error = (error ?? '') + t; } });
    socket.on('data', (d: Buffer) => {
      try {
        if (demux) demux.push(d);
        else sinks.stdout.write(d);
      } catch (e) {
        socket.destroy();
        reject(e);
      }
    });
    const done = (): void => {
      if (error !== undefined) reject(new Error(error.trim()));
      else resolve();
    };
    socket.once('end', done);
    socket.once('close', done);
    socket.once('error', (e: NodeJS.ErrnoException) => {
      // The daemon resetting after the stream is over is not an error worth reporting.
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') done();
      else reject(e);
    });
  });
}

/**
 * Forward `stdin` to the daemon; at its end half-close the connection (`socket.end()`) so the container sees EOF
 * while its output keeps flowing back. Returns a function that stops forwarding.
 */
export function forwardStdin(stdin: NodeJS.ReadableStream, socket: Duplex, onData?: (d: Buffer) => Buffer | undefined): () => void {
  const onChunk = (d: Buffer | string): void => {
    const b = typeof d === 'string' ? Buffer.from(d) : d;
    const out = onData ? onData(b) : b;
    if (out?.length && !socket.destroyed && socket.writable) socket.write(out);
  };
  const onEnd = (): void => {
    if (!socket.destroyed && socket.writable) socket.end();
  };
  stdin.on('data', onChunk);
  stdin.once('end', onEnd);
  stdin.resume();
  return () => {
    stdin.off('data', onChunk);
    stdin.off('end', onEnd);
    stdin.pause();
  };
}
