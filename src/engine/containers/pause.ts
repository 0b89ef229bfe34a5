import { Conflict } from '../../lib/errors.js';
import { internallyFrozen } from './container-fs.js';
import type { ContainerService } from './service.js';

/**
 * `docker pause`: freeze every process of the container (cgroup freezer, through the runtime). A container that a
 * file operation holds frozen already is only marked paused; that operation leaves it frozen when it ends.
 */
export async function pauseContainer(svc: ContainerService, ref: string): Promise<void> {
  const id = svc.store.get(ref).id;
  await svc.serial(id, async () => {
    const rec = svc.store.get(id);
    if (rec.state.status === 'paused') throw new Conflict(`Container ${id} is already paused`);
    if (rec.state.status !== 'running') throw new Conflict(`Container ${id} is not running`);
    if (!internallyFrozen(svc, id)) await svc.d.runtime.pause(id, rec.runtime);
    rec.state.status = 'paused';
    await svc.store.save(rec);
    svc.emit(rec, 'pause');
  });
}

/** `docker unpause`: thaw (unless a file operation still needs it frozen: it thaws it when done). */
export async function unpauseContainer(svc: ContainerService, ref: string): Promise<void> {
  const id = svc.store.get(ref).id;
  await svc.serial(id, async () => {
    const rec = svc.store.get(id);
    if (rec.state.status !== 'paused') throw new Conflict(`Container ${id} is not paused`);
    if (!internallyFrozen(svc, id)) await svc.d.runtime.resume(id, rec.runtime);
    rec.state.status = 'running';
    await svc.store.save(rec);
    svc.emit(rec, 'unpause');
  });
}
