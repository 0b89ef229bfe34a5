import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { type Digest, hexOf, isHex64 } from '../../lib/digest.js';
import { readJson, writeJsonAtomic } from '../../lib/atomic.js';
import type { ImageConfig } from '../../lib/oci/types.js';
import type { ContentStore } from '../content/index.js';
import type { ImageRecord } from './types.js';

interface RefsFile {
  /** full reference (`docker.io/library/busybox:latest`) -> image ID */
  refs: Record<string, Digest>;
}

/**
 * Image records (one JSON file per image, atomic writes) and the reference table (one JSON file, atomic).
 * Everything is held in memory too: listing images never touches the disk.
 */
export class ImageStore {
  private readonly dir: string;
  private readonly refsPath: string;
  readonly records = new Map<Digest, ImageRecord>();
  readonly configs = new Map<Digest, ImageConfig>();
  readonly refs = new Map<string, Digest>();

  constructor(root: string, private readonly content: ContentStore) {
    this.dir = join(root, 'records');
    this.refsPath = join(root, 'refs.json');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await fsp.readdir(this.dir)) {
      const hex = name.replace(/\.json$/, '');
      if (!isHex64(hex)) continue;
      const rec = await readJson<ImageRecord>(join(this.dir, name));
      if (!rec) continue;
      try {
        const cfg = JSON.parse((await this.content.readBytes(rec.id)).toString('utf8')) as ImageConfig;
        this.records.set(rec.id, rec);
        this.configs.set(rec.id, cfg);
      } catch {
        // A record whose config blob is gone cannot be used; drop it rather than serve a broken image.
        await fsp.rm(join(this.dir, name), { force: true });
      }
    }
    const refs = await readJson<RefsFile>(this.refsPath);
    for (const [r, id] of Object.entries(refs?.refs ?? {})) if (this.records.has(id)) this.refs.set(r, id);
  }

  async putRecord(rec: ImageRecord, config: ImageConfig): Promise<void> {
    await writeJsonAtomic(join(this.dir, `${hexOf(rec.id)}.json`), rec);
    this.records.set(rec.id, rec);
    this.configs.set(rec.id, config);
  }

  async deleteRecord(id: Digest): Promise<void> {
    await fsp.rm(join(this.dir, `${hexOf(id)}.json`), { force: true });
    this.records.delete(id);
    this.configs.delete(id);
  }

  tagsOf(id: Digest): string[] {
    const out: string[] = [];
    for (const [r, v] of this.refs) if (v === id) out.push(r);
    return out.sort();
  }

  async setRef(ref: string, id: Digest): Promise<void> {
    this.refs.set(ref, id);
    await this.saveRefs();
  }

  async deleteRef(ref: string): Promise<void> {
    this.refs.delete(ref);
    await this.saveRefs();
  }

  private async saveRefs(): Promise<void> {
    await writeJsonAtomic(this.refsPath, { refs: Object.fromEntries(this.refs) } satisfies RefsFile);
  }
}
