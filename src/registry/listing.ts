/** Listing endpoints: tags (`n`/`last` pagination with `Link`), the catalog, and the referrers API. */
import type { ServerResponse } from 'node:http';
import { RegistryError } from './errors.js';
import { sendJson } from './http.js';
import { MANIFEST_TYPES, MAX_MANIFEST_BYTES, parseManifest } from './manifest-parse.js';
import type { RegistryStorage } from './storage.js';
import type { RepoRequest } from './types.js';
import { digestParam } from './blobs.js';

const COMMON = { 'Docker-Distribution-API-Version': 'registry/2.0' };

/** One page of a sorted list: entries after `last`, at most `n`, and the next page's link when more remain. */
export function paginate(all: readonly string[], query: URLSearchParams, path: string): { items: string[]; link?: string } {
  const last = query.get('last');
  const nRaw = query.get('n');
  const n = nRaw !== null && /^\d+$/.test(nRaw) ? Number(nRaw) : undefined;
  const after = last !== null && last !== '' ? all.filter((t) => t > last) : [...all];
  if (n === undefined) return { items: after };
  const items = after.slice(0, n);
  if (n === 0 || after.length <= n) return { items };
  const next = new URLSearchParams({ n: String(n), last: items[items.length - 1]! });
  return { items, link: `<${path}?${next.toString()}>; rel="next"` };
}

export async function listTags(r: RepoRequest): Promise<void> {
  if (!(await r.store.repositoryExists(r.name))) throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name: r.name } });
  const tags = (await r.store.tags(r.name)).map(([t]) => t);
  const page = paginate(tags, r.query, `/v2/${r.name}/tags/list`);
  sendJson(r.res, 200, { name: r.name, tags: page.items }, page.link ? { ...COMMON, Link: page.link } : COMMON);
}

export async function listCatalog(res: ServerResponse, store: RegistryStorage, query: URLSearchParams): Promise<void> {
  const page = paginate(await store.listRepositories(), query, '/v2/_catalog');
  sendJson(res, 200, { repositories: page.items }, page.link ? { ...COMMON, Link: page.link } : COMMON);
}

interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export async function listReferrers(r: RepoRequest): Promise<void> {
  const subject = digestParam(r.ref);
  const filter = r.query.get('artifactType');
  const manifests: ReferrerDescriptor[] = [];
  for (const digest of (await r.store.referrers(r.name, subject)).sort()) {
    const mediaType = await r.store.manifestMediaType(r.name, digest);
    if (mediaType === undefined || !(await r.store.content.has(digest))) continue;
    const body = await r.store.content.readBytes(digest, MAX_MANIFEST_BYTES);
    const m = parseManifest(body, mediaType);
    if (filter !== null && m.artifactType !== filter) continue;
    const d: ReferrerDescriptor = { mediaType, digest, size: body.length };
    if (m.artifactType !== undefined) d.artifactType = m.artifactType;
    if (m.annotations !== undefined) d.annotations = m.annotations;
    manifests.push(d);
  }
  const headers: Record<string, string> = { ...COMMON, 'Content-Type': MANIFEST_TYPES.ociIndex };
  if (filter !== null) headers['OCI-Filters-Applied'] = 'artifactType';
  sendJson(r.res, 200, { schemaVersion: 2, mediaType: MANIFEST_TYPES.ociIndex, manifests }, headers);
}
