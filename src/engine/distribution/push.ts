import { createReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { type Digest, hexOf } from '../../lib/digest.js';
import { InvalidArgument } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { type Descriptor, type Manifest, MediaType, isIndexMediaType } from '../../lib/oci/types.js';
import { type Reference, repoName } from '../../lib/reference.js';
import type { ImageRecord, LocalImageService } from '../images/index.js';
import { digestError } from './errors.js';
import { limiter } from './limit.js';
import type { BlobSources } from './sources.js';
import type { RegistrySession } from './session.js';
import { drain } from './transport.js';
import type { DistProgressFn } from './types.js';

export interface PushDeps {
  images: LocalImageService;
  sources: BlobSources;
  log: Logger;
  /** Blobs uploaded at once. */
  concurrency: number;
  /** Blobs above this size go up in PATCH chunks of this size; smaller ones in one PUT. */
  chunkSize: number;
}

type BlobOutcome = { kind: 'exists' } | { kind: 'mounted'; from: string } | { kind: 'pushed' };

function isForeign(d: Descriptor): boolean {
  return d.mediaType === MediaType.DockerForeignLayer || (d.mediaType.includes('nondistributable') && (d.urls?.length ?? 0) > 0);
}

/** Count bytes flowing through, for `Pushing` progress. */
function counting(src: Readable, onBytes: (n: number) => void): Readable {
  let n = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onBytes(n);
      cb(null, chunk);
    },
  });
  src.on('error', (e) => t.destroy(e));
  return src.pipe(t);
}

/** Upload URL with `digest=` added, keeping the registry's own query (its upload state). */
function withDigest(location: string, base: URL, digest: Digest): string {
  const u = new URL(location, base);
  u.searchParams.set('digest', digest);
  return u.href;
}

async function uploadLocation(session: RegistrySession, res: IncomingMessage, what: string): Promise<string> {
  if (res.statusCode !== 202 || !res.headers.location) await session.fail(res, what);
  drain(res);
  return res.headers.location!;
}

/**
 * Push one blob: `HEAD` first (already there: skip), then a cross-repository mount when we know another repository
 * on this registry that holds it, else an upload (one `PUT` for small blobs, `PATCH` chunks with `Content-Range`
 * then `PUT ?digest=` for large ones).
 */
async function pushBlob(deps: PushDeps, session: RegistrySession, repo: string, desc: Descriptor, onBytes: (n: number) => void, signal?: AbortSignal): Promise<BlobOutcome> {
  const content = deps.images.d.content;
  const head = await session.request('HEAD', `/v2/${repo}/blobs/${desc.digest}`, { signal });
  drain(head);
  if (head.statusCode === 200) return { kind: 'exists' };
  if (head.statusCode !== 404) await session.fail(head, `blob ${desc.digest}`);
  await content.info(desc.digest);

  let location: string;
  const src = deps.sources.find(desc.digest, session.endpoint.domain, repo);
  if (src) {
    const q = new URLSearchParams({ mount: desc.digest, from: src.repo });
    const res = await session.request('POST', `/v2/${repo}/blobs/uploads/?${q}`, { body: Buffer.alloc(0), signal }, [`repository:${src.repo}:pull`]);
    if (res.statusCode === 201) {
      drain(res);
      return { kind: 'mounted', from: src.repo };
    }
    location = await uploadLocation(session, res, `mount of ${desc.digest}`);
  } else {
    location = await uploadLocation(session, await session.request('POST', `/v2/${repo}/blobs/uploads/`, { body: Buffer.alloc(0), signal }), `upload of ${desc.digest}`);
  }

  const path = content.path(desc.digest);
  if (desc.size <= deps.chunkSize) {
    const res = await session.request('PUT', withDigest(location, session.baseUrl, desc.digest), {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(desc.size) },
      body: () => counting(createReadStream(path, { highWaterMark: 1024 * 1024 }), onBytes),
      signal,
    });
    if (res.statusCode !== 201) await session.fail(res, `upload of ${desc.digest}`);
    drain(res);
  } else {
    for (let start = 0; start < desc.size; start += deps.chunkSize) {
      const end = Math.min(desc.size, start + deps.chunkSize) - 1;
      const res = await session.request('PATCH', new URL(location, session.baseUrl).href, {
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(end - start + 1), 'Content-Range': `${start}-${end}` },
        body: () => counting(createReadStream(path, { start, end, highWaterMark: 1024 * 1024 }), (n) => onBytes(start + n)),
        signal,
      });
      location = await uploadLocation(session, res, `upload of ${desc.digest}`);
    }
    const res = await session.request('PUT', withDigest(location, session.baseUrl, desc.digest), { body: Buffer.alloc(0), signal });
    if (res.statusCode !== 201) await session.fail(res, `upload of ${desc.digest}`);
    drain(res);
  }
  return { kind: 'pushed' };
}

/**
 * Push one local image under `ref` (which has a tag): its layers (progress per layer, by diff ID as Docker shows
 * them), its config, then the manifest exactly as stored so its digest does not change. Records the blobs' new
 * home for later mounts and the image's new RepoDigest.
 */
export async function pushOne(deps: PushDeps, session: RegistrySession, ref: Reference & { tag: string }, rec: ImageRecord, progress: DistProgressFn, signal?: AbortSignal): Promise<{ digest: Digest; size: number }> {
  const { images } = deps;
  const content = images.d.content;
  const bytes = await content.readBytes(rec.manifest, 4 * 1024 * 1024);
  if (isIndexMediaType(rec.manifestMediaType)) throw new InvalidArgument('pushing an image index is not supported');
  const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  const release = images.lease([rec.manifest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)]);
  try {
    const limit = limiter(deps.concurrency);
    const ids = manifest.layers.map((l, i) => (rec.diffIds[i] ? hexOf(rec.diffIds[i]!) : hexOf(l.digest)).slice(0, 12));
    // Docker lists layers top-down.
    const order = manifest.layers.map((_, i) => i).reverse();
    for (const i of order) progress({ status: 'Preparing', id: ids[i]! });
    let queued = 0;
    const jobs = order.map((i) => {
      const l = manifest.layers[i]!;
      const id = ids[i]!;
      if (isForeign(l)) {
        progress({ status: 'Skipped foreign layer', id });
        return Promise.resolve();
      }
      if (++queued > deps.concurrency) progress({ status: 'Waiting', id });
      return limit(async () => {
        let last = 0;
        const r = await pushBlob(deps, session, ref.path, l, (n) => {
          const now = Date.now();
          if (now - last > 100 || n === l.size) {
            last = now;
            progress({ status: 'Pushing', id, current: n, total: l.size });
          }
        }, signal);
        if (r.kind === 'exists') progress({ status: 'Layer already exists', id });
        else if (r.kind === 'mounted') progress({ status: `Mounted from ${r.from}`, id });
        else progress({ status: 'Pushed', id });
      });
    });
    const settled = await Promise.allSettled(jobs);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    await pushBlob(deps, session, ref.path, manifest.config, () => undefined, signal);

    const mediaType = manifest.mediaType ?? rec.manifestMediaType;
    const res = await session.request('PUT', `/v2/${ref.path}/manifests/${ref.tag}`, { headers: { 'Content-Type': mediaType }, body: bytes, signal });
    if (res.statusCode !== 201 && res.statusCode !== 200) await session.fail(res, `manifest ${ref.tag}`);
    drain(res);
    const got = res.headers['docker-content-digest'];
    if (typeof got === 'string' && got.startsWith('sha256:') && got !== rec.manifest) {
      throw digestError(`registry stored the manifest as ${got}, expected ${rec.manifest}`);
    }
    await deps.sources.add([manifest.config.digest, ...manifest.layers.map((l) => l.digest)], { registry: session.endpoint.domain, repo: ref.path });
    const repoDigest = `${repoName(ref)}@${rec.manifest}`;
    await images.lock.run(async () => {
      const cur = images.store.records.get(rec.id);
      const cfg = images.store.configs.get(rec.id);
      if (cur && cfg && !cur.repoDigests.includes(repoDigest)) await images.store.putRecord({ ...cur, repoDigests: [...cur.repoDigests, repoDigest] }, cfg);
    });
    return { digest: rec.manifest, size: bytes.length };
  } finally {
    release();
  }
}
