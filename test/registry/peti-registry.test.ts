/**
 * `peti registry serve` against the conformance suite in three auth modes, then what only our server promises:
 * token scopes, hostile input leaving nothing on disk, a kill mid-upload followed by a resume, and gc.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { hashSync } from 'bcryptjs';
import { registryConformance, type RegistryFeatures } from './conformance.suite.js';
import { RegistryClient, digestOf } from './client.js';
import { REGISTRY_BUNDLE, freePort, startPetiRegistry, tempDir, type RunningServer } from './servers.js';

const FULL: RegistryFeatures = {
  referrers: true, tagDelete: true, unsupportedCode: true, catalogLink: true, monolithicPost: true, chunkOrder: true,
  tagPagination: true, unsatisfiableRange: true, dotDotRejected: true, unknownUploadCode: true,
};
const TOKEN_KEY = randomBytes(32);
const SERVICE = 'peti-test';
const ISSUER = 'peti-test-issuer';

function blobCount(root: string): number {
  const d = join(root, 'content/blobs/sha256');
  return existsSync(d) ? readdirSync(d).length : 0;
}

function jwt(header: object, claims: object, key: Buffer): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const c = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${h}.${c}.${createHmac('sha256', key).update(`${h}.${c}`).digest('base64url')}`;
}

describe('peti registry', () => {
  const dir = tempDir('peti-registry-test-');
  const htpasswd = join(dir, 'htpasswd');
  const keyFile = join(dir, 'token.key');
  let open: RunningServer;
  let basic: RunningServer;
  let token: RunningServer;
  before(async () => {
    writeFileSync(htpasswd, `alice:${hashSync('s3cret', 5).replace(/^\$2b\$/, '$2y$')}\n`);
    writeFileSync(keyFile, TOKEN_KEY);
    [open, basic] = await Promise.all([
      startPetiRegistry(join(dir, 'open'), ['--max-uploads', '6']),
      startPetiRegistry(join(dir, 'basic'), ['--htpasswd', htpasswd]),
    ]);
    // The realm is this server's own /token, so the port is chosen before it starts.
    const port = await freePort();
    token = await startPetiRegistry(join(dir, 'token'), [
      '--addr', `127.0.0.1:${port}`, '--htpasswd', htpasswd, '--token-realm', `http://127.0.0.1:${port}/token`,
      '--token-service', SERVICE, '--token-issuer', ISSUER, '--token-key', keyFile, '--anonymous-pull',
    ]);
  });
  after(async () => {
    await Promise.all([open?.stop(), basic?.stop(), token?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  registryConformance('peti, no auth', () => ({ url: open.url, auth: { kind: 'none' }, features: { ...FULL, maxUploads: 6 } }));
  registryConformance('peti, htpasswd', () => ({ url: basic.url, auth: { kind: 'basic', user: 'alice', password: 's3cret' }, features: FULL }));
  registryConformance('peti, bearer tokens', () => ({ url: token.url, auth: { kind: 'token', user: 'alice', password: 's3cret' }, features: FULL }));

  describe('token scopes', () => {
    const realm = (): string => `${token.url}/token`;
    const get = async (scopes: string[], creds?: string): Promise<{ status: number; token?: string }> => {
      const q = new URLSearchParams({ service: SERVICE });
      for (const s of scopes) q.append('scope', s);
      const r = await fetch(`${realm()}?${q.toString()}`, { headers: creds ? { Authorization: `Basic ${Buffer.from(creds).toString('base64')}` } : {} });
      return { status: r.status, token: r.status === 200 ? ((await r.json()) as { token: string }).token : undefined };
    };
    const as = (t: string | undefined): RegistryClient => {
      const c = new RegistryClient(token.url, { kind: 'none' });
      const send = c.send.bind(c);
      c.send = (m, p, o = {}) => send(m, p, { ...o, headers: { ...o.headers, ...(t ? { Authorization: `Bearer ${t}` } : {}) } });
      return c;
    };

    test('pull-only tokens cannot push; tokens for one repository do not open another (403 DENIED)', async () => {
      const admin = new RegistryClient(token.url, { kind: 'token', user: 'alice', password: 's3cret' });
      await admin.pushImage('scoped/a', 'v1');
      await admin.pushImage('scoped/b', 'v1');
      const pullA = (await get(['repository:scoped/a:pull'], 'alice:s3cret')).token!;
      assert.equal((await as(pullA).send('GET', '/v2/scoped/a/manifests/v1')).status, 200);
      const push = await as(pullA).send('POST', '/v2/scoped/a/blobs/uploads/');
      assert.equal(push.status, 403);
      assert.equal(push.code(), 'DENIED');
      assert.match(push.headers.get('www-authenticate') ?? '', /scope="repository:scoped\/a:pull,push"/);
      const other = await as(pullA).send('GET', '/v2/scoped/b/manifests/v1');
      assert.equal(other.status, 403);
      assert.equal(other.code(), 'DENIED');
      const cat = await as(pullA).send('GET', '/v2/_catalog');
      assert.equal(cat.status, 403);
      // A mount from a repository the token cannot read falls back to an upload session.
      const pushC = (await get(['repository:scoped/c:pull,push'], 'alice:s3cret')).token!;
      const layer = (await admin.pushImage('scoped/a', 'v2')).layer;
      const m = await as(pushC).send('POST', `/v2/scoped/c/blobs/uploads/?mount=${layer}&from=scoped/a`);
      assert.equal(m.status, 202);
    });

    test('anonymous callers get pull only; wrong passwords get no token', async () => {
      const anon = await get(['repository:scoped/a:pull,push']);
      assert.equal(anon.status, 200);
      assert.equal((await as(anon.token).send('GET', '/v2/scoped/a/tags/list')).status, 200);
      assert.equal((await as(anon.token).send('POST', '/v2/scoped/a/blobs/uploads/')).status, 403);
      assert.equal((await get(['repository:scoped/a:pull'], 'alice:wrong')).status, 401);
      assert.equal((await get(['repository:scoped/a:pull'], 'mallory:s3cret')).status, 401);
    });

    test('broken, forged, expired and alg=none tokens are UNAUTHORIZED (401) and the server keeps serving', async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: ISSUER, sub: 'alice', aud: SERVICE, exp: now + 300, nbf: now, iat: now, jti: 'x', access: [{ type: 'repository', name: 'scoped/a', actions: ['pull', 'push'] }] };
      const bad = [
        'not-a-token',
        'a.b.c',
        jwt({ alg: 'HS256', typ: 'JWT' }, claims, randomBytes(32)), // forged: another key
        jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now - 3600 }, TOKEN_KEY), // expired
        jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: 'someone-else' }, TOKEN_KEY),
        jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'other-service' }, TOKEN_KEY),
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`,
      ];
      for (const t of bad) {
        const r = await as(t).send('GET', '/v2/scoped/a/manifests/v1');
        assert.equal(r.status, 401, t.slice(0, 40));
        assert.equal(r.code(), 'UNAUTHORIZED');
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm=.*error="invalid_token"/);
      }
      const good = jwt({ alg: 'HS256', typ: 'JWT' }, claims, TOKEN_KEY);
      assert.equal((await as(good).send('GET', '/v2/scoped/a/manifests/v1')).status, 200);
    });
  });

  describe('hostile input leaves nothing behind', () => {
    test('bad digests, missing blobs, truncated bodies, wrong types, huge manifests, malicious names', async () => {
      const root = join(dir, 'open');
      const c = new RegistryClient(open.url, { kind: 'none' });
      await c.pushImage('hostile/base', 'v1');
      const before = blobCount(root);
      // Monolithic with a lying digest.
      const lie = await c.send('POST', `/v2/hostile/x/blobs/uploads/?digest=${digestOf('claimed')}`, { body: 'actual' });
      assert.equal(lie.status, 400);
      assert.equal(lie.code(), 'DIGEST_INVALID');
      // A truncated monolithic upload: the client promises 100000 bytes, sends 1000 and hangs up.
      const data = randomBytes(100000);
      await new Promise<void>((ok) => {
        const u = new URL(open.url);
        const s = connect(Number(u.port), u.hostname, () => {
          s.write(`POST /v2/hostile/x/blobs/uploads/?digest=${digestOf(data)} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`);
          s.write(data.subarray(0, 1000), () => setTimeout(() => { s.destroy(); ok(); }, 100));
        });
        s.on('error', () => ok());
      });
      assert.equal((await c.send('HEAD', `/v2/hostile/x/blobs/${digestOf(data)}`)).status, 404);
      // Wrong media type, unknown type, oversized.
      const m = (await c.send('GET', '/v2/hostile/base/manifests/v1')).body;
      assert.equal((await c.send('PUT', '/v2/hostile/base/manifests/t', { headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' }, body: m })).code(), 'MANIFEST_INVALID');
      const untyped = JSON.stringify({ ...(JSON.parse(m.toString()) as object), mediaType: undefined });
      assert.equal((await c.send('PUT', '/v2/hostile/base/manifests/t', { headers: { 'Content-Type': 'text/plain' }, body: untyped })).code(), 'UNSUPPORTED');
      assert.equal((await c.send('HEAD', '/v2/hostile/base/manifests/t')).status, 404);
      const big = await c.send('PUT', '/v2/hostile/base/manifests/t', { headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: Buffer.alloc(5 * 1024 * 1024, 0x20) });
      assert.equal(big.status, 413);
      // Malicious names never reach the filesystem.
      for (const p of ['/v2/../../etc/manifests/passwd', '/v2/..%2f..%2fetc/manifests/x', '/v2/a/../../../tmp/blobs/uploads/', '/v2/%2e%2e/tags/list', '/v2/a//b/tags/list', '/v2/_x/tags/list']) {
        const r = await c.raw(p.includes('uploads') ? 'POST' : 'GET', p);
        assert.equal(r.status, 400, p);
        assert.equal(r.code(), 'NAME_INVALID', p);
      }
      assert.deepEqual(readdirSync(join(root, 'repositories')).sort(), readdirSync(join(root, 'repositories')).filter((n) => /^[a-z0-9]/.test(n)).sort());
      assert.equal(blobCount(root), before, 'no blob stored by any refused request');
      assert.equal((await c.send('GET', '/v2/')).status, 200, 'still serving');
    });
  });

  test('a server killed mid-upload restarts and the upload resumes from what it received', async () => {
    const root = join(dir, 'crash');
    let s = await startPetiRegistry(root);
    const data = randomBytes(3 * 1024 * 1024);
    const d = digestOf(data);
    const c1 = new RegistryClient(s.url, { kind: 'none' });
    const loc = (await c1.send('POST', '/v2/crash/img/blobs/uploads/')).headers.get('location')!;
    // Stream the first megabyte of a PATCH, then SIGKILL the server while the request is open.
    await new Promise<void>((ok) => {
      const u = new URL(s.url);
      const sock = connect(Number(u.port), u.hostname, () => {
        sock.write(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
        const part = data.subarray(0, 1024 * 1024);
        sock.write(`${part.length.toString(16)}\r\n`);
        sock.write(part);
        sock.write('\r\n', () => setTimeout(ok, 300));
      });
      sock.on('error', () => {});
    });
    await s.stop('SIGKILL');
    assert.equal(blobCount(root), 0, 'nothing half-written is a blob');
    s = await startPetiRegistry(root);
    try {
      const c = new RegistryClient(s.url, { kind: 'none' });
      const st = await c.send('GET', loc);
      assert.equal(st.status, 204);
      const have = Number(/^0-(\d+)$/.exec(st.headers.get('range')!)![1]) + 1;
      assert.ok(have > 0 && have <= 1024 * 1024, `received ${have}`);
      const rest = await c.send('PATCH', loc, { headers: { 'Content-Range': `${have}-${data.length - 1}` }, body: data.subarray(have) });
      assert.equal(rest.status, 202);
      const put = await c.send('PUT', `${loc}?digest=${d}`);
      assert.equal(put.status, 201, put.body.toString());
      assert.ok((await c.send('GET', `/v2/crash/img/blobs/${d}`)).body.equals(data));
      // And a plain retry from scratch works too.
      assert.equal(await c.pushBlob('crash/img2', data), d);
    } finally {
      await s.stop();
    }
  });

  test('gc removes exactly the unreferenced blobs (dry run first), referrers included in the mark', async () => {
    const root = join(dir, 'gc');
    const s = await startPetiRegistry(root);
    const c = new RegistryClient(s.url, { kind: 'none' });
    const keep = await c.pushImage('gc/app', 'v1', { seed: 'keep' });
    const drop = await c.pushImage('gc/app', 'v2', { seed: 'drop' });
    const orphan = await c.pushBlob('gc/app', 'an orphan blob');
    const empty = await c.pushBlob('gc/app', '{}');
    const sbom = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.example.sbom', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 }, layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 }], subject: { mediaType: keep.mediaType, digest: keep.digest, size: keep.size } };
    assert.equal((await c.pushManifest('gc/app', digestOf(JSON.stringify(sbom)), sbom, sbom.mediaType)).status, 201);
    assert.equal((await c.send('DELETE', `/v2/gc/app/manifests/${drop.digest}`)).status, 202);
    await s.stop();
    const gc = (args: string[]): string => {
      const r = spawnSync(process.execPath, [REGISTRY_BUNDLE, 'gc', '--root', root, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const expected = [drop.digest, drop.config, drop.layer, orphan].sort();
    const dry = gc(['--dry-run']);
    assert.deepEqual([...dry.matchAll(/would remove (sha256:[a-f0-9]{64})/g)].map((m) => m[1]).sort(), expected);
    const countBefore = blobCount(root);
    const out = gc([]);
    assert.deepEqual([...out.matchAll(/^removed (sha256:[a-f0-9]{64})/gm)].map((m) => m[1]).sort(), expected);
    assert.equal(blobCount(root), countBefore - expected.length);
    const s2 = await startPetiRegistry(root);
    try {
      const c2 = new RegistryClient(s2.url, { kind: 'none' });
      for (const d of [keep.digest, digestOf(JSON.stringify(sbom))]) assert.equal((await c2.send('GET', `/v2/gc/app/manifests/${d}`)).status, 200);
      for (const d of [keep.config, keep.layer, empty]) assert.equal((await c2.send('HEAD', `/v2/gc/app/blobs/${d}`)).status, 200);
      for (const d of expected) assert.equal((await c2.send('HEAD', `/v2/gc/app/blobs/${d}`)).status, 404);
      assert.equal(gc(['--dry-run']).trim(), `would remove 0 blobs (0 bytes), kept ${countBefore - expected.length}`);
    } finally {
      await s2.stop();
    }
  });
});
