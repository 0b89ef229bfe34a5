/** Blob endpoints: GET/HEAD (with Range), DELETE, and the upload flow (POST, PATCH, PUT, GET status, DELETE). */
import { type Digest, isDigest } from '../lib/digest.js';
import { RegistryError } from './errors.js';
import { hasBody, parseContentRange, parseRange, send } from './http.js';
import { checkRepositoryName } from './names.js';
import type { RepoRequest } from './types.js';
import { asDigestInvalid, rangeHeader } from './uploads.js';

const COMMON = { 'Docker-Distribution-API-Version': 'registry/2.0' };

export function digestParam(v: string | null | undefined, what = 'digest'): Digest {
  if (v === null || v === undefined || v === '') throw new RegistryError('DIGEST_INVALID', `${what} is missing`);
  if (!isDigest(v)) throw new RegistryError('DIGEST_INVALID', `invalid or unsupported ${what}`, { detail: { digest: v.slice(0, 200) } });
  return v;
}

function blobLocation(name: string, digest: Digest): string {
  return `/v2/${name}/blobs/${digest}`;
}

function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

export async function getBlob(r: RepoRequest): Promise<void> {
  const digest = digestParam(r.ref);
  if (!(await r.store.hasBlob(r.name, digest))) throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
  const { size } = await r.store.content.info(digest);
  const headers = { ...COMMON, 'Docker-Content-Digest': digest, 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: `"${digest}"` };
  const range = parseRange(r.req.headers.range, size);
  if (range === 'unsatisfiable') {
    send(r.res, 416, { ...headers, 'Content-Range': `bytes */${size}` });
    return;
  }
  const status = range ? 206 : 200;
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  const h: Record<string, string | number> = { ...headers, 'Content-Length': Math.max(0, end - start + 1) };
  if (range) h['Content-Range'] = `bytes ${start}-${end}/${size}`;
  if (r.req.method === 'HEAD' || size === 0) {
    send(r.res, status, h);
    return;
  }
  r.res.writeHead(status, h);
  const stream = await r.store.content.read(digest, start);
  let left = end - start + 1;
  // The store's stream reads to the end of the blob; stop at the range's end.
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    const part = buf.length > left ? buf.subarray(0, left) : buf;
    left -= part.length;
    if (!r.res.write(part)) await new Promise<void>((ok) => r.res.once('drain', ok));
    if (left <= 0 || r.res.destroyed) break;
  }
  stream.destroy();
  r.res.end();
}

export async function deleteBlob(r: RepoRequest): Promise<void> {
  const digest = digestParam(r.ref);
  if (!(await r.store.unlinkBlob(r.name, digest))) throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
  send(r.res, 202, COMMON);
}

function created(r: RepoRequest, digest: Digest): void {
  send(r.res, 201, { ...COMMON, Location: blobLocation(r.name, digest), 'Docker-Content-Digest': digest });
}

/** POST /v2/<name>/blobs/uploads/ : mount, monolithic (?digest=), or open a session. */
export async function startUpload(r: RepoRequest): Promise<void> {
  const mount = r.query.get('mount');
  const from = r.query.get('from');
  if (mount !== null && isDigest(mount)) {
    // Mount only what the caller may read in `from`; otherwise fall back to an upload, as the spec allows.
    const source = from !== null && from !== '' ? checkRepositoryName(from) : undefined;
    if (source !== undefined && r.grant.can(source, 'pull') && (await r.store.hasBlob(source, mount))) {
      await r.store.linkBlob(r.name, mount);
      r.req.resume();
      created(r, mount);
      return;
    }
  }
  const digestQ = r.query.get('digest');
  if (digestQ !== null) {
    const digest = digestParam(digestQ);
    try {
      await r.store.content.ingest(r.req, { digest });
    } catch (e) {
      throw asDigestInvalid(e);
    }
    await r.store.linkBlob(r.name, digest);
    created(r, digest);
    return;
  }
  r.req.resume();
  const id = await r.uploads.create(r.name);
  send(r.res, 202, { ...COMMON, Location: uploadLocation(r.name, id), 'Docker-Upload-UUID': id, Range: rangeHeader(0) });
}

function progress(r: RepoRequest, size: number, status: number): void {
  send(r.res, status, { ...COMMON, Location: uploadLocation(r.name, r.ref), 'Docker-Upload-UUID': r.ref, Range: rangeHeader(size) });
}

/** PATCH: a ranged chunk, or Docker's streaming body without Content-Range. */
export async function patchUpload(r: RepoRequest): Promise<void> {
  const range = parseContentRange(r.req.headers['content-range']);
  try {
    const size = await r.uploads.append(r.name, r.ref, r.req, range);
    progress(r, size, 202);
  } catch (e) {
    if (e instanceof RegistryError && e.status === 416) {
      e.headers.Location = uploadLocation(r.name, r.ref);
      e.headers['Docker-Upload-UUID'] = r.ref;
    }
    throw e;
  }
}

/** PUT ?digest= closes the session, with an optional final chunk. */
export async function putUpload(r: RepoRequest): Promise<void> {
  const digest = digestParam(r.query.get('digest'));
  const body = hasBody(r.req) ? r.req : undefined;
  if (!body) r.req.resume();
  const range = body ? parseContentRange(r.req.headers['content-range']) : undefined;
  await r.uploads.finish(r.name, r.ref, digest, body, range);
  await r.store.linkBlob(r.name, digest);
  created(r, digest);
}

export async function uploadStatus(r: RepoRequest): Promise<void> {
  progress(r, await r.uploads.size(r.name, r.ref), 204);
}

export async function cancelUpload(r: RepoRequest): Promise<void> {
  await r.uploads.cancel(r.name, r.ref);
  send(r.res, 204, COMMON);
}
