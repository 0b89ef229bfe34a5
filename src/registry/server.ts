/**
 * The registry's HTTP(S) server: one route table, authorization before any handler runs, and the single place
 * that turns thrown errors into the spec's JSON error responses.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../lib/log.js';
import type { Action, Authorizer, Need } from './auth.js';
import { cancelUpload, deleteBlob, getBlob, patchUpload, putUpload, startUpload, uploadStatus } from './blobs.js';
import { RegistryError, errorBody } from './errors.js';
import { drain, send, sendJson } from './http.js';
import { listCatalog, listReferrers, listTags } from './listing.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { checkRepositoryName } from './names.js';
import { RegistryStorage } from './storage.js';
import type { TokenService } from './token-service.js';
import type { RepoRequest } from './types.js';
import { UploadSessions } from './uploads.js';

type Handler = (r: RepoRequest) => Promise<void>;

interface Route {
  re: RegExp;
  methods: Partial<Record<string, { action: Action; run: Handler }>>;
}

const pull = (run: Handler): { action: Action; run: Handler } => ({ action: 'pull', run });
const push = (run: Handler): { action: Action; run: Handler } => ({ action: 'push', run });
const del = (run: Handler): { action: Action; run: Handler } => ({ action: 'delete', run });

// The name is greedy so that a repository such as `a/blobs` still routes; it is checked against the grammar next.
const ROUTES: Route[] = [
  { re: /^\/v2\/(.+)\/blobs\/uploads\/?$/, methods: { POST: push(startUpload) } },
  { re: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, methods: { GET: push(uploadStatus), PATCH: push(patchUpload), PUT: push(putUpload), DELETE: push(cancelUpload) } },
  { re: /^\/v2\/(.+)\/blobs\/([^/]+)$/, methods: { GET: pull(getBlob), HEAD: pull(getBlob), DELETE: del(deleteBlob) } },
  { re: /^\/v2\/(.+)\/manifests\/([^/]+)$/, methods: { GET: pull(getManifest), HEAD: pull(getManifest), PUT: push(putManifest), DELETE: del(deleteManifest) } },
  { re: /^\/v2\/(.+)\/tags\/list$/, methods: { GET: pull(listTags) } },
  { re: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: { GET: pull(listReferrers) } },
];

export interface RegistryServerOptions {
  root: string;
  authorizer: Authorizer;
  tokens?: TokenService;
  log: Logger;
  tls?: { cert: Buffer; key: Buffer };
  maxUploads?: number;
}

export interface RunningRegistry {
  server: Server;
  url: string;
  close(): Promise<void>;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const UNSUPPORTED_METHOD = (): RegistryError => new RegistryError('UNSUPPORTED', 'the operation is unsupported');
const NOT_FOUND = (): RegistryError => new RegistryError('NAME_UNKNOWN', 'no such endpoint', { status: 404 });

export class RegistryApp {
  readonly store: RegistryStorage;
  readonly uploads: UploadSessions;
  private readonly opts: RegistryServerOptions;

  constructor(opts: RegistryServerOptions) {
    this.opts = opts;
    this.store = new RegistryStorage(opts.root);
    this.uploads = new UploadSessions({ dir: join(opts.root, 'uploads'), content: this.store.content, maxSessions: opts.maxUploads ?? 1000 });
  }

  async init(): Promise<void> {
    await this.store.init();
    await this.uploads.init();
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    // The raw path, never normalised: `..` must reach the name check, not be resolved away.
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    this.route(req, res, path, query).then(
      () => this.opts.log.debug('request', { method: req.method, path, status: res.statusCode, ms: Date.now() - started }),
      (e: unknown) => this.fail(req, res, path, e),
    );
  };

  private async route(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const method = req.method ?? 'GET';
    const auth = req.headers.authorization;
    if (path === '/token' && this.opts.tokens) {
      if (method !== 'GET') throw UNSUPPORTED_METHOD();
      sendJson(res, 200, await this.opts.tokens.issue(auth, query));
      return;
    }
    if (path === '/v2' || path === '/v2/') {
      if (method !== 'GET' && method !== 'HEAD') throw UNSUPPORTED_METHOD();
      await this.opts.authorizer.authorize(auth, { kind: 'base' });
      sendJson(res, 200, {});
      return;
    }
    if (path === '/v2/_catalog') {
      if (method !== 'GET') throw UNSUPPORTED_METHOD();
      await this.opts.authorizer.authorize(auth, { kind: 'catalog' });
      await listCatalog(res, this.store, query);
      return;
    }
    for (const route of ROUTES) {
      const m = route.re.exec(path);
      if (!m) continue;
      const name = checkRepositoryName(m[1]!);
      const target = route.methods[method];
      if (!target) throw UNSUPPORTED_METHOD();
      const need: Need = { kind: 'repo', name, action: target.action };
      const grant = await this.opts.authorizer.authorize(auth, need);
      const log = this.opts.log;
      await target.run({ req, res, name, ref: decode(m[2] ?? ''), query, grant, store: this.store, uploads: this.uploads, log });
      return;
    }
    throw NOT_FOUND();
  }

  private fail(req: IncomingMessage, res: ServerResponse, path: string, e: unknown): void {
    const log = this.opts.log;
    if (res.headersSent) {
      log.error('request failed after the response started', { method: req.method, path, error: e });
      res.destroy();
      return;
    }
    let err: RegistryError;
    if (e instanceof RegistryError) {
      err = e;
      log.debug('request refused', { method: req.method, path, code: e.code, status: e.status });
    } else if ((e as NodeJS.ErrnoException)?.code === 'ECONNRESET' || req.destroyed) {
      // The client went away mid-body: nothing to answer.
      log.debug('client aborted', { method: req.method, path });
      res.destroy();
      return;
    } else {
      log.error('request failed', { method: req.method, path, error: e });
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'internal error' }] }));
      return;
    }
    void drain(req).then((drained) => {
      if (res.headersSent || res.destroyed) return;
      // A body we could not read to its end would be parsed as the next request on a kept-alive connection.
      if (!drained) res.setHeader('Connection', 'close');
      send(res, err.status, { 'Content-Type': 'application/json', ...err.headers }, errorBody(err));
    });
  }
}

/** Starts the registry on `host:port` (port 0 picks a free one) and resolves once it listens. */
export async function startRegistry(opts: RegistryServerOptions, host: string, port: number): Promise<RunningRegistry> {
  const app = new RegistryApp(opts);
  await app.init();
  const server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, app.handle) : createHttpServer(app.handle);
  // Large layer uploads stream for minutes; only idle sockets time out.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const a = server.address() as AddressInfo;
  const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    server,
    url: `${opts.tls ? 'https' : 'http'}://${h}:${a.port}`,
    close: () => new Promise<void>((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    }),
  };
}
