/**
 * A container's file system as its processes see it, reached from the host for cp, export and diff.
 *
 * Running (or paused) container: the root is `/proc/<pid>/root`, the kernel's door into the container's mount
 * namespace, so bind mounts, volumes and tmpfs look exactly as they do inside. A running container is frozen (cgroup
 * freezer, `<runtime> pause`) for the whole operation: no process inside can swap a directory for a symlink between
 * our resolution and our use of a path (the race of CVE-2018-15664), and its init pid cannot be reused under us.
 *
 * Stopped container: its rootfs overlay is mounted if it is not (and unmounted after, unless start took it over);
 * bind mounts of its spec are resolved to their host sources by path (a tar written through such a path stays in the
 * mount it was resolved into; tmpfs mounts have no content while stopped). Nothing runs inside, so nothing races.
 *
 * Every path is resolved component by component with lstat, as the kernel would with the container's root as `/`:
 * absolute symlinks restart at the container root, `..` stops there. We never run a host binary chrooted into the
 * container (the lesson of CVE-2019-14271).
 */
import { promises as fsp, type Stats } from 'node:fs';
import { join } from 'node:path';
import { Forbidden, InvalidArgument, messageOf } from '../../lib/errors.js';
import { MAX_SYMLINK_HOPS } from '../../lib/safe-path.js';
import { isMounted, mountAll, unmount } from '../snapshots/index.js';
import type { OciSpec } from '../runtime/types.js';
import type { ContainerService } from './service.js';
import type { ContainerRecord } from './types.js';

interface ViewMount { parts: string[]; source: string; readonly: boolean }

export interface ContainerView {
  /** Host path of the container's `/`. */
  root: string;
  live: boolean;
  /** Bind mounts to resolve by hand (stopped containers only). */
  mounts: ViewMount[];
  readonlyRoot: boolean;
  release(): Promise<void>;
}

export interface Resolved {
  /** Clean path components inside the container. */
  parts: string[];
  /** The host path to operate on. */
  host: string;
  /** The mount the path lies in is read-only (stopped containers; live ones get EROFS from the kernel). */
  readonly: boolean;
}

function usersOf(svc: ContainerService, id: string): { frozen: number; mounted: number } {
  let u = svc.fsUsers.get(id);
  if (!u) {
    u = { frozen: 0, mounted: 0 };
    svc.fsUsers.set(id, u);
  }
  return u;
}

function forget(svc: ContainerService, id: string): void {
  const u = svc.fsUsers.get(id);
  if (u && u.frozen === 0 && u.mounted === 0) svc.fsUsers.delete(id);
}

/** Whether file operations hold the container frozen right now (pause/unpause consult this). */
export function internallyFrozen(svc: ContainerService, id: string): boolean {
  return (svc.fsUsers.get(id)?.frozen ?? 0) > 0;
}

async function readSpec(svc: ContainerService, rec: ContainerRecord): Promise<OciSpec | undefined> {
  try {
    return JSON.parse(await fsp.readFile(join(svc.bundle(rec.id), 'config.json'), 'utf8')) as OciSpec;
  } catch {
    return svc.d.specs.build(rec, svc.rootfs(rec.id)).then((r) => r.spec, () => undefined);
  }
}

function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Open the container's file system. `mountOnly`: the overlay rootfs without the container's mounts (export and diff
 * want the image's view). The caller must `release()` the view (unfreeze, unmount) when done.
 */
export async function openView(svc: ContainerService, ref: string, opts: { mountOnly?: boolean } = {}): Promise<ContainerView> {
  const rec = svc.store.get(ref);
  const id = rec.id;
  const readonlyRoot = rec.hostConfig.ReadonlyRootfs === true;
  const users = usersOf(svc, id);
  let froze = false;
  let mounted = false;
  const release = async (): Promise<void> => {
    await svc.serial(id, async () => {
      if (froze) {
        users.frozen--;
        const cur = svc.store.byId.get(id);
        // A user's `pause` meanwhile keeps it frozen; an exit or rm meanwhile leaves nothing to resume.
        if (users.frozen === 0 && cur?.state.status === 'running') {
          await svc.d.runtime.resume(id, cur.runtime).catch((e: unknown) => svc.d.log.warn('resume after file operation failed', { id, err: messageOf(e) }));
        }
      }
      if (mounted) {
        users.mounted--;
        const cur = svc.store.byId.get(id);
        const inUse = cur && (cur.state.status === 'running' || cur.state.status === 'paused' || cur.state.status === 'created');
        if (users.mounted === 0 && cur && !inUse) await unmount(svc.rootfs(id)).catch(() => undefined);
      }
      forget(svc, id);
    });
  };
  try {
    return await svc.serial(id, async (): Promise<ContainerView> => {
      const cur = svc.store.get(id);
      const live = (cur.state.status === 'running' || cur.state.status === 'paused') && cur.state.pid > 0;
      if (live && !opts.mountOnly) {
        if (cur.state.status === 'running' && users.frozen === 0) await svc.d.runtime.pause(id, cur.runtime);
        users.frozen++;
        froze = true;
        return { root: `/proc/${cur.state.pid}/root`, live: true, mounts: [], readonlyRoot, release };
      }
      if (live && cur.state.status === 'running') {
        if (users.frozen === 0) await svc.d.runtime.pause(id, cur.runtime);
        users.frozen++;
        froze = true;
      }
      await svc.settled(id);
      const rootfs = svc.rootfs(id);
      users.mounted++;
      mounted = true;
      if (!(await isMounted(rootfs))) {
        await fsp.mkdir(rootfs, { recursive: true, mode: 0o755 });
        await mountAll(await svc.d.snapshots.mounts(cur.snapshotKey), rootfs);
      }
      const mounts: ViewMount[] = [];
      if (!opts.mountOnly) {
        const spec = await readSpec(svc, cur);
        for (const m of spec?.mounts ?? []) {
          if (m.type !== 'bind' || !m.source) continue;
          mounts.push({ parts: splitPath(m.destination), source: m.source, readonly: (m.options ?? []).includes('ro') });
        }
      }
      return { root: rootfs, live: false, mounts, readonlyRoot, release };
    });
  } catch (e) {
    await release();
    throw e;
  }
}

/**
 * Run fn with the (stopped) container's rootfs mounted, for callers that already hold the container's lock; a mount
 * made here is undone after unless a file operation uses it.
 */
export async function withRootfsLocked<T>(svc: ContainerService, rec: ContainerRecord, fn: () => Promise<T>): Promise<T> {
  const rootfs = svc.rootfs(rec.id);
  await svc.settled(rec.id);
  if (await isMounted(rootfs)) return fn();
  await fsp.mkdir(rootfs, { recursive: true, mode: 0o755 });
  await mountAll(await svc.d.snapshots.mounts(rec.snapshotKey), rootfs);
  try {
    return await fn();
  } finally {
    if ((svc.fsUsers.get(rec.id)?.mounted ?? 0) === 0 && rec.state.status !== 'created') await unmount(rootfs).catch(() => undefined);
  }
}

/** Run fn with a view open; the view is released however fn ends. */
export async function withView<T>(svc: ContainerService, ref: string, opts: { mountOnly?: boolean }, fn: (v: ContainerView) => Promise<T>): Promise<T> {
  const v = await openView(svc, ref, opts);
  try {
    return await fn(v);
  } finally {
    await v.release();
  }
}

function mountFor(view: ContainerView, parts: string[]): { base: string; rest: string[]; readonly: boolean } {
  let best: ViewMount | undefined;
  for (const m of view.mounts) {
    if (m.parts.length <= parts.length && m.parts.every((c, i) => parts[i] === c) && (!best || m.parts.length >= best.parts.length)) best = m;
  }
  if (!best) return { base: view.root, rest: parts, readonly: view.readonlyRoot };
  return { base: best.source, rest: parts.slice(best.parts.length), readonly: best.readonly };
}

/** The host path of clean container path components. */
export function hostPathOf(view: ContainerView, parts: string[]): string {
  const { base, rest } = mountFor(view, parts);
  return rest.length === 0 ? base : join(base, ...rest);
}

/**
 * Resolve `unsafePath` inside the container. `followFinal`: whether a symlink in the last component is followed too
 * (a trailing `/` or `/.` always follows it, as the kernel does). Missing components resolve lexically.
 */
export async function resolveIn(view: ContainerView, unsafePath: string, followFinal: boolean): Promise<Resolved> {
  const trailing = /\/\.?$/.test(unsafePath);
  let pending = splitPath(unsafePath);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    const last = pending.length === 0;
    if (last && !followFinal && !trailing) {
      resolved.push(part);
      break;
    }
    let target: string | undefined;
    try {
      const p = hostPathOf(view, candidate);
      if ((await fsp.lstat(p)).isSymbolicLink()) target = await fsp.readlink(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) throw new InvalidArgument(`cannot resolve ${unsafePath}: too many levels of symbolic links`);
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...splitPath(target), ...pending];
  }
  const m = mountFor(view, resolved);
  return { parts: resolved, host: hostPathOf(view, resolved), readonly: m.readonly };
}

/** lstat that also works on the container root itself (`/proc/<pid>/root` is a magic link: stat it). */
export async function lstatIn(r: Resolved): Promise<Stats> {
  return r.parts.length === 0 ? fsp.stat(r.host) : fsp.lstat(r.host);
}

/** Docker's refusal to write into a read-only place. */
export function readOnlyError(what: 'rootfs' | 'volume'): Forbidden {
  return new Forbidden(what === 'rootfs' ? 'container rootfs is marked read-only' : 'mounted volume is marked read-only');
}
