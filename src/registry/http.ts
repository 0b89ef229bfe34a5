/** Small HTTP helpers the registry handlers share: sending, bounded body reads, Range and Content-Range parsing. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegistryError } from './errors.js';

export type Headers = Record<string, string | number>;

export function send(res: ServerResponse, status: number, headers: Headers = {}, body?: string | Buffer): void {
  const h: Headers = { ...headers };
  if (body !== undefined && h['Content-Length'] === undefined) h['Content-Length'] = Buffer.byteLength(body);
  if (body === undefined && h['Content-Length'] === undefined && status !== 204 && status !== 304) h['Content-Length'] = 0;
  res.writeHead(status, h);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Headers = {}): void {
  const body = JSON.stringify(value);
  send(res, status, { 'Content-Type': 'application/json', ...headers }, body);
}

/** Whether the request carries a body (a length above zero or chunked transfer encoding). */
/** Most bytes read and dropped from an oversized body before the connection is simply closed. */
const DRAIN_MAX = 64 * 1024 * 1024;

export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return Number(len) > 0;
  return /chunked/i.test(req.headers['transfer-encoding'] ?? '');
}

/**
 * The whole body, refused past `max` bytes: from Content-Length before reading when it is declared, else while
 * reading. `tooLarge` builds the error (the caller knows which spec code applies).
 */
export async function readBody(req: IncomingMessage, max: number, tooLarge: () => RegistryError): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const parts: Buffer[] = [];
  let n = 0;
  let over = declared > max;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > max) over = true;
    // Past the limit the rest is read and dropped (up to a bound), so the client gets to read our answer
    // instead of a reset connection; a body far beyond it is cut off.
    if (over && n > DRAIN_MAX) break;
    if (!over) parts.push(chunk as Buffer);
  }
  if (over) throw tooLarge();
  return Buffer.concat(parts);
}

/**
 * Reads and drops what is left of a request body (at most DRAIN_MAX bytes), so that an error answered before the
 * body was read reaches a client that is still sending. False when the body was too large to drain.
 */
export function drain(req: IncomingMessage): Promise<boolean> {
  if (req.complete || req.destroyed) return Promise.resolve(req.complete);
  return new Promise((ok) => {
    let n = 0;
    const done = (v: boolean): void => {
      req.off('data', onData);
      ok(v);
    };
    const onData = (c: Buffer): void => {
      n += c.length;
      if (n > DRAIN_MAX) done(false);
    };
    req.on('data', onData);
    req.once('end', () => done(true));
    req.once('close', () => done(req.complete));
    req.once('error', () => done(false));
    req.resume();
  });
}

/** A chunk's `Content-Range: <start>-<end>` (inclusive; `bytes ` / `bytes=` prefixes tolerated); undefined if absent. */
export function parseContentRange(v: string | undefined): { start: number; end: number } | undefined {
  if (v === undefined || v === '') return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(v.trim());
  if (!m) throw new RegistryError('BLOB_UPLOAD_INVALID', 'malformed Content-Range', { status: 416 });
  return { start: Number(m[1]), end: Number(m[2]) };
}

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/** A single `Range: bytes=a-b | a- | -n` against a blob of `size` bytes; undefined means "send it all". */
export function parseRange(v: string | undefined, size: number): ByteRange {
  if (!v) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(v.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // multi-range or malformed: the whole blob, as RFC 9110 allows
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
