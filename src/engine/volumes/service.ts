/**
 * The volume service: named and anonymous volumes of the `local` driver under `<dataRoot>/volumes`, their
 * lifecycle (create, inspect, list, remove, prune), and the containers' side (setup at create, the spec's mounts,
 * release at removal). Which containers use a volume is read from the container records (setUsers), so the count
 * survives crashes without a counter of its own.
 */
import { lstat } from 'node:fs/promises';
import { Conflict, InvalidArgument, NotFound, messageOf } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { secureJoin } from '../../lib/safe-path.js';
import type { EventBus } from '../events/index.js';
import { isMounted } from '../snapshots/index.js';
import { inheritMounts, parseVolumesFrom, planMounts, type PlannedMount } from './container-mounts.js';
import { matchList, matchPrune } from './filters.js';
import { mountLocal, parseLocalOptions, unmountLocal } from './local-driver.js';
import { anonymousName, checkVolumeName } from './names.js';
import { isEmptyDir, seedFromRootfs } from './seed.js';
import { VolumeStore } from './store.js';
import { ANONYMOUS_LABEL, type ContainerMountConfig, type ContainerVolumes, type CreateVolumeOptions, type MountPoint, type VolumeRecord, type VolumeSpecMount } from './types.js';
import { directorySize } from './usage.js';

export interface VolumeServiceOptions {
  /** `<dataRoot>/volumes`. */
  root: string;
  events: EventBus;
  log: Logger;
}

/** RFC 3339 with seconds and the local offset, as Docker's CreatedAt. */
function rfc3339(d: Date): string {
  const off = -d.getTimezoneOffset();
  const p = (n: number): string => String(Math.floor(Math.abs(n))).padStart(2, '0');
  const local = new Date(d.getTime() + off * 60_000);
  const tz = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(off / 60)}:${p(off % 60)}`;
  return `${local.toISOString().slice(0, 19)}${tz}`;
}

export class VolumeService implements ContainerVolumes {
  private readonly store: VolumeStore;
  private users: (name: string) => string[] = () => [];

  constructor(private readonly o: VolumeServiceOptions) {
    this.store = new VolumeStore(o.root, o.log);
  }

  async init(): Promise<void> {
    await this.store.init();
  }

  /** Who uses a volume: the IDs of the containers whose mounts name it. Set once by the engine. */
  setUsers(fn: (name: string) => string[]): void {
    this.users = fn;
  }

  /** IDs of the containers using the volume. */
  refs(name: string): string[] {
    return this.users(name);
  }

  /** The host directory containers see. */
  mountpoint(name: string): string {
    return this.store.dataDir(name);
  }

  /** Throws NotFound `get X: no such volume` (Docker's words). */
  get(name: string): VolumeRecord {
    const v = this.store.byName.get(name);
    if (!v) throw new NotFound(`get ${name}: no such volume`);
    return v;
  }

  /**
   * Create a volume; an existing name returns the existing volume (Docker's idempotent create). Throws
   * InvalidArgument for a bad name or options, NotFound for a driver other than `local`.
   */
  async create(opts: CreateVolumeOptions = {}): Promise<VolumeRecord> {
    const name = opts.name ? checkVolumeName(opts.name) : anonymousName();
    const driver = opts.driver || 'local';
    if (driver !== 'local') throw new NotFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const existing = this.store.byName.get(name);
    if (existing) return existing;
    const options = { ...(opts.driverOpts ?? {}) };
    parseLocalOptions(name, options);
    const labels = { ...(opts.labels ?? {}) };
    // Docker marks a volume created without a name as anonymous.
    if (!opts.name) labels[ANONYMOUS_LABEL] = '';
    const rec: VolumeRecord = { name, driver, createdAt: rfc3339(new Date()), labels, options };
    await this.store.add(rec);
    this.o.events.emit('volume', 'create', name, { driver });
    return rec;
  }

  list(filters: Record<string, string[]> = {}): VolumeRecord[] {
    return [...this.store.byName.values()].filter((v) => matchList(filters, v, this.refs(v.name).length > 0));
  }

  /**
   * Remove a volume: Conflict while a container uses it (even with force, as Docker), NotFound when missing
   * unless force. A mounted filesystem is unmounted first; the data is deleted only when nothing is mounted.
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const v = this.store.byName.get(name);
    if (!v) {
      if (opts.force) return;
      throw new NotFound(`get ${name}: no such volume`);
    }
    const users = this.refs(name);
    if (users.length > 0) throw new Conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    const data = this.store.dataDir(name);
    await unmountLocal(data);
    // Deleting through a mount would delete the bound host directory's files.
    if (await isMounted(data)) throw new Conflict(`remove ${name}: volume is still mounted at ${data}`);
    await this.store.delete(name);
    this.o.events.emit('volume', 'destroy', name, { driver: v.driver });
  }

  /** Remove the unused volumes the filters pick (by default only anonymous ones). */
  async prune(filters: Record<string, string[]> = {}): Promise<{ deleted: string[]; reclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of [...this.store.byName.values()]) {
      if (this.refs(v.name).length > 0 || !matchPrune(filters, v)) continue;
      const size = await this.usage(v.name);
      try {
        await this.remove(v.name);
        deleted.push(v.name);
        reclaimed += size;
      } catch (e) {
        this.o.log.warn('volume prune: remove failed', { name: v.name, err: messageOf(e) });
      }
    }
    return { deleted, reclaimed };
  }

  /** Bytes in the volume (for `system df`). */
  usage(name: string): Promise<number> {
    return directorySize(this.store.dataDir(name));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Containers

  async setup(containerId: string, cfg: ContainerMountConfig, rootfs: string,
    mountsOf: (ref: string) => { id: string; mounts: MountPoint[] }): Promise<MountPoint[]> {
    const from = (cfg.volumesFrom ?? []).map((spec) => {
      const { ref, rw } = parseVolumesFrom(spec);
      let src: { id: string; mounts: MountPoint[] };
      try {
        src = mountsOf(ref);
      } catch (e) {
        // A 404 on create makes the docker CLI pull the image and retry: Docker's words, as a bad argument.
        if (e instanceof NotFound) throw new InvalidArgument(e.message, { cause: e });
        throw e;
      }
      if (src.id === containerId) throw new InvalidArgument(`cannot use volumes from the container itself: ${ref}`);
      return { ...src, ...(rw !== undefined ? { rw } : {}) };
    });
    const plan = planMounts(cfg, inheritMounts(from));
    const created: string[] = [];
    try {
      for (const mp of plan) {
        if (mp.Type !== 'volume') continue;
        if (mp.From) {
          await this.activate(this.get(mp.Name ?? ''));
          continue;
        }
        let vol: VolumeRecord;
        if (mp.Name === undefined) {
          vol = await this.create({ labels: mp.create?.labels ?? null, driverOpts: mp.create?.driverOpts ?? null });
          created.push(vol.name);
          mp.Name = vol.name;
        } else {
          vol = await this.create({ name: mp.Name, labels: mp.create?.labels ?? null, driverOpts: mp.create?.driverOpts ?? null });
        }
        mp.Source = this.store.dataDir(vol.name);
        await this.activate(vol);
        if (!mp.NoCopy) await this.seed(vol, mp.Destination, rootfs);
      }
    } catch (e) {
      for (const name of created) await this.remove(name).catch(() => undefined);
      throw e;
    }
    return plan.map(({ create: _c, ...mp }: PlannedMount) => { void _c; return mp; });
  }

  async specMounts(mounts: readonly MountPoint[], rootfs: string): Promise<VolumeSpecMount[]> {
    const out: VolumeSpecMount[] = [];
    for (const mp of mounts) {
      if (mp.Type !== 'volume' && !(mp.Type === 'bind' && mp.From)) continue;
      let source = mp.Source;
      if (mp.Type === 'volume') {
        const vol = this.get(mp.Name ?? '');
        await this.activate(vol);
        source = this.store.dataDir(vol.name);
      }
      out.push({
        destination: await resolveTarget(rootfs, mp.Destination), source, readonly: !mp.RW,
        ...(mp.Type === 'bind' ? { propagation: mp.Propagation || 'rprivate' } : {}),
      });
    }
    return out;
  }

  started(containerId: string, mounts: readonly MountPoint[]): void {
    for (const mp of mounts) {
      if (mp.Type !== 'volume' || !mp.Name) continue;
      this.o.events.emit('volume', 'mount', mp.Name, {
        container: containerId, destination: mp.Destination, driver: mp.Driver ?? 'local', propagation: mp.Propagation, 'read/write': String(mp.RW),
      });
    }
  }

  async released(containerId: string, mounts: readonly MountPoint[], removeAnonymous: boolean): Promise<void> {
    for (const mp of mounts) {
      if (mp.Type !== 'volume' || !mp.Name) continue;
      const vol = this.store.byName.get(mp.Name);
      if (!vol) continue;
      this.o.events.emit('volume', 'unmount', vol.name, { container: containerId, driver: vol.driver });
      const others = this.refs(vol.name).filter((id) => id !== containerId);
      if (others.length > 0) continue;
      try {
        // Docker removes only anonymous volumes with the container; named ones stay.
        if (removeAnonymous && Object.hasOwn(vol.labels, ANONYMOUS_LABEL) && !mp.From) await this.remove(vol.name);
        else await unmountLocal(this.store.dataDir(vol.name));
      } catch (e) {
        this.o.log.warn('releasing a volume failed', { name: vol.name, container: containerId, err: messageOf(e) });
      }
    }
  }

  /** Mount the volume's filesystem when its options ask for one (first use). */
  private async activate(vol: VolumeRecord): Promise<void> {
    const m = parseLocalOptions(vol.name, vol.options);
    if (m) await mountLocal(m, this.store.dataDir(vol.name));
  }

  /** Copy the image's content at `target` into a volume that is still empty, once. */
  private async seed(vol: VolumeRecord, target: string, rootfs: string): Promise<void> {
    if (vol.seeded) return;
    const data = this.store.dataDir(vol.name);
    if (!(await isEmptyDir(data))) return;
    if (await seedFromRootfs(rootfs, target, data)) {
      vol.seeded = true;
      await this.store.save(vol);
    }
  }
}

/** The container path a mount lands on: the target resolved inside the rootfs, so no image symlink leads out. */
async function resolveTarget(rootfs: string, target: string): Promise<string> {
  const host = await secureJoin(rootfs, target);
  const base = await secureJoin(rootfs, '/');
  const inside = host.slice(base.length) || '/';
  if (inside === '/') throw new InvalidArgument(`invalid mount target ${target}: it resolves to the container's root`);
  // The mount point may be a file in the image (a volume on a file is Docker's error too).
  const st = await lstat(host).catch(() => undefined);
  if (st && !st.isDirectory() && !st.isFile()) throw new InvalidArgument(`invalid mount target ${target}: not a directory or file`);
  return inside;
}
