import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument, NotFound } from '../../lib/errors.js';
import { readJson, writeJsonAtomic } from '../../lib/atomic.js';
import type { NetworkRecord } from './types.js';

/**
 * Network records (config + IPAM state: the endpoints and their addresses), one JSON file per network, written
 * atomically. Writes of one network are chained so a later state never loses to an earlier one on disk.
 */
export class NetworkStore {
  readonly byId = new Map<string, NetworkRecord>();
  private readonly writes = new Map<string, Promise<void>>();

  constructor(readonly root: string) {}

  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const f of await fsp.readdir(this.root)) {
      if (!/^[a-f0-9]{64}\.json$/.test(f)) continue;
      const rec = await readJson<NetworkRecord>(join(this.root, f));
      if (rec) this.byId.set(rec.id, rec);
    }
  }

  /** Persist the record's current state (after the in-memory change, so allocation stays synchronous). */
  save(rec: NetworkRecord): Promise<void> {
    this.byId.set(rec.id, rec);
    const prev = this.writes.get(rec.id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => (this.byId.get(rec.id) === rec ? writeJsonAtomic(join(this.root, `${rec.id}.json`), rec) : undefined));
    this.writes.set(rec.id, next);
    return next;
  }

  async delete(id: string): Promise<void> {
    this.byId.delete(id);
    await (this.writes.get(id) ?? Promise.resolve()).catch(() => undefined);
    this.writes.delete(id);
    await fsp.rm(join(this.root, `${id}.json`), { force: true });
  }

  byName(name: string): NetworkRecord | undefined {
    for (const r of this.byId.values()) if (r.name === name) return r;
    return undefined;
  }

  /** Docker's lookup order: full ID, exact name, unique ID prefix. */
  find(ref: string): NetworkRecord | undefined {
    const exact = this.byId.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    if (!/^[a-f0-9]+$/.test(ref)) return undefined;
    const hits = [...this.byId.values()].filter((r) => r.id.startsWith(ref));
    if (hits.length > 1) throw new InvalidArgument(`network ${ref} is ambiguous (${hits.length} matches found based on ID prefix)`);
    return hits[0];
  }

  get(ref: string): NetworkRecord {
    const r = this.find(ref);
    if (!r) throw new NotFound(`network ${ref} not found`);
    return r;
  }
}
