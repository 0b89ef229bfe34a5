import { trace } from '../../lib/trace.js';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Conflict, InvalidArgument, NotModified, messageOf } from '../../lib/errors.js';
import { writeFileAtomic } from '../../lib/atomic.js';
import { isMounted, mountAll } from '../snapshots/index.js';
import type { ContainerService } from './service.js';
import type { ContainerRecord } from './types.js';
import { removeContainer } from './remove.js';
import { netKind, networkDown, networkUp } from './networking.js';
import { logSizeMax } from './create.js';

/** Docker words runtime start failures so the CLI can pick 126/127 from the text; crun words them differently. */
export function startError(rec: ContainerRecord, raw: string): { message: string; code: number } {
  const msg = raw.trim().split('\n').pop() ?? raw;
  if (/not found in \$PATH|No such file or directory|executable file not found/i.test(msg)) {
    return { code: 127, message: `failed to create task for container: OCI runtime create failed: exec: "${rec.path}": executable file not found in $PATH: ${msg}` };
  }
  if (/Permission denied|EACCES|is a directory/i.test(msg)) {
    return { code: 126, message: `failed to create task for container: OCI runtime create failed: exec: "${rec.path}": permission denied: ${msg}` };
  }
  return { code: 128, message: `failed to create task for container: OCI runtime create failed: ${msg}` };
}

/** Mount the rootfs if needed and write the bundle's config.json. */
export async function prepareBundle(svc: ContainerService, rec: ContainerRecord): Promise<void> {
  const rootfs = svc.rootfs(rec.id);
  await fsp.mkdir(rootfs, { recursive: true, mode: 0o755 });
  if (!(await isMounted(rootfs))) await mountAll(await svc.d.snapshots.mounts(rec.snapshotKey), rootfs);
  const { spec } = await svc.d.specs.build(rec, rootfs);
  await svc.d.runtime.prepareSpec?.(spec, rec.runtime).catch(() => undefined);
  await writeFileAtomic(join(svc.bundle(rec.id), 'config.json'), JSON.stringify(spec), 0o600);
}

export async function startContainer(svc: ContainerService, ref: string): Promise<void> {
  const id = svc.store.get(ref).id;
  try {
    await svc.serial(id, () => {
      resetRestarts(svc.store.get(id));
      return startLocked(svc, id);
    });
  } catch (e) {
    // Docker removes an AutoRemove container whose start failed; `run --rm` leaves nothing behind.
    const rec = svc.store.byId.get(id);
    if (rec && rec.hostConfig.AutoRemove === true && rec.state.status !== 'running') {
      await removeContainer(svc, id, { force: true }).catch(() => undefined);
    }
    throw e;
  }
}

/** A manual start or restart resets the restart policy's count and back-off (Docker's ResetRestartManager). */
export function resetRestarts(rec: ContainerRecord): void {
  rec.restartCount = 0;
  delete rec.restartDelayMs;
}

export async function startLocked(svc: ContainerService, id: string): Promise<void> {
  const rec = svc.store.get(id);
  trace(id, 'start: begin');
  svc.d.runtime.warm?.();
  if (rec.state.status === 'running') throw new NotModified('container already started');
  if (rec.state.status === 'paused') throw new Conflict('cannot start a paused container, try unpause instead');
  if (rec.state.status === 'removing' || rec.state.status === 'dead') throw new Conflict(`container ${rec.id} is marked for removal and cannot be started`);
  const timer = svc.restartTimers.get(id);
  if (timer) {
    clearTimeout(timer);
    svc.restartTimers.delete(id);
  }
  await svc.settled(id);
  // The first start reuses the bundle create wrote; later starts remount and regenerate it.
  // container:<name> joins the target's namespace as it is now: that spec is always regenerated.
  if (netKind(rec) === 'container' || !(rec.state.status === 'created' && (await fsp.access(join(svc.bundle(id), 'config.json')).then(() => true, () => false)) && (await isMounted(svc.rootfs(id))))) {
    await prepareBundle(svc, rec);
  }
  try {
    await Promise.all([
      networkUp(svc, rec),
      fsp.rm(join(svc.exitDir, id), { force: true }),
      fsp.rm(join(svc.persistDir(id), 'exit'), { force: true }),
      fsp.rm(join(svc.persistDir(id), 'oom'), { force: true }),
    ]);
  } catch (e) {
    // A taken host port or a namespace that cannot be built: attachers and waiters learn it, as for a runtime failure.
    await networkDown(svc, rec);
    for (const p of svc.pendingAttach.get(id) ?? []) p.reject(e as Error);
    svc.pendingAttach.delete(id);
    svc.notifyWaiters(id, 'exit', 128);
    throw e;
  }
  // As Docker, a TTY's stdin outlives its client (detach with Ctrl-P Ctrl-Q, attach again); StdinOnce closes only a pipe.
  const createOpts = {
    id, name: rec.name, bundle: svc.bundle(id), logPath: rec.logPath, exitDir: svc.exitDir, persistDir: svc.persistDir(id),
    tty: rec.config.Tty === true, stdin: rec.config.OpenStdin === true, leaveStdinOpen: rec.config.StdinOnce !== true || rec.config.Tty === true, runtime: rec.runtime,
    logSizeMax: logSizeMax(rec.hostConfig),
  };
  trace(id, 'start: network up');
  let created: { pid: number; conmonPid: number };
  try {
    try {
      created = await svc.d.runtime.create(createOpts);
    } catch (e) {
      // A runtime state left from an earlier run (e.g. petid died mid-exit) blocks create: clear it once and retry.
      if (!/exist/i.test(messageOf(e))) throw e;
      await svc.d.runtime.delete(id, true, rec.runtime).catch(() => undefined);
      created = await svc.d.runtime.create(createOpts);
    }
  } catch (e) {
    await networkDown(svc, rec);
    const { message, code } = startError(rec, messageOf(e));
    rec.state = { ...rec.state, error: message, exitCode: code };
    await svc.store.save(rec);
    // Rejecting attachers lets `docker run` report the failure instead of hanging.
    for (const p of svc.pendingAttach.get(id) ?? []) p.reject(new InvalidArgument(message));
    svc.pendingAttach.delete(id);
    svc.notifyWaiters(id, 'exit', code);
    throw new InvalidArgument(message, { cause: e });
  }
  trace(id, 'start: runtime created');
  // Connect attachers that came before start, so a short-lived process's output reaches them.
  const pending = [...(svc.pendingAttach.get(id) ?? [])];
  svc.pendingAttach.delete(id);
  await Promise.all(pending.map(async (p) => {
    try {
      p.resolve(await svc.d.runtime.attach(svc.bundle(id), { stdin: p.stdin }));
    } catch (e) {
      p.reject(e as Error);
    }
  }));
  try {
    await svc.d.runtime.start(id, rec.runtime);
  } catch (e) {
    await svc.d.runtime.kill(id, 'SIGKILL').catch(() => undefined);
    const { message } = startError(rec, messageOf(e));
    throw new InvalidArgument(message, { cause: e });
  }
  trace(id, 'start: runtime started');
  rec.state = {
    status: 'running', pid: created.pid, exitCode: 0, error: '', oomKilled: false, startedAt: new Date().toISOString(),
    finishedAt: rec.state.finishedAt, conmonPid: created.conmonPid,
  };
  rec.manualStop = false;
  await svc.store.save(rec);
  svc.emit(rec, 'start');
  trace(id, 'start: saved');
  if (rec.mounts) svc.d.volumes?.started(id, rec.mounts);
  // A process that exits at once may have written its exit file before we were ready for it.
  void fsp.access(join(svc.exitDir, id)).then(() => svc.onExit(id), () => undefined);
}
