/**
 * Volume records on disk: `<root>/<name>/volume.json` (atomic writes) beside `<root>/<name>/_data`, the directory
 * containers see. A directory without a readable record is ignored (a create that crashed half-way).
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../lib/atomic.js';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../lib/log.js';
import { isValidVolumeName } from './names.js';
import type { VolumeRecord } from './types.js';

export class VolumeStore {
  readonly byName = new Map<string, VolumeRecord>();

  constructor(readonly root: string, private readonly log: Logger) {}

  dir(name: string): string {
    if (!isValidVolumeName(name)) throw new Error(`invalid volume name ${JSON.stringify(name)}`);
    return join(this.root, name);
  }

  dataDir(name: string): string {
    return join(this.dir(name), '_data');
  }

  async init(): Promise<void> {
    // 0701 as Docker's: a container user may traverse to _data, nobody lists the volumes.
    await fsp.mkdir(this.root, { recursive: true, mode: 0o701 });
    await fsp.chmod(this.root, 0o701);
    for (const name of await fsp.readdir(this.root)) {
      if (name.startsWith('.trash-')) {
        await fsp.rm(join(this.root, name), { recursive: true, force: true }).catch(() => undefined);
        continue;
      }
      if (!isValidVolumeName(name)) continue;
      try {
        const rec = await readJson<VolumeRecord>(join(this.root, name, 'volume.json'));
        if (rec && rec.name === name) this.byName.set(name, rec);
      } catch (e) {
        this.log.warn('unreadable volume record', { name, err: (e as Error).message });
      }
    }
  }

  /** Create the directories, then the record: a crash in between leaves a directory init ignores. */
  async add(rec: VolumeRecord): Promise<void> {
    await fsp.mkdir(this.dir(rec.name), { recursive: true, mode: 0o701 });
    await fsp.mkdir(this.dataDir(rec.name), { recursive: true, mode: 0o755 });
    await this.save(rec);
  }

  async save(rec: VolumeRecord): Promise<void> {
    await writeJsonAtomic(join(this.dir(rec.name), 'volume.json'), rec);
    this.byName.set(rec.name, rec);
  }

  /**
   * Forget a volume: the record goes first (atomically, by renaming the directory aside), then the data. The
   * caller has made sure nothing is mounted on `_data`: fs.rm would otherwise delete through the mount.
   */
  async delete(name: string): Promise<void> {
    const trash = join(this.root, `.trash-${randomBytes(8).toString('hex')}`);
    await fsp.rename(this.dir(name), trash);
    this.byName.delete(name);
    await fsp.rm(trash, { recursive: true, force: true });
  }
}
