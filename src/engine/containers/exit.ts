import { trace } from '../../lib/trace.js';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../../lib/errors.js';
import { unmount } from '../snapshots/index.js';
import type { ContainerService } from './service.js';
import type { ContainerRecord, RestartPolicy } from './types.js';
import { startLocked } from './start.js';
import { removeContainer } from './remove.js';
import { networkDown } from './networking.js';

/** Docker's restart back-off: 100 ms doubling to a minute, reset after 10 s of healthy running. */
const BACKOFF_START = 100;
const BACKOFF_MAX = 60_000;
const HEALTHY_RUN = 10_000;

/** The code conmon wrote, and when (the file's mtime: the real exit time, even if petid was away then). */
async function readExitCode(svc: ContainerService, id: string): Promise<{ code: number; at: Date } | undefined> {
  for (const p of [join(svc.exitDir, id), join(svc.persistDir(id), 'exit')]) {
    try {
      const n = Number((await fsp.readFile(p, 'utf8')).trim());
      if (Number.isInteger(n)) return { code: n, at: (await fsp.stat(p)).mtime };
    } catch {
      // not written (yet)
    }
  }
  return undefined;
}

export function restartPolicy(rec: ContainerRecord): RestartPolicy {
  const p = rec.hostConfig.RestartPolicy as RestartPolicy | undefined;
  return p && p.Name ? p : { Name: 'no' };
}

/** Whether Docker's rules restart this container after it exited with `code`. */
export function shouldRestart(rec: ContainerRecord, code: number, daemonStarting = false): boolean {
  const p = restartPolicy(rec);
  switch (p.Name) {
    case 'always': return !rec.manualStop || daemonStarting;
    case 'unless-stopped': return !rec.manualStop;
    case 'on-failure': return !rec.manualStop && code !== 0 && (!p.MaximumRetryCount || rec.restartCount < p.MaximumRetryCount);
    default: return false;
  }
}

/**
 * The container's process is gone: record the exit, free the runtime state and the mount, wake waiters, then
 * apply the restart policy or AutoRemove. Idempotent: a second call for the same exit does nothing.
 */
export async function handleExit(svc: ContainerService, id: string, opts: { code?: number; daemonStarting?: boolean } = {}): Promise<void> {
  const after = await svc.serial(id, async (): Promise<'restart' | 'remove' | undefined> => {
    const rec = svc.store.byId.get(id);
    if (!rec || (rec.state.status !== 'running' && rec.state.status !== 'paused')) return undefined;
    const exit = opts.code !== undefined ? { code: opts.code, at: new Date() } : await readExitCode(svc, id);
    if (exit === undefined) return undefined;
    const { code } = exit;
    trace(id, 'exit: code read');
    const oom = await fsp.access(join(svc.persistDir(id), 'oom')).then(() => true, () => false);
    // The runtime state and the rootfs mount go in the background: waiters learn the exit code first (the run
    // path), and whoever needs them gone (start, rm) awaits this same promise.
    svc.cleanups.set(id, Promise.all([
      svc.d.runtime.delete(id, true, rec.runtime).catch((e: unknown) => svc.d.log.warn('runtime delete failed', { id, err: messageOf(e) })),
      fsp.rm(join(svc.exitDir, id), { force: true }),
      unmount(svc.rootfs(id)).catch((e: unknown) => svc.d.log.warn('unmount failed', { id, err: messageOf(e) })),
      networkDown(svc, rec),
    ]).then(() => undefined));
    const ranMs = Date.now() - Date.parse(rec.state.startedAt);
    rec.state = { ...rec.state, status: 'exited', pid: 0, conmonPid: 0, exitCode: code, oomKilled: oom, finishedAt: exit.at.toISOString() };
    const restart = shouldRestart(rec, code, opts.daemonStarting);
    const remove = !restart && rec.hostConfig.AutoRemove === true;
    if (restart) {
      // As Docker: the count goes up at the exit; the back-off restarts from 100 ms after a healthy run.
      rec.state.status = 'restarting';
      rec.restartCount++;
      const prev = ranMs >= HEALTHY_RUN ? 0 : (rec.restartDelayMs ?? 0);
      rec.restartDelayMs = prev === 0 ? BACKOFF_START : Math.min(BACKOFF_MAX, prev * 2);
    }
    // An auto-removed container's record is deleted next: no durable write of a state nobody will read. Should
    // petid die before the removal, the exit file in the persist dir tells the next petid, which removes it then.
    if (!remove) await svc.store.save(rec);
    trace(id, 'exit: saved');
    if (oom) svc.emit(rec, 'oom');
    svc.emit(rec, 'die', { exitCode: String(code) });
    svc.notifyWaiters(id, 'exit', code);
    return restart ? 'restart' : remove ? 'remove' : undefined;
  });
  if (after === 'remove') {
    void svc.cleanups.get(id)?.then(() => trace(id, 'exit: cleanup done'));
    await removeContainer(svc, id, { force: true }).catch((e: unknown) => svc.d.log.warn('auto-remove failed', { id, err: messageOf(e) }));
  } else if (after === 'restart') {
    scheduleRestart(svc, id);
  }
}

export function scheduleRestart(svc: ContainerService, id: string): void {
  const rec = svc.store.byId.get(id);
  if (!rec) return;
  const delay = rec.restartDelayMs ?? BACKOFF_START;
  const t = setTimeout(() => {
    svc.restartTimers.delete(id);
    void svc.serial(id, async () => {
      const cur = svc.store.byId.get(id);
      if (!cur || cur.state.status !== 'restarting') return;
      try {
        // Docker's policy restarts emit only `start` (a `restart` event is for `docker restart`).
        await startLocked(svc, id);
      } catch (e) {
        svc.d.log.warn('restart failed', { id, err: messageOf(e) });
        cur.state.status = 'exited';
        await svc.store.save(cur);
      }
    });
  }, delay);
  t.unref();
  svc.restartTimers.set(id, t);
}
