/**
 * A registry conformance suite written from the OCI Distribution Spec v1.1 endpoint table (end-1 .. end-14), its
 * error codes, pagination, the referrers API and auth scopes. It runs against any server given a base URL and an
 * auth mode; `features` names what a server lacks, and for each lacking feature the suite checks the server really
 * answers as a server without it (so a pass against the reference server shows the tests themselves are right).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type AuthMode, RegistryClient, digestOf, parseChallenge } from './client.js';

export interface RegistryFeatures {
  /** GET /v2/<name>/referrers/<digest> and the OCI-Subject header (distribution-spec 1.1). */
  referrers: boolean;
  /** DELETE /v2/<name>/manifests/<tag>. */
  tagDelete: boolean;
  /** JSON `UNSUPPORTED` bodies for unknown methods and manifest types it does not store. */
  unsupportedCode: boolean;
  /** Answers TOOMANYREQUESTS once `maxUploads` sessions are open. */
  maxUploads?: number;
  /** `Link` on the catalog when `n` cuts it short. */
  catalogLink: boolean;
  /** Accepts a blob in one `POST ?digest=` with the body (end-4b answering 201). */
  monolithicPost: boolean;
  /** Answers 416 to a chunk whose Content-Range does not start at the current offset. */
  chunkOrder: boolean;
  /** Sorts the tag list (the spec's MUST) and honours `n`/`last` on it. */
  tagPagination: boolean;
  /** Answers a well-formed 416 to an unsatisfiable blob Range. */
  unsatisfiableRange: boolean;
  /** Answers 4xx (not 5xx) to a raw `/v2/../../etc/...` path and to a 256-character name. */
  dotDotRejected: boolean;
  /** BLOB_UPLOAD_UNKNOWN (not BLOB_UPLOAD_INVALID) for an upload id it never issued. */
  unknownUploadCode: boolean;
}

export interface RegistryTarget {
  url: string;
  auth: AuthMode;
  features: RegistryFeatures;
  /** Token mode only: credentials the token service refuses push to (anonymous pull). */
  anonymousPull?: boolean;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** Registers the suite; `target` is read when the tests run (servers start in `before`). */
export function registryConformance(label: string, target: () => RegistryTarget): void {
  let c: RegistryClient;
  // Every run uses fresh repository names, so the suite can run twice against one server.
  const run = randomBytes(3).toString('hex');
  const repo = (n: string): string => `conf-${run}/${n}`;
  const t = (): RegistryTarget => target();
  const client = (): RegistryClient => (c ??= new RegistryClient(t().url, t().auth));

  describe(`registry conformance: ${label}`, () => {
    test('end-1 GET /v2/ answers 200 with Docker-Distribution-API-Version', async () => {
      const r = await client().send('GET', '/v2/');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
    });

    test('end-4b monolithic POST ?digest=, end-2 HEAD and GET, Range gives 206 and 416', async () => {
      const name = repo('mono');
      const data = randomBytes(5000);
      const d = digestOf(data);
      // Without single-POST support a server answers 202 and never reads the body (the spec's fallback): send none.
      const mono = t().features.monolithicPost;
      const r = await client().send('POST', `/v2/${name}/blobs/uploads/?digest=${d}`, { headers: { 'Content-Type': 'application/octet-stream' }, body: mono ? data : Buffer.alloc(0) });
      if (!mono) assert.equal(r.status, 202);
      if (r.status === 202) {
        // A server without single-POST support answers 202 (allowed); finish with PUT.
        const put = await client().send('PUT', `${r.headers.get('location')}${r.headers.get('location')!.includes('?') ? '&' : '?'}digest=${d}`, { body: data });
        assert.equal(put.status, 201);
      } else {
        assert.equal(r.status, 201);
        assert.ok(r.headers.get('location'));
      }
      const head = await client().send('HEAD', `/v2/${name}/blobs/${d}`);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), '5000');
      assert.equal(head.headers.get('docker-content-digest'), d);
      const get = await client().send('GET', `/v2/${name}/blobs/${d}`);
      assert.equal(get.status, 200);
      assert.ok(get.body.equals(data));
      const part = await client().send('GET', `/v2/${name}/blobs/${d}`, { headers: { Range: 'bytes=100-199' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), 'bytes 100-199/5000');
      assert.ok(part.body.equals(data.subarray(100, 200)));
      if (t().features.unsatisfiableRange) {
        const bad = await client().send('GET', `/v2/${name}/blobs/${d}`, { headers: { Range: 'bytes=6000-7000' } });
        assert.equal(bad.status, 416);
        assert.equal(bad.headers.get('content-range'), 'bytes */5000');
      }
    });

    test('end-4a POST opens a session (202, Location, Docker-Upload-UUID, Range), then PUT with the body', async () => {
      const name = repo('postput');
      const data = randomBytes(3000);
      const d = digestOf(data);
      const post = await client().send('POST', `/v2/${name}/blobs/uploads/`);
      assert.equal(post.status, 202);
      const loc = post.headers.get('location')!;
      assert.ok(loc);
      assert.ok(post.headers.get('docker-upload-uuid'));
      assert.match(post.headers.get('range') ?? '0-0', /^0-\d+$/);
      const put = await client().send('PUT', `${loc}${loc.includes('?') ? '&' : '?'}digest=${d}`, { headers: { 'Content-Type': 'application/octet-stream' }, body: data });
      assert.equal(put.status, 201);
      assert.equal(put.headers.get('docker-content-digest'), d);
      assert.ok((await client().send('GET', `/v2/${name}/blobs/${d}`)).body.equals(data));
    });

    test('end-5 chunked PATCH with Content-Range, 416 out of order, end-13 status, end-6 PUT with a final chunk', async () => {
      const name = repo('chunked');
      const data = randomBytes(30000);
      const d = digestOf(data);
      const post = await client().send('POST', `/v2/${name}/blobs/uploads/`, { headers: { 'Content-Length': '0' } });
      assert.equal(post.status, 202);
      let loc = post.headers.get('location')!;
      const p1 = await client().send('PATCH', loc, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '0-9999' }, body: data.subarray(0, 10000) });
      assert.equal(p1.status, 202);
      assert.equal(p1.headers.get('range'), '0-9999');
      loc = p1.headers.get('location')!;
      if (t().features.chunkOrder) {
        const ooo = await client().send('PATCH', loc, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '20000-29999' }, body: data.subarray(20000) });
        assert.equal(ooo.status, 416);
      }
      const st = await client().send('GET', loc);
      assert.equal(st.status, 204);
      assert.equal(st.headers.get('range'), '0-9999');
      loc = st.headers.get('location') ?? loc;
      const p2 = await client().send('PATCH', loc, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '10000-19999' }, body: data.subarray(10000, 20000) });
      assert.equal(p2.status, 202);
      assert.equal(p2.headers.get('range'), '0-19999');
      loc = p2.headers.get('location')!;
      const put = await client().send('PUT', `${loc}${loc.includes('?') ? '&' : '?'}digest=${d}`, {
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '20000-29999' },
        body: data.subarray(20000),
      });
      assert.equal(put.status, 201, put.body.toString());
      assert.ok((await client().send('GET', `/v2/${name}/blobs/${d}`)).body.equals(data));
    });

    test('end-5 streaming PATCH without Content-Range (what Docker sends), then PUT without body', async () => {
      const name = repo('stream');
      const data = randomBytes(70000);
      const d = digestOf(data);
      const post = await client().send('POST', `/v2/${name}/blobs/uploads/`);
      const patch = await client().send('PATCH', post.headers.get('location')!, { headers: { 'Content-Type': 'application/octet-stream' }, body: data });
      assert.equal(patch.status, 202);
      assert.equal(patch.headers.get('range'), '0-69999');
      const loc = patch.headers.get('location')!;
      const put = await client().send('PUT', `${loc}${loc.includes('?') ? '&' : '?'}digest=${d}`);
      assert.equal(put.status, 201);
      assert.equal((await client().send('HEAD', `/v2/${name}/blobs/${d}`)).status, 200);
    });

    test('end-14 DELETE cancels a session (204); the session is then BLOB_UPLOAD_UNKNOWN (404)', async () => {
      const name = repo('cancel');
      const post = await client().send('POST', `/v2/${name}/blobs/uploads/`);
      const loc = post.headers.get('location')!;
      const del = await client().send('DELETE', loc);
      assert.equal(del.status, 204);
      const st = await client().send('GET', loc);
      assert.equal(st.status, 404);
      assert.equal(st.code(), 'BLOB_UPLOAD_UNKNOWN');
      const bogus = await client().send('PATCH', `/v2/${name}/blobs/uploads/00000000-0000-4000-8000-000000000000`, { body: 'x' });
      assert.equal(bogus.status, 404);
      assert.equal(bogus.code(), t().features.unknownUploadCode ? 'BLOB_UPLOAD_UNKNOWN' : 'BLOB_UPLOAD_INVALID');
    });

    test('DIGEST_INVALID: content that does not match its digest is refused and nothing is stored', async () => {
      const name = repo('badblob');
      const claimed = digestOf('what the client claims');
      const r = await client().send('POST', `/v2/${name}/blobs/uploads/`);
      const loc = r.headers.get('location')!;
      const put = await client().send('PUT', `${loc}${loc.includes('?') ? '&' : '?'}digest=${claimed}`, { headers: { 'Content-Type': 'application/octet-stream' }, body: 'other bytes' });
      assert.equal(put.status, 400);
      assert.equal(put.code(), 'DIGEST_INVALID');
      assert.equal((await client().send('HEAD', `/v2/${name}/blobs/${claimed}`)).status, 404);
      assert.equal((await client().send('HEAD', `/v2/${name}/blobs/${digestOf('other bytes')}`)).status, 404);
      const bad = await client().send('PUT', `${loc}${loc.includes('?') ? '&' : '?'}digest=sha256:nothex`, { body: 'x' });
      assert.ok(bad.status === 400 || bad.status === 404, String(bad.status));
    });

    test('end-11 cross-repository mount: 201 when the source has the blob, 202 upload otherwise; blobs stay per repository', async () => {
      const src = repo('mount-src');
      const dst = repo('mount-dst');
      const d = await client().pushBlob(src, randomBytes(2000));
      const before = await client().send('HEAD', `/v2/${dst}/blobs/${d}`);
      assert.equal(before.status, 404, 'a blob is served only in repositories that own it');
      const m = await client().send('POST', `/v2/${dst}/blobs/uploads/?mount=${d}&from=${src}`);
      assert.equal(m.status, 201);
      assert.equal(m.headers.get('docker-content-digest'), d);
      assert.equal((await client().send('HEAD', `/v2/${dst}/blobs/${d}`)).status, 200);
      const missing = await client().send('POST', `/v2/${dst}/blobs/uploads/?mount=${digestOf('nope')}&from=${src}`);
      assert.equal(missing.status, 202);
      assert.ok(missing.headers.get('location'));
      await client().send('DELETE', missing.headers.get('location')!);
    });

    test('end-3/end-7 manifests: PUT by tag, GET/HEAD by tag and digest, Docker v2 types, indexes and lists', async () => {
      const name = repo('manifests');
      const img = await client().pushImage(name, 'v1');
      for (const ref of ['v1', img.digest]) {
        const g = await client().send('GET', `/v2/${name}/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });
        assert.equal(g.status, 200);
        assert.equal(g.headers.get('content-type'), OCI_MANIFEST);
        assert.equal(g.headers.get('docker-content-digest'), img.digest);
        assert.equal(digestOf(g.body), img.digest, 'stored byte for byte');
        const h = await client().send('HEAD', `/v2/${name}/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });
        assert.equal(h.status, 200);
        assert.equal(h.headers.get('content-length'), String(img.size));
      }
      const dock = await client().pushImage(name, 'docker', { docker: true });
      const dg = await client().send('GET', `/v2/${name}/manifests/docker`, { headers: { Accept: dock.mediaType } });
      assert.equal(dg.headers.get('content-type'), dock.mediaType);
      const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: img.digest, size: img.size, platform: { architecture: 'amd64', os: 'linux' } }] };
      const ir = await client().pushManifest(name, 'multi', index, OCI_INDEX);
      assert.equal(ir.status, 201);
      assert.equal(ir.headers.get('docker-content-digest'), digestOf(JSON.stringify(index)));
      const list = { schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [{ mediaType: dock.mediaType, digest: dock.digest, size: dock.size, platform: { architecture: 'amd64', os: 'linux' } }] };
      assert.equal((await client().pushManifest(name, 'list', list, DOCKER_LIST)).status, 201);
      const lg = await client().send('GET', `/v2/${name}/manifests/list`, { headers: { Accept: DOCKER_LIST } });
      assert.equal(lg.headers.get('content-type'), DOCKER_LIST);
      // PUT by digest
      const byDigest = await client().pushManifest(name, img.digest, JSON.parse((await client().send('GET', `/v2/${name}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } })).body.toString()), OCI_MANIFEST);
      assert.equal(byDigest.status, 201);
    });

    test('manifest errors: MANIFEST_BLOB_UNKNOWN, MANIFEST_INVALID (media type mismatch, bad JSON), DIGEST_INVALID, oversized', async () => {
      const name = repo('badmanifest');
      const img = await client().pushImage(name, 'ok');
      const missing = {
        schemaVersion: 2, mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: img.config, size: 10 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf('never pushed'), size: 12 }],
      };
      const r1 = await client().pushManifest(name, 'missing', missing, OCI_MANIFEST);
      assert.ok(r1.status === 400 || r1.status === 404, String(r1.status));
      assert.equal(r1.code(), 'MANIFEST_BLOB_UNKNOWN');
      const idx = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: digestOf('no manifest'), size: 5 }] };
      const r2 = await client().pushManifest(name, 'missing-idx', idx, OCI_INDEX);
      assert.ok(r2.status === 400 || r2.status === 404, String(r2.status));
      assert.equal(r2.code(), 'MANIFEST_BLOB_UNKNOWN');
      const got = JSON.parse((await client().send('GET', `/v2/${name}/manifests/ok`, { headers: { Accept: OCI_MANIFEST } })).body.toString()) as Record<string, unknown>;
      const r3 = await client().pushManifest(name, 'mismatch', { ...got, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }, OCI_MANIFEST);
      assert.equal(r3.status, 400);
      assert.equal(r3.code(), 'MANIFEST_INVALID');
      const r4 = await client().send('PUT', `/v2/${name}/manifests/broken`, { headers: { 'Content-Type': OCI_MANIFEST }, body: '{"schemaVersion": 2, "config": ' });
      assert.equal(r4.status, 400);
      assert.equal(r4.code(), 'MANIFEST_INVALID');
      const r5 = await client().send('PUT', `/v2/${name}/manifests/${digestOf('something else')}`, { headers: { 'Content-Type': OCI_MANIFEST }, body: JSON.stringify(got) });
      assert.equal(r5.status, 400);
      assert.equal(r5.code(), 'DIGEST_INVALID');
      const huge = { ...got, annotations: { pad: 'x'.repeat(4 * 1024 * 1024 + 10) } };
      const r6 = await client().pushManifest(name, 'huge', huge, OCI_MANIFEST);
      assert.ok(r6.status === 400 || r6.status === 413, String(r6.status));
      assert.ok(['MANIFEST_INVALID', 'SIZE_INVALID'].includes(r6.code() ?? ''), r6.code());
      for (const tag of ['missing', 'missing-idx', 'mismatch', 'broken', 'huge']) {
        assert.equal((await client().send('HEAD', `/v2/${name}/manifests/${tag}`)).status, 404, `${tag} was not stored`);
      }
      assert.equal((await client().send('GET', '/v2/')).status, 200, 'still serving');
    });

    test('unknown things: BLOB_UNKNOWN, MANIFEST_UNKNOWN, NAME_UNKNOWN (404)', async () => {
      const name = repo('known');
      await client().pushImage(name, 'x');
      const b = await client().send('GET', `/v2/${name}/blobs/${digestOf('absent')}`);
      assert.equal(b.status, 404);
      assert.equal(b.code(), 'BLOB_UNKNOWN');
      const m = await client().send('GET', `/v2/${name}/manifests/absent`);
      assert.equal(m.status, 404);
      assert.equal(m.code(), 'MANIFEST_UNKNOWN');
      const md = await client().send('GET', `/v2/${name}/manifests/${digestOf('absent')}`);
      assert.equal(md.status, 404);
      assert.equal(md.code(), 'MANIFEST_UNKNOWN');
      const tl = await client().send('GET', `/v2/${repo('never-pushed')}/tags/list`);
      assert.equal(tl.status, 404);
      assert.equal(tl.code(), 'NAME_UNKNOWN');
    });

    test('NAME_INVALID for names outside the grammar, including ../../etc', async () => {
      const r = await client().send('GET', '/v2/Upper/Case/tags/list');
      assert.ok(r.status === 400 || r.status === 404, String(r.status));
      if (r.status === 400) assert.equal(r.code(), 'NAME_INVALID');
      const raw = await client().raw('GET', '/v2/../../etc/manifests/passwd');
      if (t().features.dotDotRejected) assert.ok(raw.status === 400 || raw.status === 404 || raw.status === 401 || raw.status === 301, String(raw.status));
      assert.equal((await client().send('GET', '/v2/')).status, 200, 'still serving');
      const long = await client().send('GET', `/v2/${'a'.repeat(256)}/tags/list`);
      if (!t().features.dotDotRejected) return;
      assert.ok(long.status === 400 || long.status === 404, String(long.status));
      if (long.status === 400) assert.equal(long.code(), 'NAME_INVALID');
    });

    test('end-8 tags list with n/last pagination and Link rel="next"', async () => {
      const name = repo('tags');
      const img = await client().pushImage(name, 'a');
      const body = (await client().send('GET', `/v2/${name}/manifests/a`, { headers: { Accept: OCI_MANIFEST } })).body;
      for (const tag of ['e', 'b', 'd', 'c']) assert.equal((await client().send('PUT', `/v2/${name}/manifests/${tag}`, { headers: { 'Content-Type': OCI_MANIFEST }, body })).status, 201);
      assert.equal(digestOf(body), img.digest);
      const all = await client().send('GET', `/v2/${name}/tags/list`);
      const listed = all.json<{ name: string; tags: string[] }>();
      if (!t().features.tagPagination) {
        // Without it, the server ignores `n` and lists every tag in storage order.
        assert.deepEqual([...listed.tags].sort(), ['a', 'b', 'c', 'd', 'e']);
        assert.equal((await client().send('GET', `/v2/${name}/tags/list?n=2`)).json<{ tags: string[] }>().tags.length, 5);
        return;
      }
      assert.deepEqual(listed, { name, tags: ['a', 'b', 'c', 'd', 'e'] });
      const p1 = await client().send('GET', `/v2/${name}/tags/list?n=2`);
      assert.deepEqual(p1.json<{ tags: string[] }>().tags, ['a', 'b']);
      const link = p1.headers.get('link');
      assert.match(link ?? '', /^<[^>]*last=b[^>]*>; rel="next"$/);
      const next = link!.slice(1, link!.indexOf('>'));
      const p2 = await client().send('GET', next);
      assert.deepEqual(p2.json<{ tags: string[] }>().tags, ['c', 'd']);
      const p3 = await client().send('GET', `/v2/${name}/tags/list?n=2&last=d`);
      assert.deepEqual(p3.json<{ tags: string[] }>().tags, ['e']);
      assert.equal(p3.headers.get('link'), null);
      const zero = await client().send('GET', `/v2/${name}/tags/list?n=0`);
      assert.equal(zero.status, 200);
      assert.deepEqual(zero.json<{ tags: string[] | null }>().tags ?? [], []);
      assert.equal(zero.headers.get('link'), null);
    });

    test('catalog with n/last pagination', async () => {
      await client().pushImage(repo('cat-a'), 'x');
      await client().pushImage(repo('cat-b'), 'x');
      const all = (await client().send('GET', '/v2/_catalog')).json<{ repositories: string[] }>().repositories;
      assert.ok(all.includes(repo('cat-a')) && all.includes(repo('cat-b')));
      assert.deepEqual(all, [...all].sort());
      const first = await client().send('GET', `/v2/_catalog?n=1&last=${encodeURIComponent(repo('cat-a'))}`);
      assert.equal(first.status, 200);
      const page = first.json<{ repositories: string[] }>().repositories;
      assert.equal(page.length, 1);
      assert.ok(page[0]! > repo('cat-a'));
      if (t().features.catalogLink && all.indexOf(repo('cat-a')) + 2 < all.length) assert.match(first.headers.get('link') ?? '', /rel="next"/);
    });

    test('end-9/end-10 deletes: tag (202), manifest by digest (202), blob (202), then 404', async () => {
      const name = repo('deletes');
      const img = await client().pushImage(name, 'one');
      const body = (await client().send('GET', `/v2/${name}/manifests/one`, { headers: { Accept: OCI_MANIFEST } })).body;
      await client().send('PUT', `/v2/${name}/manifests/two`, { headers: { 'Content-Type': OCI_MANIFEST }, body });
      const dt = await client().send('DELETE', `/v2/${name}/manifests/two`);
      if (t().features.tagDelete) {
        assert.equal(dt.status, 202);
        assert.equal((await client().send('GET', `/v2/${name}/manifests/two`)).status, 404);
        assert.equal((await client().send('GET', `/v2/${name}/manifests/one`)).status, 200, 'other tags stay');
      } else {
        assert.ok([400, 404, 405].includes(dt.status), `tag delete unsupported: ${dt.status}`);
      }
      const dm = await client().send('DELETE', `/v2/${name}/manifests/${img.digest}`);
      assert.equal(dm.status, 202);
      const gone = await client().send('GET', `/v2/${name}/manifests/${img.digest}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.code(), 'MANIFEST_UNKNOWN');
      assert.equal((await client().send('GET', `/v2/${name}/manifests/one`)).status, 404, 'tags of a deleted manifest go too');
      assert.equal((await client().send('DELETE', `/v2/${name}/blobs/${img.layer}`)).status, 202);
      const bg = await client().send('GET', `/v2/${name}/blobs/${img.layer}`);
      assert.equal(bg.status, 404);
      assert.equal(bg.code(), 'BLOB_UNKNOWN');
      const again = await client().send('DELETE', `/v2/${name}/blobs/${img.layer}`);
      assert.equal(again.status, 404);
    });

    test('end-12 referrers: OCI-Subject on push, listing with artifactType and annotations, filter', async () => {
      const name = repo('referrers');
      const img = await client().pushImage(name, 'subject');
      const empty = await client().pushBlob(name, '{}');
      const artifact = (type: string, note: string): Record<string, unknown> => ({
        schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: type,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 }],
        subject: { mediaType: OCI_MANIFEST, digest: img.digest, size: img.size },
        annotations: { 'org.example.note': note },
      });
      const sbom = artifact('application/vnd.example.sbom.v1', 'sbom');
      const sig = artifact('application/vnd.example.sig.v1', 'sig');
      const r1 = await client().pushManifest(name, digestOf(JSON.stringify(sbom)), sbom, OCI_MANIFEST);
      assert.equal(r1.status, 201, r1.body.toString());
      const r2 = await client().pushManifest(name, digestOf(JSON.stringify(sig)), sig, OCI_MANIFEST);
      assert.equal(r2.status, 201);
      const list = await client().send('GET', `/v2/${name}/referrers/${img.digest}`);
      if (!t().features.referrers) {
        assert.equal(r1.headers.get('oci-subject'), null, 'no OCI-Subject from a server without the referrers API');
        assert.equal(list.status, 404, 'without the referrers API the endpoint is unknown (clients fall back to the tag schema)');
        return;
      }
      assert.equal(r1.headers.get('oci-subject'), img.digest);
      assert.equal(list.status, 200);
      assert.equal(list.headers.get('content-type'), OCI_INDEX);
      const idx = list.json<{ schemaVersion: number; mediaType: string; manifests: Array<{ digest: string; artifactType?: string; annotations?: Record<string, string>; size: number }> }>();
      assert.equal(idx.schemaVersion, 2);
      assert.equal(idx.manifests.length, 2);
      const s = idx.manifests.find((m) => m.digest === digestOf(JSON.stringify(sbom)))!;
      assert.equal(s.artifactType, 'application/vnd.example.sbom.v1');
      assert.deepEqual(s.annotations, { 'org.example.note': 'sbom' });
      assert.equal(s.size, Buffer.byteLength(JSON.stringify(sbom)));
      const f = await client().send('GET', `/v2/${name}/referrers/${img.digest}?artifactType=${encodeURIComponent('application/vnd.example.sig.v1')}`);
      assert.equal(f.headers.get('oci-filters-applied'), 'artifactType');
      assert.deepEqual(f.json<{ manifests: Array<{ digest: string }> }>().manifests.map((m) => m.digest), [digestOf(JSON.stringify(sig))]);
      const none = await client().send('GET', `/v2/${name}/referrers/${digestOf('no referrers')}`);
      assert.equal(none.status, 200);
      assert.deepEqual(none.json<{ manifests: unknown[] }>().manifests, []);
      const bad = await client().send('GET', `/v2/${name}/referrers/sha256:zz`);
      assert.equal(bad.status, 400);
      // Deleting a referrer takes it out of the list.
      assert.equal((await client().send('DELETE', `/v2/${name}/manifests/${digestOf(JSON.stringify(sig))}`)).status, 202);
      const after = await client().send('GET', `/v2/${name}/referrers/${img.digest}`);
      assert.equal(after.json<{ manifests: unknown[] }>().manifests.length, 1);
    });

    test('UNSUPPORTED: an unknown method on an endpoint, a manifest type the server does not store', async () => {
      const name = repo('unsupported');
      await client().pushImage(name, 'x');
      const r = await client().send('PUT', `/v2/${name}/tags/list`, { body: 'x' });
      assert.ok(r.status === 405 || r.status === 404, String(r.status));
      if (!t().features.unsupportedCode) return;
      assert.equal(r.code(), 'UNSUPPORTED');
      const s1 = await client().send('PUT', `/v2/${name}/manifests/s1`, { headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' }, body: '{"schemaVersion": 2}' });
      assert.equal(s1.code(), 'UNSUPPORTED');
    });

    test('TOOMANYREQUESTS once the open upload sessions reach the limit', async (tt) => {
      const max = t().features.maxUploads;
      if (max === undefined) {
        tt.skip('server has no session limit to reach');
        return;
      }
      const name = repo('limit');
      const opened: string[] = [];
      let last = 0;
      let code: string | undefined;
      for (let i = 0; i <= max; i++) {
        const r = await client().send('POST', `/v2/${name}/blobs/uploads/`);
        last = r.status;
        code = r.code();
        if (r.status === 202) opened.push(r.headers.get('location')!);
        else break;
      }
      assert.equal(last, 429);
      assert.equal(code, 'TOOMANYREQUESTS');
      for (const loc of opened) await client().send('DELETE', loc);
      assert.equal((await client().send('POST', `/v2/${name}/blobs/uploads/`)).status, 202);
    });

    test('auth: requests without credentials are challenged (401 UNAUTHORIZED + WWW-Authenticate)', async (tt) => {
      const a = t().auth;
      if (a.kind === 'none') {
        tt.skip('open registry');
        return;
      }
      const anon = new RegistryClient(t().url, { kind: 'none' });
      const r = await anon.send('GET', '/v2/');
      assert.equal(r.status, 401);
      assert.equal(r.code(), 'UNAUTHORIZED');
      const ch = r.headers.get('www-authenticate') ?? '';
      assert.match(ch, a.kind === 'basic' ? /^Basic realm="[^"]+"/ : /^Bearer realm="[^"]+",service="[^"]+"/);
      const rb = await anon.send('GET', `/v2/${repo('x')}/tags/list`);
      assert.equal(rb.status, 401);
      if (a.kind === 'token') assert.equal(parseChallenge(rb.headers.get('www-authenticate')!).params.scope, `repository:${repo('x')}:pull`);
      if (a.kind === 'basic') {
        const wrong = new RegistryClient(t().url, { kind: 'basic', user: a.user, password: `${a.password}-wrong` });
        assert.equal((await wrong.send('GET', '/v2/')).status, 401);
      }
    });
  });
}
