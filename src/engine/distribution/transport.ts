import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { InvalidArgument } from '../../lib/errors.js';

export interface SendOptions {
  method: string;
  url: URL;
  headers?: OutgoingHttpHeaders;
  /** Bytes, or a factory so a request can be sent again (auth retry, resume). */
  body?: Buffer | (() => Readable);
  /** Skip TLS certificate checks (insecure registries only). */
  insecureTls?: boolean;
  signal?: AbortSignal;
}

/** Most bytes of a manifest, token or error body held in memory (Docker caps manifests at 4 MiB). */
export const MAX_SMALL_BODY = 4 * 1024 * 1024;

/**
 * Outbound HTTP(S) with keep-alive agents, owned by the registry client (no module singletons). An idle socket
 * for a minute fails the request, so a stalled registry cannot hang a pull forever.
 */
export class Transport {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 32 });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: 32 });
  private readonly httpsInsecure = new HttpsAgent({ keepAlive: true, maxSockets: 32, rejectUnauthorized: false });
  /** Scheme that answered per registry host, so loopback registries are not probed with TLS on every pull. */
  readonly schemes = new Map<string, 'http:' | 'https:'>();

  constructor(readonly idleTimeoutMs = 60_000) {}

  send(o: SendOptions): Promise<IncomingMessage> {
    const isHttps = o.url.protocol === 'https:';
    if (!isHttps && o.url.protocol !== 'http:') return Promise.reject(new InvalidArgument(`unsupported URL scheme ${o.url.protocol}`));
    const headers: OutgoingHttpHeaders = { 'User-Agent': 'peti/0.1 (registry client)', ...o.headers };
    if (Buffer.isBuffer(o.body)) headers['Content-Length'] = String(o.body.length);
    const fn = isHttps ? httpsRequest : httpRequest;
    const agent = isHttps ? (o.insecureTls ? this.httpsInsecure : this.https) : this.http;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = fn(o.url, { method: o.method, headers, agent, signal: o.signal }, (res) => {
        res.setTimeout(this.idleTimeoutMs, () => res.destroy(new Error(`no data from ${o.url.host} for ${this.idleTimeoutMs / 1000} s`)));
        resolve(res);
      });
      req.setTimeout(this.idleTimeoutMs, () => req.destroy(new Error(`timeout talking to ${o.url.host}`)));
      req.on('error', reject);
      if (o.body === undefined) req.end();
      else if (Buffer.isBuffer(o.body)) req.end(o.body);
      else {
        const src = o.body();
        src.on('error', (e) => req.destroy(e));
        src.pipe(req);
      }
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
    this.httpsInsecure.destroy();
  }
}

/** Read a whole (small) body; refuses more than `cap` bytes. */
export async function readBody(res: IncomingMessage, cap = MAX_SMALL_BODY): Promise<Buffer> {
  const len = Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(len) && len > cap) {
    res.destroy();
    throw new InvalidArgument(`registry response of ${len} bytes exceeds the limit of ${cap} bytes`);
  }
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > cap) {
      res.destroy();
      throw new InvalidArgument(`registry response exceeds the limit of ${cap} bytes`);
    }
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

/** Throw away a body we do not need, keeping the socket reusable. */
export function drain(res: IncomingMessage): void {
  res.resume();
}
