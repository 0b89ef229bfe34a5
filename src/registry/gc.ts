/**
 * Garbage collection: mark every blob reachable from the manifests linked in any repository (tags point at those),
 * following index children, configs, layers and, from a subject, the manifests that refer to it; sweep the rest.
 * Run it with the server stopped (as distribution's `garbage-collect`): a push in flight has blobs that no
 * manifest names yet.
 */
import { promises as fsp } from 'node:fs';
import type { BlobInfo } from '../engine/content/index.js';
import type { Digest } from '../lib/digest.js';
import type { Logger } from '../lib/log.js';
import { MAX_MANIFEST_BYTES, parseManifest, referencesOf } from './manifest-parse.js';
import { RegistryStorage } from './storage.js';

export interface ManifestNode {
  blobs: readonly Digest[];
  manifests: readonly Digest[];
  subject?: Digest;
}

/**
 * The set of digests reachable from `roots` in `graph` (manifest digest → what it names). Digests absent from the
 * graph are leaves (plain blobs). A manifest whose subject is reachable is reachable too (its referrers follow it).
 */
export function markReachable(roots: Iterable<Digest>, graph: ReadonlyMap<Digest, ManifestNode>): Set<Digest> {
  const referrers = new Map<Digest, Digest[]>();
  for (const [d, n] of graph) {
    if (n.subject === undefined) continue;
    const list = referrers.get(n.subject) ?? [];
    list.push(d);
    referrers.set(n.subject, list);
  }
  const marked = new Set<Digest>();
  const stack = [...roots];
  while (stack.length > 0) {
    const d = stack.pop()!;
    if (marked.has(d)) continue;
    marked.add(d);
    const n = graph.get(d);
    if (n) stack.push(...n.blobs, ...n.manifests);
    stack.push(...(referrers.get(d) ?? []));
  }
  return marked;
}

export interface GcResult {
  kept: number;
  removed: BlobInfo[];
  bytes: number;
}

export async function collectGarbage(root: string, opts: { dryRun: boolean; log: Logger }): Promise<GcResult> {
  await fsp.access(root);
  const store = new RegistryStorage(root);
  await store.init();
  const graph = new Map<Digest, ManifestNode>();
  const roots: Digest[] = [];
  const repos = await store.listRepositories();
  for (const repo of repos) {
    for (const d of await store.listManifests(repo)) {
      roots.push(d);
      if (graph.has(d) || !(await store.content.has(d))) continue;
      try {
        const mediaType = await store.manifestMediaType(repo, d);
        graph.set(d, referencesOf(parseManifest(await store.content.readBytes(d, MAX_MANIFEST_BYTES), mediaType)));
      } catch (e) {
        opts.log.warn('gc: unreadable manifest kept without following it', { repo, digest: d, error: e });
        graph.set(d, { blobs: [], manifests: [] });
      }
    }
  }
  const marked = markReachable(roots, graph);
  const removed: BlobInfo[] = [];
  let kept = 0;
  for (const blob of await store.content.list()) {
    if (marked.has(blob.digest)) {
      kept++;
      continue;
    }
    removed.push(blob);
    if (!opts.dryRun) await store.content.delete(blob.digest);
  }
  if (!opts.dryRun) {
    const gone = new Set(removed.map((b) => b.digest));
    for (const repo of repos) for (const d of await store.listBlobLinks(repo)) if (gone.has(d)) await store.unlinkBlob(repo, d);
  }
  return { kept, removed, bytes: removed.reduce((n, b) => n + b.size, 0) };
}
