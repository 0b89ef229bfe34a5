import { Conflict, InvalidArgument } from '../../lib/errors.js';
import type { ContainerService } from './service.js';
import { ContainerStore } from './store.js';

/** `docker rename`: Docker's checks and wording; the `rename` event carries the old name with its slash. */
export async function renameContainer(svc: ContainerService, ref: string, newName: string): Promise<void> {
  if (!ref || !newName) throw new InvalidArgument('Neither old nor new names may be empty');
  const id = svc.store.get(ref).id;
  const name = ContainerStore.checkName(newName);
  await svc.serial(id, async () => {
    const rec = svc.store.get(id);
    if (rec.name === name) throw new InvalidArgument('Renaming a container with the same name as its current name');
    try {
      svc.store.assertNameFree(name);
    } catch (e) {
      if (e instanceof Conflict) throw new Conflict(`Error when allocating new name: ${e.message}`, { code: e.code });
      throw e;
    }
    const old = rec.name;
    // Taken synchronously, before any await: a concurrent rename to the same name sees it.
    rec.name = name;
    try {
      await svc.store.save(rec);
    } catch (e) {
      rec.name = old;
      throw e;
    }
    await svc.d.network?.rename(id, name);
    svc.emit(rec, 'rename', { oldName: `/${old}` });
  });
}
