/**
 * A tiny registry client for the tests: follows the auth challenge the server answers (Basic, or the Docker
 * token flow against the realm it names), like docker and skopeo do, and sends raw requests when a test needs a
 * path no URL parser may normalise (`..`).
 */
import { request as httpRequest } from 'node:http';
import { createHash } from 'node:crypto';

export type AuthMode =
  | { kind: 'none' }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'token'; user?: string; password?: string };

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  json<T = unknown>(): T;
  /** The first spec error code of a JSON error body, or undefined. */
  code(): string | undefined;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Skip the auth handshake: send exactly these headers. */
  raw?: boolean;
}

export function digestOf(b: Buffer | string): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

function reply(status: number, headers: Headers, body: Buffer): Reply {
  return {
    status,
    headers,
    body,
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
    code: () => {
      try {
        return (JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string }> }).errors?.[0]?.code;
      } catch {
        return undefined;
      }
    },
  };
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Parses `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(h: string): { scheme: string; params: Record<string, string> } {
  const sp = h.indexOf(' ');
  const params: Record<string, string> = {};
  for (const m of h.slice(sp + 1).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!] = m[2]!;
  return { scheme: h.slice(0, sp), params };
}

export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  constructor(readonly base: string, readonly auth: AuthMode) {}

  async send(method: string, path: string, opts: SendOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers };
    const url = path.startsWith('http') ? path : this.base + path;
    const once = async (authz?: string): Promise<Reply> => {
      const h = authz ? { ...headers, Authorization: authz } : headers;
      const r = await fetch(url, { method, headers: h, body: typeof opts.body === 'string' ? opts.body : opts.body === undefined ? undefined : new Uint8Array(opts.body), redirect: 'manual' });
      return reply(r.status, r.headers, Buffer.from(await r.arrayBuffer()));
    };
    if (opts.raw || this.auth.kind === 'none') return once(headers.Authorization);
    if (this.auth.kind === 'basic') return once(basic(this.auth.user, this.auth.password));
    const key = `${method} ${path.split('?')[0]}`;
    const cached = this.tokens.get(key);
    const first = await once(cached ? `Bearer ${cached}` : undefined);
    const ch = first.headers.get('www-authenticate');
    if ((first.status !== 401 && first.status !== 403) || !ch?.startsWith('Bearer')) return first;
    // A mount needs pull on the source too; docker asks for both scopes in one token.
    const from = /[?&]from=([^&]+)/.exec(path);
    const token = await this.token(parseChallenge(ch).params, from ? [`repository:${decodeURIComponent(from[1]!)}:pull`] : []);
    if (token === undefined) return first;
    this.tokens.set(key, token);
    return once(`Bearer ${token}`);
  }

  /** A token from the challenge's realm for its scope (plus `extra` scopes); undefined when the realm refuses. */
  async token(params: Record<string, string>, extra: string[] = []): Promise<string | undefined> {
    if (this.auth.kind !== 'token') return undefined;
    const q = new URLSearchParams();
    if (params.service) q.set('service', params.service);
    for (const s of [params.scope, ...extra]) if (s) q.append('scope', s);
    const h: Record<string, string> = {};
    if (this.auth.user !== undefined) h.Authorization = basic(this.auth.user, this.auth.password ?? '');
    const r = await fetch(`${params.realm}?${q.toString()}`, { headers: h });
    if (r.status !== 200) return undefined;
    return ((await r.json()) as { token: string }).token;
  }

  /** A request whose path goes out byte for byte (no `..` resolution, no auth handshake). */
  raw(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Reply> {
    const u = new URL(this.base);
    return new Promise((ok, fail) => {
      const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          ok(reply(res.statusCode ?? 0, h, Buffer.concat(parts)));
        });
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  // Conveniences used across the suite

  async pushBlob(repo: string, data: Buffer | string): Promise<string> {
    const digest = digestOf(data);
    // POST then PUT: the one upload every server supports (single-POST is optional).
    const r = await this.send('POST', `/v2/${repo}/blobs/uploads/`);
    if (r.status !== 201 && r.status !== 202) throw new Error(`push blob: ${r.status} ${r.body.toString()}`);
    if (r.status === 202) {
      const loc = r.headers.get('location')!;
      const put = await this.send('PUT', `${loc}${loc.includes('?') ? '&' : '?'}digest=${digest}`, {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: typeof data === 'string' ? Buffer.from(data) : data,
      });
      if (put.status !== 201) throw new Error(`push blob PUT: ${put.status} ${put.body.toString()}`);
    }
    return digest;
  }

  async pushManifest(repo: string, ref: string, manifest: unknown, mediaType: string): Promise<Reply> {
    return this.send('PUT', `/v2/${repo}/manifests/${ref}`, { headers: { 'Content-Type': mediaType }, body: JSON.stringify(manifest) });
  }

  /** Pushes a config and one layer and an OCI (or Docker) manifest naming them; returns the manifest's digest. */
  async pushImage(repo: string, tag: string, opts: { seed?: string; docker?: boolean; extra?: Record<string, unknown> } = {}): Promise<{ digest: string; size: number; config: string; layer: string; mediaType: string }> {
    const seed = opts.seed ?? tag;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed }));
    const layer = Buffer.from(`layer of ${repo}:${seed} ${'x'.repeat(100)}`);
    const cd = await this.pushBlob(repo, config);
    const ld = await this.pushBlob(repo, layer);
    const mediaType = opts.docker ? 'application/vnd.docker.distribution.manifest.v2+json' : 'application/vnd.oci.image.manifest.v1+json';
    const m = {
      schemaVersion: 2,
      mediaType,
      config: { mediaType: opts.docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', digest: cd, size: config.length },
      layers: [{ mediaType: opts.docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip', digest: ld, size: layer.length }],
      ...opts.extra,
    };
    const body = JSON.stringify(m);
    const r = await this.send('PUT', `/v2/${repo}/manifests/${tag}`, { headers: { 'Content-Type': mediaType }, body });
    if (r.status !== 201) throw new Error(`push manifest: ${r.status} ${r.body.toString()}`);
    return { digest: digestOf(body), size: Buffer.byteLength(body), config: cd, layer: ld, mediaType };
  }
}
