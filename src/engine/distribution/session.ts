import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Unauthorized, Unavailable, messageOf } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { RegistryHttpError, parseErrorBody } from './errors.js';
import type { Endpoint } from './hosts.js';
import { isLoopback } from './hosts.js';
import { type Transport, drain, readBody } from './transport.js';
import type { AuthConfig } from './types.js';

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parse `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` (several challenges allowed). */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  const re = /([A-Za-z]+)\s+((?:[A-Za-z0-9_-]+=(?:"(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?\s*)*)/g;
  for (const m of header.matchAll(re)) {
    const scheme = m[1]!.toLowerCase();
    if (scheme !== 'basic' && scheme !== 'bearer') continue;
    const params: Record<string, string> = {};
    for (const p of (m[2] ?? '').matchAll(/([A-Za-z0-9_-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
      params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
    }
    out.push({ scheme, params });
  }
  return out;
}

/** username/password from an AuthConfig (`auth` is base64 `user:pass`, as in config.json). */
export function credentials(a: AuthConfig | undefined): { username: string; password: string } | undefined {
  if (!a) return undefined;
  if (a.username) return { username: a.username, password: a.password ?? '' };
  if (a.auth) {
    const s = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = s.indexOf(':');
    if (i > 0) return { username: s.slice(0, i), password: s.slice(i + 1) };
  }
  return undefined;
}

export interface RequestOptions {
  headers?: OutgoingHttpHeaders;
  body?: Buffer | (() => Readable);
  signal?: AbortSignal;
}

/**
 * One conversation with one registry: finds the scheme (HTTPS, or plain HTTP for loopback and insecure registries,
 * as Docker: try TLS first), answers auth challenges (anonymous, Basic, Docker's token flow) and follows redirects.
 * Credentials only ever travel in headers to the registry's own origin and its token realm; they are never logged.
 */
export class RegistrySession {
  private base: URL | undefined;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, string>();
  identityToken = '';

  constructor(
    readonly endpoint: Endpoint,
    private readonly auth: AuthConfig | undefined,
    private readonly t: Transport,
    private readonly log: Logger,
    /** Scopes every token of this session asks for (`repository:x:pull`). */
    private readonly scopes: string[],
  ) {}

  get baseUrl(): URL {
    if (!this.base) throw new Error('registry session used before ping');
    return this.base;
  }

  /** `GET /v2/`: settles the scheme and the auth challenge. Throws Unavailable when the registry cannot be reached. */
  async ping(signal?: AbortSignal): Promise<void> {
    if (this.base) return;
    const known = this.t.schemes.get(this.endpoint.apiHost);
    const order: ('https:' | 'http:')[] = known ? [known] : this.endpoint.insecure ? ['https:', 'http:'] : ['https:'];
    let lastErr: unknown;
    for (const scheme of order) {
      const url = new URL(`${scheme}//${this.endpoint.apiHost}/v2/`);
      try {
        const res = await this.t.send({ method: 'GET', url, insecureTls: this.endpoint.insecure, signal });
        drain(res);
        this.base = new URL(`${scheme}//${this.endpoint.apiHost}`);
        this.t.schemes.set(this.endpoint.apiHost, scheme);
        if (res.statusCode === 401) this.setChallenge(res);
        return;
      } catch (e) {
        if (signal?.aborted) throw e;
        lastErr = e;
        this.log.debug('registry probe failed', { url: url.href, error: messageOf(e) });
      }
    }
    const url = `${order[order.length - 1]}//${this.endpoint.apiHost}/v2/`;
    const code = (lastErr as NodeJS.ErrnoException | undefined)?.code;
    const why = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `lookup ${this.endpoint.apiHost.replace(/:\d+$/, '')}: no such host` : messageOf(lastErr);
    const hint = this.endpoint.domain === 'docker.io' ? 'Docker Hub is not reachable from this host; push and pull from a local registry (peti registry serve) instead'
      : this.endpoint.insecure ? undefined : `if ${this.endpoint.domain} serves plain HTTP, start petid with --insecure-registry ${this.endpoint.domain}`;
    throw new Unavailable(`Get "${url}": ${why}`, { cause: lastErr, ...(hint ? { hint } : {}) });
  }

  private setChallenge(res: IncomingMessage): void {
    const all = parseChallenges(res.headers['www-authenticate']);
    this.challenge = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic') ?? this.challenge;
  }

  /** True when the registry asked for credentials on `/v2/`. */
  get needsAuth(): boolean {
    return this.challenge !== undefined;
  }

  private basic(): string | undefined {
    const c = credentials(this.auth);
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
  }

  /** The Authorization header for this session's scopes (fetching a token when the registry wants one). */
  private async authorization(fresh: boolean, extraScopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    if (this.auth?.registrytoken) return `Bearer ${this.auth.registrytoken}`;
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') return this.basic();
    const scopes = [...new Set([...this.scopes, ...extraScopes])].sort();
    const key = scopes.join(' ');
    const cached = this.tokens.get(key);
    if (cached && !fresh) return cached;
    const token = `Bearer ${await this.fetchToken(ch.params, scopes, signal)}`;
    this.tokens.set(key, token);
    return token;
  }

  /** Docker's token flow: GET realm?service=&scope= (Basic credentials when we have them), or the refresh-token grant. */
  async fetchToken(params: Record<string, string>, scopes: string[], signal?: AbortSignal): Promise<string> {
    const realm = params.realm;
    if (!realm) throw new Unauthorized('registry asked for a bearer token without a realm');
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new Unauthorized(`invalid token realm ${JSON.stringify(realm)}`);
    }
    if (url.protocol === 'http:' && !this.endpoint.insecure && !isLoopback(url.host)) {
      throw new Unauthorized(`refusing to send credentials to a plain HTTP token realm ${url.origin}`);
    }
    const creds = credentials(this.auth);
    let res: IncomingMessage;
    if (this.auth?.identitytoken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.auth.identitytoken, client_id: 'docker', service: params.service ?? '' });
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await this.t.send({ method: 'POST', url, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()), insecureTls: this.endpoint.insecure, signal });
    } else {
      if (params.service) url.searchParams.set('service', params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (creds) {
        url.searchParams.set('account', creds.username);
        url.searchParams.set('offline_token', 'true');
        url.searchParams.set('client_id', 'docker');
      }
      res = await this.t.send({ method: 'GET', url, headers: this.basic() ? { Authorization: this.basic()! } : {}, insecureTls: this.endpoint.insecure, signal });
    }
    const body = await readBody(res, 1024 * 1024);
    if (res.statusCode !== 200) {
      const codes = parseErrorBody(body);
      let detail: string | undefined = codes[0]?.message;
      if (!detail) {
        try {
          detail = (JSON.parse(body.toString('utf8')) as { details?: string }).details;
        } catch {
          detail = undefined;
        }
      }
      const what = res.statusCode === 401 ? `unauthorized: ${detail || 'incorrect username or password'}` : `token server answered ${res.statusCode}${detail ? `: ${detail}` : ''}`;
      throw new Unauthorized(`Get "${this.baseUrl.origin}/v2/": ${what}`);
    }
    let j: { token?: string; access_token?: string; refresh_token?: string };
    try {
      j = JSON.parse(body.toString('utf8')) as typeof j;
    } catch {
      throw new Unauthorized('token server answered with invalid JSON');
    }
    const tok = j.token ?? j.access_token;
    if (!tok) throw new Unauthorized('token server answered without a token');
    if (j.refresh_token) this.identityToken = j.refresh_token;
    return tok;
  }

  /**
   * Send a request to the registry (path relative to its origin, or an absolute URL from a Location header). A 401
   * gets one retry with a fresh challenge and token; GET/HEAD redirects are followed, without credentials when
   * they leave the registry's origin. `extraScopes` widen the token (a cross-repository mount needs the source's pull).
   */
  async request(method: string, pathOrUrl: string, o: RequestOptions = {}, extraScopes: string[] = []): Promise<IncomingMessage> {
    await this.ping(o.signal);
    let url = new URL(pathOrUrl, this.baseUrl);
    for (let attempt = 0, hops = 0; ; ) {
      const headers: OutgoingHttpHeaders = { ...o.headers };
      if (url.origin === this.baseUrl.origin) {
        const a = await this.authorization(attempt > 0, extraScopes, o.signal);
        if (a) headers.Authorization = a;
      }
      const res = await this.t.send({ method, url, headers, body: o.body, insecureTls: this.endpoint.insecure, signal: o.signal });
      const st = res.statusCode ?? 0;
      if (st === 401 && attempt === 0 && url.origin === this.baseUrl.origin) {
        this.setChallenge(res);
        if (this.challenge) {
          drain(res);
          attempt++;
          continue;
        }
      }
      if ([301, 302, 303, 307, 308].includes(st) && (method === 'GET' || method === 'HEAD') && res.headers.location && hops < 5) {
        drain(res);
        url = new URL(res.headers.location, url);
        hops++;
        continue;
      }
      return res;
    }
  }

  /** Throw the registry's error for an unexpected answer. */
  async fail(res: IncomingMessage, what: string): Promise<never> {
    const body = res.statusCode === undefined || res.statusCode < 400 ? Buffer.alloc(0) : await readBody(res, 64 * 1024).catch(() => Buffer.alloc(0));
    if (body.length === 0) drain(res);
    throw new RegistryHttpError(res.statusCode ?? 0, parseErrorBody(body), what);
  }
}
