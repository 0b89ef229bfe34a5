/**
 * overlayfs snapshotter with containerd's shape. Layout: `<root>/<n>/fs` (content) and `<root>/<n>/work`
 * (overlay workdir) with short numeric ids, so a long chain's lowerdir option stays under the one-page limit of
 * mount data; metadata in `<root>/metadata.json`, rewritten atomically under an in-process mutex.
 */
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../lib/atomic.js';
import { AlreadyExists, Conflict, InvalidArgument, NotFound } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { Mount, SnapshotInfo, SnapshotKind, Snapshotter, Usage } from './types.js';

interface SnapshotRecord {
  id: number;
  parent?: string;
  kind: SnapshotKind;
  created: string;
  labels: Record<string, string>;
}

interface Metadata {
  version: 1;
  nextId: number;
  snapshots: Record<string, SnapshotRecord>;
}

export interface OverlaySnapshotterOptions {
  root: string;
  log?: Logger;
}

/** Runs one task at a time, in call order. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

function validKey(key: string): void {
  if (key === '' || key.length > 1024 || key.includes('\0')) throw new InvalidArgument(`invalid snapshot key ${JSON.stringify(key.slice(0, 100))}`);
}

export class OverlaySnapshotter implements Snapshotter {
  private readonly root: string;
  private readonly log: Logger;
  private readonly lock = new Mutex();
  private meta: Metadata | undefined;
  private loading: Promise<Metadata> | undefined;

  constructor(opts: OverlaySnapshotterOptions) {
    this.root = opts.root;
    this.log = opts.log ?? silentLogger;
  }

  private get metaPath(): string {
    return join(this.root, 'metadata.json');
  }

  private dirOf(id: number): string {
    return join(this.root, String(id));
  }

  /** Load metadata once; drop data directories a crash left without a record. */
  private load(): Promise<Metadata> {
    if (this.meta !== undefined) return Promise.resolve(this.meta);
    // one shared load: a second concurrent orphan scan could remove a directory a prepare just made
    this.loading ??= this.doLoad().finally(() => { this.loading = undefined; });
    return this.loading;
  }

  private async doLoad(): Promise<Metadata> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const m = (await readJson<Metadata>(this.metaPath)) ?? { version: 1, nextId: 1, snapshots: {} };
    const used = new Set(Object.values(m.snapshots).map((r) => String(r.id)));
    for (const name of await readdir(this.root)) {
      if (/^[0-9]+$/.test(name) && !used.has(name)) {
        this.log.debug('removing orphaned snapshot directory', { dir: name });
        await rm(join(this.root, name), { recursive: true, force: true });
      }
    }
    this.meta = m;
    return m;
  }

  private async save(m: Metadata): Promise<void> {
    await writeJsonAtomic(this.metaPath, m);
  }

  private async get(key: string): Promise<SnapshotRecord> {
    const m = await this.load();
    const r = Object.hasOwn(m.snapshots, key) ? m.snapshots[key] : undefined;
    if (r === undefined) throw new NotFound(`snapshot ${key} does not exist`);
    return r;
  }

  private info(key: string, r: SnapshotRecord): SnapshotInfo {
    const i: SnapshotInfo = { key, kind: r.kind, created: r.created, labels: { ...r.labels } };
    if (r.parent !== undefined) i.parent = r.parent;
    return i;
  }

  /** fs dirs of `key` and its ancestors, nearest first. */
  private chain(m: Metadata, key: string | undefined): string[] {
    const out: string[] = [];
    for (let k = key; k !== undefined;) {
      const r = m.snapshots[k];
      if (r === undefined) throw new NotFound(`snapshot ${k} does not exist`);
      out.push(join(this.dirOf(r.id), 'fs'));
      k = r.parent;
    }
    return out;
  }

  private mountsOf(m: Metadata, key: string, r: SnapshotRecord): Mount[] {
    const own = join(this.dirOf(r.id), 'fs');
    if (r.kind === 'active') {
      if (r.parent === undefined) return [{ type: 'bind', source: own, options: ['rbind', 'rw'] }];
      return [{
        type: 'overlay',
        source: 'overlay',
        options: [`lowerdir=${this.chain(m, r.parent).join(':')}`, `upperdir=${own}`, `workdir=${join(this.dirOf(r.id), 'work')}`],
      }];
    }
    // read-only: a view shows its parent; a committed snapshot shows itself
    const layers = r.kind === 'view' ? (r.parent === undefined ? [own] : this.chain(m, r.parent)) : this.chain(m, key);
    if (layers.length === 1) return [{ type: 'bind', source: layers[0] as string, options: ['rbind', 'ro'] }];
    return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${layers.join(':')}`] }];
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return this.info(key, await this.get(key));
  }

  async usage(key: string): Promise<Usage> {
    const r = await this.get(key);
    const seen = new Set<number>();
    let size = 0;
    let inodes = 0;
    const walk = async (p: string): Promise<void> => {
      const st = await lstat(p);
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
      inodes++;
      size += st.blocks * 512;
      if (st.isDirectory()) for (const n of await readdir(p)) await walk(join(p, n));
    };
    await walk(join(this.dirOf(r.id), 'fs'));
    return { size, inodes };
  }

  async mounts(key: string): Promise<Mount[]> {
    const m = await this.load();
    return this.mountsOf(m, key, await this.get(key));
  }

  async prepare(key: string, parent?: string, labels: Record<string, string> = {}): Promise<Mount[]> {
    return this.create('active', key, parent, labels);
  }

  async view(key: string, parent?: string, labels: Record<string, string> = {}): Promise<Mount[]> {
    return this.create('view', key, parent, labels);
  }

  private create(kind: 'active' | 'view', key: string, parent: string | undefined, labels: Record<string, string>): Promise<Mount[]> {
    validKey(key);
    return this.lock.run(async () => {
      const m = await this.load();
      if (Object.hasOwn(m.snapshots, key)) throw new AlreadyExists(`snapshot ${key} already exists`);
      if (parent !== undefined) {
        const p = await this.get(parent);
        if (p.kind !== 'committed') throw new InvalidArgument(`parent snapshot ${parent} is not committed`);
      }
      const id = m.nextId;
      const dir = this.dirOf(id);
      await mkdir(join(dir, 'fs'), { recursive: true, mode: 0o755 });
      if (kind === 'active') await mkdir(join(dir, 'work'), { mode: 0o700 });
      const r: SnapshotRecord = { id, kind, created: new Date().toISOString(), labels: { ...labels } };
      if (parent !== undefined) r.parent = parent;
      const next: Metadata = { ...m, nextId: id + 1, snapshots: { ...m.snapshots, [key]: r } };
      try {
        await this.save(next);
      } catch (e) {
        await rm(dir, { recursive: true, force: true });
        throw e;
      }
      this.meta = next;
      this.log.debug('snapshot created', { key, kind, id, parent });
      return this.mountsOf(next, key, r);
    });
  }

  commit(name: string, key: string, labels: Record<string, string> = {}): Promise<void> {
    validKey(name);
    return this.lock.run(async () => {
      const m = await this.load();
      const r = await this.get(key);
      if (r.kind !== 'active') throw new InvalidArgument(`snapshot ${key} is not active`);
      if (Object.hasOwn(m.snapshots, name)) throw new AlreadyExists(`snapshot ${name} already exists`);
      const snapshots = { ...m.snapshots };
      delete snapshots[key];
      snapshots[name] = { ...r, kind: 'committed', labels: { ...r.labels, ...labels } };
      const next: Metadata = { ...m, snapshots };
      await this.save(next);
      this.meta = next;
      // the overlay workdir is only needed while the snapshot is writable
      await rm(join(this.dirOf(r.id), 'work'), { recursive: true, force: true });
      this.log.debug('snapshot committed', { key, name, id: r.id });
    });
  }

  remove(key: string): Promise<void> {
    return this.lock.run(async () => {
      const m = await this.load();
      const r = await this.get(key);
      const child = Object.entries(m.snapshots).find(([, c]) => c.parent === key);
      if (child !== undefined) throw new Conflict(`snapshot ${key} has children (${child[0]})`);
      const snapshots = { ...m.snapshots };
      delete snapshots[key];
      const next: Metadata = { ...m, snapshots };
      await this.save(next);
      this.meta = next;
      // record first, data second: a crash in between leaves an orphan that load() removes
      await rm(this.dirOf(r.id), { recursive: true, force: true });
      this.log.debug('snapshot removed', { key, id: r.id });
    });
  }

  async walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    const m = await this.load();
    for (const [k, r] of Object.entries(m.snapshots)) await fn(this.info(k, r));
  }

  async upperDir(key: string): Promise<string> {
    const r = await this.get(key);
    return join(this.dirOf(r.id), 'fs');
  }
}
