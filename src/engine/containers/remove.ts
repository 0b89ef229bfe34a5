import { trace } from '../../lib/trace.js';
import { promises as fsp } from 'node:fs';
import { Conflict, messageOf } from '../../lib/errors.js';
import { unmount } from '../snapshots/index.js';
import type { ContainerService } from './service.js';
import { waitExit } from './stop.js';
import { networkDown } from './networking.js';

export async function removeContainer(svc: ContainerService, ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  const rec = svc.store.get(ref);
  const id = rec.id;
  // Docker's AutoRemove removes the anonymous volumes too (captured before a forced rm clears the flag).
  const removeVolumes = opts.volumes === true || rec.hostConfig.AutoRemove === true;
  if (rec.state.status === 'running' || rec.state.status === 'paused' || rec.state.status === 'restarting') {
    if (!opts.force) {
      const what = rec.state.status === 'paused' ? 'paused' : 'running';
      throw new Conflict(`cannot remove container "/${rec.name}": container is ${what}: stop the container before removing or force remove`);
    }
    const t = svc.restartTimers.get(id);
    if (t) clearTimeout(t);
    svc.restartTimers.delete(id);
    rec.manualStop = true;
    rec.hostConfig.AutoRemove = false;
    if (rec.state.status !== 'restarting') {
      await svc.d.runtime.kill(id, 9, true, rec.runtime).catch(() => undefined);
      if (rec.state.status === 'paused') await svc.d.runtime.resume(id, rec.runtime).catch(() => undefined);
      await waitExit(svc, id, 15_000);
    }
  }
  await svc.serial(id, async () => {
    const cur = svc.store.byId.get(id);
    if (!cur) return;
    cur.state.status = 'removing';
    trace(id, 'rm: begin');
    svc.d.network?.release(id);
    // The address and the record go at once; the rootfs and the bundle once the runtime state and mount are gone.
    await Promise.all([
      svc.store.delete(id),
      (async () => {
        if (!(await svc.settled(id))) {
          await Promise.all([
            svc.d.runtime.delete(id, true, cur.runtime).catch(() => undefined),
            unmount(svc.rootfs(id)).catch((e: unknown) => svc.d.log.warn('unmount failed', { id, err: messageOf(e) })),
          ]);
        }
        await Promise.all([
          networkDown(svc, cur),
          svc.d.snapshots.remove(cur.snapshotKey).catch((e: unknown) => svc.d.log.warn('snapshot remove failed', { id, err: messageOf(e) })),
          fsp.rm(svc.bundle(id), { recursive: true, force: true }),
        ]);
      })(),
    ]);
    if (cur.mounts) await svc.d.volumes?.released(id, cur.mounts, removeVolumes);
    svc.emit(cur, 'destroy');
    svc.notifyWaiters(id, 'removed', cur.state.exitCode);
    trace(id, 'rm: done');
  });
}
