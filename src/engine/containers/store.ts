import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../lib/atomic.js';
import { Conflict, InvalidArgument, NotFound } from '../../lib/errors.js';
import type { ContainerRecord } from './types.js';

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ID_RE = /^[a-f0-9]{64}$/;

/** Container records: one JSON file each under `<root>/<id>/container.json`, all held in memory. */
export class ContainerStore {
  readonly byId = new Map<string, ContainerRecord>();

  constructor(readonly root: string) {}

  dir(id: string): string {
    if (!ID_RE.test(id)) throw new InvalidArgument(`invalid container id ${id}`);
    return join(this.root, id);
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o711 });
    for (const id of await fsp.readdir(this.root)) {
      if (!ID_RE.test(id)) continue;
      const rec = await readJson<ContainerRecord>(join(this.root, id, 'container.json'));
      if (rec) this.byId.set(rec.id, rec);
    }
  }

  async save(rec: ContainerRecord): Promise<void> {
    await writeJsonAtomic(join(this.dir(rec.id), 'container.json'), rec);
    this.byId.set(rec.id, rec);
  }

  async delete(id: string): Promise<void> {
    this.byId.delete(id);
    await fsp.rm(this.dir(id), { recursive: true, force: true });
  }

  /** Docker's name rule; returns the name without the slash. */
  static checkName(name: string): string {
    if (!NAME_RE.test(name)) throw new InvalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    return name.replace(/^\//, '');
  }

  byName(name: string): ContainerRecord | undefined {
    const n = name.replace(/^\//, '');
    for (const r of this.byId.values()) if (r.name === n) return r;
    return undefined;
  }

  assertNameFree(name: string): void {
    const other = this.byName(name);
    if (other) {
      throw new Conflict(`Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`, { code: 'PETI_ERR_ALREADY_EXISTS' });
    }
  }

  /** Docker's lookup order: full ID, exact name, unique ID prefix. */
  find(ref: string): ContainerRecord | undefined {
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const named = this.byName(ref);
    if (named) return named;
    if (/^[a-f0-9]+$/.test(ref)) {
      const hits = [...this.byId.values()].filter((r) => r.id.startsWith(ref));
      if (hits.length === 1) return hits[0];
      if (hits.length > 1) throw new InvalidArgument(`multiple IDs found with provided prefix: ${ref}`);
    }
    return undefined;
  }

  get(ref: string): ContainerRecord {
    const r = this.find(ref);
    if (!r) throw new NotFound(`No such container: ${ref}`, { code: 'PETI_ERR_NO_SUCH_CONTAINER' });
    return r;
  }
}

/** Random Docker-style names: adjective_surname. */
const LEFT = ['admiring', 'bold', 'brave', 'clever', 'dreamy', 'eager', 'focused', 'gallant', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nifty', 'quirky', 'relaxed', 'serene', 'tender', 'vibrant', 'zealous'];
const RIGHT = ['almeida', 'bose', 'curie', 'darwin', 'euler', 'fermi', 'gauss', 'hopper', 'kartini', 'lovelace', 'meitner', 'noether', 'pasteur', 'ramanujan', 'sukarno', 'tesla', 'turing', 'wallace', 'yalow', 'zuse'];

export function randomName(taken: (n: string) => boolean): string {
  for (let i = 0; ; i++) {
    const n = `${LEFT[Math.floor(Math.random() * LEFT.length)]}_${RIGHT[Math.floor(Math.random() * RIGHT.length)]}${i > 5 ? Math.floor(Math.random() * 10) : ''}`;
    if (!taken(n)) return n;
  }
}
