import type { Digest } from '../../lib/digest.js';
import { readJson, writeJsonAtomic } from '../../lib/atomic.js';

export interface BlobSource {
  /** Registry domain (`127.0.0.1:5000`). */
  registry: string;
  /** Repository path (`library/busybox`). */
  repo: string;
}

/** Most sources kept per blob: enough to find a mount source, small enough to stay a tiny file. */
const MAX_PER_BLOB = 4;

/**
 * Where each blob was pulled from or pushed to, so a push to another repository on the same registry can mount
 * it instead of uploading it (`POST /v2/<to>/blobs/uploads/?mount=<digest>&from=<repo>`). One JSON file, atomic.
 */
export class BlobSources {
  private readonly map = new Map<Digest, BlobSource[]>();
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  async init(): Promise<void> {
    const j = await readJson<{ sources: Record<string, BlobSource[]> }>(this.path);
    for (const [d, list] of Object.entries(j?.sources ?? {})) this.map.set(d as Digest, list);
  }

  /** A repository on `registry`, other than `exclude`, known to hold the blob. */
  find(digest: Digest, registry: string, exclude: string): BlobSource | undefined {
    return this.map.get(digest)?.find((s) => s.registry === registry && s.repo !== exclude);
  }

  async add(digests: Iterable<Digest>, src: BlobSource): Promise<void> {
    for (const d of digests) {
      const list = (this.map.get(d) ?? []).filter((s) => s.registry !== src.registry || s.repo !== src.repo);
      list.unshift(src);
      this.map.set(d, list.slice(0, MAX_PER_BLOB));
    }
    // Writes are chained so the file always holds one whole snapshot.
    this.saving = this.saving.then(() => writeJsonAtomic(this.path, { sources: Object.fromEntries(this.map) })).catch(() => undefined);
    await this.saving;
  }

}
