import { type Digest, isDigest, parseDigest, sha256 } from '../../lib/digest.js';
import { InvalidArgument } from '../../lib/errors.js';
import { type Index, type Manifest, MediaType, isIndexMediaType, isManifestMediaType } from '../../lib/oci/types.js';
import { digestError } from './errors.js';
import type { RegistrySession } from './session.js';
import { MAX_SMALL_BODY, readBody } from './transport.js';

/** Every manifest type we can use, as Docker's Accept header lists them. */
export const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest].join(', ');

export interface FetchedManifest {
  bytes: Buffer;
  digest: Digest;
  mediaType: string;
  index?: Index;
  manifest?: Manifest;
}

/**
 * GET a manifest by tag or digest and verify it: by digest, the bytes must hash to it; by tag, they must hash to
 * the registry's `Docker-Content-Digest` when it sends one. Capped at 4 MiB as Docker does.
 */
export async function fetchManifest(session: RegistrySession, repo: string, tagOrDigest: string, signal?: AbortSignal): Promise<FetchedManifest> {
  const res = await session.request('GET', `/v2/${repo}/manifests/${tagOrDigest}`, { headers: { Accept: MANIFEST_ACCEPT }, signal });
  if (res.statusCode !== 200) await session.fail(res, `manifest ${tagOrDigest}`);
  const bytes = await readBody(res, MAX_SMALL_BODY);
  const digest = sha256(bytes);
  if (isDigest(tagOrDigest) && digest !== tagOrDigest) throw digestError(`manifest verification failed for digest ${tagOrDigest}`);
  const header = res.headers['docker-content-digest'];
  if (typeof header === 'string' && header.startsWith('sha256:') && header !== digest) {
    throw digestError(`manifest verification failed for digest ${header}: the manifest hashes to ${digest}`);
  }
  let j: { schemaVersion?: number; mediaType?: string; manifests?: unknown; layers?: unknown; config?: unknown };
  try {
    j = JSON.parse(bytes.toString('utf8')) as typeof j;
  } catch {
    throw new InvalidArgument(`manifest ${tagOrDigest} is not valid JSON`);
  }
  if (j.schemaVersion === 1) {
    throw new InvalidArgument('Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of the image to upgrade it');
  }
  const ctype = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
  const mediaType = j.mediaType ?? (Array.isArray(j.manifests) ? MediaType.OciIndex : ctype && (isManifestMediaType(ctype) || isIndexMediaType(ctype)) ? ctype : MediaType.OciManifest);
  if (isIndexMediaType(mediaType) || Array.isArray(j.manifests)) {
    const index = j as Index;
    if (!Array.isArray(index.manifests)) throw new InvalidArgument(`image index ${digest} has no manifests`);
    for (const m of index.manifests) parseDigest(m.digest);
    return { bytes, digest, mediaType, index };
  }
  const manifest = j as Manifest;
  if (!manifest.config || !Array.isArray(manifest.layers)) throw new InvalidArgument(`unsupported manifest media type ${mediaType}`);
  parseDigest(manifest.config.digest);
  for (const l of manifest.layers) {
    parseDigest(l.digest);
    if (!Number.isSafeInteger(l.size) || l.size < 0) throw new InvalidArgument(`manifest ${digest} has a layer with an invalid size`);
  }
  return { bytes, digest, mediaType, manifest };
}

/** All tags of a repository, following `Link` pagination. */
export async function listTags(session: RegistrySession, repo: string, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  let next: string | undefined = `/v2/${repo}/tags/list?n=1000`;
  for (let pages = 0; next && pages < 100; pages++) {
    const res = await session.request('GET', next, { signal });
    if (res.statusCode !== 200) await session.fail(res, `tags of ${repo}`);
    const j = JSON.parse((await readBody(res)).toString('utf8')) as { tags?: string[] | null };
    out.push(...(j.tags ?? []));
    const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(res.headers.link ?? ''));
    next = link?.[1];
  }
  return out;
}
