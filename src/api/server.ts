import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { rememberHead } from './stream/hijack.js';
import { randomBytes } from 'node:crypto';
import { InvalidArgument, NotFound, PetiError, statusOf, messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { Router, compareVersions, type Route } from './router.js';

export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';

export interface ApiServerOptions {
  log: Logger;
  routes: readonly Route[];
  serverHeader: string;
}

/** Headers Docker sends on every response; clients read Api-Version from the ping to negotiate. */
function baseHeaders(res: ServerResponse, serverHeader: string): void {
  res.setHeader('Api-Version', API_VERSION);
  res.setHeader('Docker-Experimental', 'false');
  res.setHeader('Ostype', 'linux');
  res.setHeader('Server', serverHeader);
}

/** The one place an error becomes an HTTP response: status from the class, Docker's `{"message"}` body. */
export function writeError(res: ServerResponse, err: unknown, log: Logger): void {
  const status = statusOf(err);
  const message = messageOf(err);
  if (status >= 500) log.error('request failed', { status, err: message, stack: err instanceof Error && !(err instanceof PetiError) ? err.stack : undefined });
  else log.debug('request refused', { status, err: message });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ message });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function createApiServer(opts: ApiServerOptions): Server {
  const router = new Router();
  router.add(opts.routes);
  const server = createServer({ keepAlive: true, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    void handle(req, res);
  });

  // Attach and exec start arrive as `Connection: Upgrade` requests; they go through the same routes, with a
  // response bound to the raw socket so errors before the hijack are still ordinary HTTP answers.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    rememberHead(req, head);
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.on('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reqId = randomBytes(4).toString('hex');
    const log = opts.log.child({ req: reqId });
    baseHeaders(res, opts.serverHeader);
    const url = new URL(req.url ?? '/', 'http://peti');
    let path = url.pathname.replace(/\/+$/, '') || '/';
    let version = API_VERSION;
    const vm = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
    if (vm) {
      version = vm[1]!;
      path = vm[2]!;
    }
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    log.debug('request', { method: req.method, path: url.pathname });
    try {
      if (vm && compareVersions(version, API_VERSION) > 0) {
        throw new InvalidArgument(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
      }
      if (vm && compareVersions(version, MIN_API_VERSION) < 0) {
        throw new InvalidArgument(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
      const m = router.match(req.method ?? 'GET', path);
      if (m === undefined || m === 'methodMismatch') {
        throw new NotFound(m === undefined ? 'page not found' : `method ${req.method} not allowed on ${path}`);
      }
      if (m.route.minVersion && compareVersions(version, m.route.minVersion) < 0) {
        throw new NotFound(`page not found (needs API version ${m.route.minVersion})`);
      }
      await m.route.handler({ req, res, params: m.params, query: url.searchParams, version, log, signal: ac.signal });
    } catch (err) {
      writeError(res, err, log);
    }
  }
  return server;
}

/** Send a JSON body with a status. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** Read a JSON request body, capped. Empty body gives `dflt`. */
export async function readJsonBody<T>(req: IncomingMessage, dflt: T, max = 4 * 1024 * 1024): Promise<T> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw new InvalidArgument(`request body larger than ${max} bytes`);
    parts.push(c as Buffer);
  }
  if (n === 0) return dflt;
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as T;
  } catch (e) {
    throw new InvalidArgument(`invalid JSON body: ${messageOf(e)}`);
  }
}
