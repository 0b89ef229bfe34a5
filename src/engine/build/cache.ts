/**
 * The build cache: our own index under the data root, `key -> step result`, never a search through image records
 * by parent (CVE-2024-24557: an image that merely claims a parent could be matched and poison later builds). The key
 * is a hash of the parent step's config digest (which covers every config field, the rootfs and the history), the
 * expanded instruction, the build args the step sees and, for COPY/ADD, the content checksum of its sources.
 * Results point at blobs (the step's config JSON, its layer) and a committed snapshot; the builder holds a lease on
 * the blobs and pins the snapshots, so image GC keeps them until `build prune`.
 */
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../lib/atomic.js';
import { type Digest, sha256 } from '../../lib/digest.js';
import { Mutex } from '../../lib/mutex.js';
import type { ContentStore } from '../content/index.js';
import type { Snapshotter } from '../snapshots/index.js';

export interface CacheEntry {
  /** The step's resulting config digest (its image ID). */
  id: Digest;
  /** The layer the step made, if any. */
  layer?: { digest: Digest; size: number };
  /** Snapshot key of the resulting rootfs (last chain ID), if the rootfs has layers. */
  chainId?: string;
  /** What the step was (`RUN make`), for `system df`. */
  description: string;
  created: string;
  lastUsed: string;
  usageCount: number;
}

interface IndexFile {
  version: 1;
  entries: Record<string, CacheEntry>;
}

/** The identity of a step: every input that can change its result. */
export function cacheKey(parts: { parent: string; instruction: string; args?: readonly string[]; sources?: readonly string[]; extra?: string }): string {
  return sha256(JSON.stringify([parts.parent, parts.instruction, parts.args ?? [], parts.sources ?? [], parts.extra ?? ''])).slice(7);
}

export interface CacheLeases {
  /** Hold blobs against GC; returns the release function. */
  lease(digests: Iterable<Digest>): () => void;
}

const CONFIG_MEMO_MAX = 1024;

export class BuildCache {
  private entries = new Map<string, CacheEntry>();
  private readonly releases = new Map<string, () => void>();
  private readonly lock = new Mutex();
  private dirty = false;
  private readonly verified = new Set<string>();
  /** Config blobs are immutable (content-addressed): a bounded memo of the recent ones. */
  private readonly configs = new Map<string, string>();

  constructor(private readonly d: { root: string; content: ContentStore; snapshots: Snapshotter; leases: CacheLeases }) {}

  private get file(): string {
    return join(this.d.root, 'cache.json');
  }

  async init(): Promise<void> {
    const f = await readJson<IndexFile>(this.file);
    for (const [k, e] of Object.entries(f?.entries ?? {})) this.track(k, e);
  }

  private track(key: string, e: CacheEntry): void {
    this.releases.get(key)?.();
    this.entries.set(key, e);
    this.releases.set(key, this.d.leases.lease([e.id, ...(e.layer ? [e.layer.digest] : [])]));
  }

  /**
   * A usable result for `key`: its blobs and snapshot must still exist (else it is dropped: a miss). Checked once
   * per entry while petid runs: from then on the entry's lease and the snapshot pin keep them.
   */
  async get(key: string): Promise<CacheEntry | undefined> {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const ok = this.verified.has(key) || (await this.d.content.has(e.id)) && (!e.layer || (await this.d.content.has(e.layer.digest)))
      && (e.chainId === undefined || (await this.d.snapshots.stat(e.chainId).then(() => true, () => false)));
    if (!ok) {
      this.drop(key);
      return undefined;
    }
    this.verified.add(key);
    e.lastUsed = new Date().toISOString();
    e.usageCount++;
    this.dirty = true;
    return e;
  }

  /** A cached step's image config (JSON text), read from the content store once and then remembered. */
  async configText(id: Digest): Promise<string> {
    const known = this.configs.get(id);
    if (known !== undefined) return known;
    const text = (await this.d.content.readBytes(id)).toString('utf8');
    if (this.configs.size >= CONFIG_MEMO_MAX) this.configs.delete(this.configs.keys().next().value!);
    this.configs.set(id, text);
    return text;
  }

  put(key: string, e: CacheEntry): void {
    this.track(key, e);
    this.dirty = true;
  }

  private drop(key: string): void {
    this.verified.delete(key);
    this.releases.get(key)?.();
    this.releases.delete(key);
    this.entries.delete(key);
    this.dirty = true;
  }

  /** Write the index (atomically) when it changed. A crash loses only cache hits, never correctness. */
  async flush(): Promise<void> {
    await this.lock.run(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const out: IndexFile = { version: 1, entries: Object.fromEntries(this.entries) };
      await writeJsonAtomic(this.file, out);
    });
  }

  list(): (CacheEntry & { key: string })[] {
    return [...this.entries].map(([key, e]) => ({ ...e, key }));
  }

  /** Snapshots the cache needs (image GC roots). */
  pinnedSnapshots(): string[] {
    return [...this.entries.values()].flatMap((e) => (e.chainId ? [e.chainId] : []));
  }

  /**
   * Forget entries, as `docker builder prune`: without `all`, only those whose result no image uses (`inUse`);
   * with `until` (ms epoch), only those last used before it; with `keepStorage`, the oldest candidates go only while
   * the cache's layers exceed that many bytes. Returns what was removed; the caller runs image GC to free the data.
   */
  async prune(opts: { all?: boolean; until?: number; keepStorage?: number; inUse: (id: Digest) => boolean }): Promise<(CacheEntry & { key: string })[]> {
    const candidates = this.list()
      .filter((e) => (opts.all || !opts.inUse(e.id)) && (opts.until === undefined || Date.parse(e.lastUsed) < opts.until))
      .sort((a, b) => Date.parse(a.lastUsed) - Date.parse(b.lastUsed));
    let total = this.list().reduce((n, e) => n + (e.layer?.size ?? 0), 0);
    const removed: (CacheEntry & { key: string })[] = [];
    for (const e of candidates) {
      if (opts.keepStorage && total <= opts.keepStorage) break;
      total -= e.layer?.size ?? 0;
      removed.push(e);
      this.drop(e.key);
    }
    await this.flush();
    return removed;
  }
}
