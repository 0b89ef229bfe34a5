/** Manifest endpoints: GET/HEAD/PUT/DELETE by tag or digest. */
import { type Digest, isDigest, sha256 } from '../lib/digest.js';
import { RegistryError } from './errors.js';
import { readBody, send } from './http.js';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest-parse.js';
import { isTag } from './names.js';
import type { RepoRequest } from './types.js';

const COMMON = { 'Docker-Distribution-API-Version': 'registry/2.0' };

type Reference = { tag: string } | { digest: Digest };

function reference(ref: string): Reference | undefined {
  if (isDigest(ref)) return { digest: ref };
  if (isTag(ref)) return { tag: ref };
  return undefined;
}

function unknown(r: RepoRequest): RegistryError {
  return new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown to registry', { detail: { name: r.name, reference: r.ref.slice(0, 200) } });
}

async function resolve(r: RepoRequest): Promise<Digest> {
  const ref = reference(r.ref);
  if (!ref) throw unknown(r);
  if ('digest' in ref) return ref.digest;
  const d = await r.store.resolveTag(r.name, ref.tag);
  if (d === undefined) {
    if (!(await r.store.repositoryExists(r.name))) throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name: r.name } });
    throw unknown(r);
  }
  return d;
}

export async function getManifest(r: RepoRequest): Promise<void> {
  const digest = await resolve(r);
  const mediaType = await r.store.manifestMediaType(r.name, digest);
  if (mediaType === undefined || !(await r.store.content.has(digest))) throw unknown(r);
  const body = await r.store.content.readBytes(digest, MAX_MANIFEST_BYTES);
  send(r.res, 200, { ...COMMON, 'Content-Type': mediaType, 'Docker-Content-Digest': digest, ETag: `"${digest}"` }, body);
}

export async function putManifest(r: RepoRequest): Promise<void> {
  const ref = reference(r.ref);
  if (!ref) {
    r.req.resume();
    throw new RegistryError('MANIFEST_INVALID', 'invalid tag or digest', { detail: { reference: r.ref.slice(0, 200) } });
  }
  const body = await readBody(r.req, MAX_MANIFEST_BYTES, () =>
    new RegistryError('MANIFEST_INVALID', `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, { status: 413, detail: { limit: MAX_MANIFEST_BYTES } }));
  const m = parseManifest(body, r.req.headers['content-type']);
  const digest = sha256(body);
  if ('digest' in ref && ref.digest !== digest) {
    throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match the reference', { detail: { expected: ref.digest, actual: digest } });
  }
  for (const d of m.blobs) {
    if (d.urls !== undefined && d.urls.length > 0) continue; // foreign layers live elsewhere
    if (!(await r.store.hasBlob(r.name, d.digest))) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', 'manifest references a blob unknown to the repository', { detail: { digest: d.digest } });
  }
  for (const d of m.manifests) {
    const known = (await r.store.manifestMediaType(r.name, d.digest)) !== undefined && (await r.store.content.has(d.digest));
    if (!known) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', 'index references a manifest unknown to the repository', { detail: { digest: d.digest } });
  }
  // Content first, then links, then the tag: a crash in between leaves an unreferenced blob (GC takes it), never a
  // tag pointing at nothing.
  await r.store.content.put(body, { digest });
  await r.store.linkManifest(r.name, digest, m.mediaType, m.subject?.digest);
  if ('tag' in ref) await r.store.setTag(r.name, ref.tag, digest);
  const headers: Record<string, string> = { ...COMMON, Location: `/v2/${r.name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
  if (m.subject) headers['OCI-Subject'] = m.subject.digest;
  send(r.res, 201, headers);
}

export async function deleteManifest(r: RepoRequest): Promise<void> {
  const ref = reference(r.ref);
  if (!ref) throw unknown(r);
  if ('tag' in ref) {
    if (!(await r.store.deleteTag(r.name, ref.tag))) throw unknown(r);
    send(r.res, 202, COMMON);
    return;
  }
  let subject: Digest | undefined;
  const mediaType = await r.store.manifestMediaType(r.name, ref.digest);
  if (mediaType !== undefined && (await r.store.content.has(ref.digest))) {
    try {
      subject = parseManifest(await r.store.content.readBytes(ref.digest, MAX_MANIFEST_BYTES), mediaType).subject?.digest;
    } catch {
      subject = undefined;
    }
  }
  if (!(await r.store.unlinkManifest(r.name, ref.digest, subject))) throw unknown(r);
  send(r.res, 202, COMMON);
}
