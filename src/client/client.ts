import { request, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { errorFromStatus, Unavailable } from '../lib/errors.js';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | string[] | undefined>;
  body?: unknown;
  /** A stream or bytes sent as-is (tar bodies). */
  raw?: Readable | Buffer;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Where the daemon listens: -H, then PETI_HOST, then DOCKER_HOST, then the default socket. */
export function resolveHost(flag?: string): string {
  return flag || process.env.PETI_HOST || process.env.DOCKER_HOST || 'unix:///run/peti/peti.sock';
}

function qs(q: RequestOptions['query']): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** A typed Docker Engine API client over the unix socket; errors come back as the lib/errors classes. */
export class EngineClient {
  readonly socketPath: string;
  constructor(host: string) {
    if (!host.startsWith('unix://')) throw new Unavailable(`unsupported host ${host}: only unix:// is supported`);
    this.socketPath = host.slice('unix://'.length);
  }

  /** Send a request and return the response once its headers arrive; non-2xx become thrown errors. */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const headers: Record<string, string> = { ...opts.headers };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    } else if (Buffer.isBuffer(opts.raw)) {
      payload = opts.raw;
      headers['Content-Length'] = String(payload.length);
    }
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      // No keep-alive pool: a pooled unix-socket connection the daemon closed while idle fails with EPIPE, and a
      // fresh connection costs microseconds here.
      const req = request({ socketPath: this.socketPath, method, path: `/v1.50${path}${qs(opts.query)}`, headers, signal: opts.signal, agent: false }, resolve);
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES') {
          reject(new Unavailable(`Cannot connect to the Peti daemon at unix://${this.socketPath}. Is petid running?`, { cause: e }));
        } else reject(e);
      });
      if (opts.raw && !Buffer.isBuffer(opts.raw)) {
        opts.raw.on('error', (e) => req.destroy(e));
        opts.raw.pipe(req);
      } else req.end(payload);
    });
    if ((res.statusCode ?? 500) >= 400) {
      const text = await readAll(res);
      let message = text.toString('utf8').trim();
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw errorFromStatus(res.statusCode ?? 500, message);
    }
    return res;
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    const buf = await readAll(res);
    return (buf.length ? JSON.parse(buf.toString('utf8')) : undefined) as T;
  }

  /** Iterate a newline-delimited JSON stream; an in-stream `error` line is thrown. */
  async *jsonLines<T extends object>(res: IncomingMessage): AsyncGenerator<T, void, undefined> {
    let rest = '';
    for await (const chunk of res) {
      rest += (chunk as Buffer).toString('utf8');
      let i: number;
      while ((i = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, i).trim();
        rest = rest.slice(i + 1);
        if (!line) continue;
        const obj = JSON.parse(line) as T & { error?: string };
        if (obj.error) throw errorFromStatus(500, obj.error);
        yield obj as T;
      }
    }
    if (rest.trim()) {
      const obj = JSON.parse(rest) as T & { error?: string };
      if (obj.error) throw errorFromStatus(500, obj.error);
      yield obj as T;
    }
  }
}

export async function readAll(r: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
