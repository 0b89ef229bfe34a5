import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../../lib/errors.js';
import type { ContainerService } from './service.js';
import { handleExit, scheduleRestart, shouldRestart } from './exit.js';
import { startLocked } from './start.js';
import { removeContainer } from './remove.js';
import { restoreNetworking } from './networking.js';

function alive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * At petid start: re-adopt containers that kept running under their conmon, record exits that happened while
 * petid was away (exit files), apply restart policies and AutoRemove for those, and resume pending restarts.
 */
export async function reconcile(svc: ContainerService): Promise<void> {
  // First adopt the namespaces and ports of the containers that were running: exits found below tear theirs down.
  await restoreNetworking(svc).catch((e: unknown) => svc.d.log.warn('network restore failed', { err: messageOf(e) }));
  for (const rec of [...svc.store.byId.values()]) {
    try {
      const s = rec.state.status;
      if (s === 'running' || s === 'paused') {
        const exitFile = await fsp.access(join(svc.exitDir, rec.id)).then(() => true, () => fsp.access(join(svc.persistDir(rec.id), 'exit')).then(() => true, () => false));
        if (exitFile) {
          await handleExit(svc, rec.id, { daemonStarting: true });
        } else if (!alive(rec.state.conmonPid)) {
          // conmon is gone without an exit file (host reboot, or it was killed): the container is dead.
          await handleExit(svc, rec.id, { code: 255, daemonStarting: true });
        } else {
          const st = await svc.d.runtime.state(rec.id, rec.runtime);
          if (st && st.status === 'paused' && s !== 'paused') {
            rec.state.status = 'paused';
            await svc.store.save(rec);
          }
          svc.d.log.info('re-adopted running container', { id: rec.id, name: rec.name, pid: rec.state.pid });
        }
      } else if (s === 'restarting') {
        scheduleRestart(svc, rec.id);
      } else if (s === 'exited' && shouldRestart(rec, rec.state.exitCode, true)) {
        // Docker starts `always` containers (even manually stopped ones) and unless-stopped ones at daemon start.
        await svc.serial(rec.id, () => startLocked(svc, rec.id));
      } else if (s === 'removing' || (s === 'exited' && rec.hostConfig.AutoRemove === true)) {
        await removeContainer(svc, rec.id, { force: true });
      }
    } catch (e) {
      svc.d.log.warn('reconcile failed', { id: rec.id, err: messageOf(e) });
    }
  }
}
