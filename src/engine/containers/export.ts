/**
 * `docker export`: the container's merged file system (the overlay, without its mounts) as one flat tar. Owners,
 * modes, mtimes, symlinks, hardlinks, device nodes and xattrs (security.capability and the like, read by one
 * `getfattr` walk that never follows links) are kept. A running container stays frozen while the tar is written.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TarWriter } from '../../lib/tar/index.js';
import { openView } from './container-fs.js';
import { readXattrs } from '../../lib/fs-tree.js';
import type { ContainerService } from './service.js';
import { addTree } from './tar-tree.js';

export async function exportContainer(svc: ContainerService, ref: string): Promise<Readable> {
  const view = await openView(svc, ref, { mountOnly: true });
  try {
    const root = view.root;
    const [names, xattrs] = await Promise.all([fsp.readdir(root), readXattrs(root)]);
    const w = new TarWriter();
    void (async (): Promise<void> => {
      try {
        for (const n of names.sort()) {
          const st = await fsp.lstat(join(root, n)).catch(() => undefined);
          if (st) await addTree(w, join(root, n), n, { xattrs: prefixed(xattrs, n) }, st);
        }
        await w.finalize();
      } catch (e) {
        w.destroy(e as Error);
      } finally {
        await view.release();
      }
    })();
    svc.emit(svc.store.get(ref), 'export');
    return w.stream;
  } catch (e) {
    await view.release();
    throw e;
  }
}

/** The xattrs under top-level entry `top`, keyed relative to it. */
function prefixed(all: Map<string, Map<string, Buffer>>, top: string): Map<string, Map<string, Buffer>> {
  const out = new Map<string, Map<string, Buffer>>();
  for (const [k, v] of all) {
    if (k === top) out.set('', v);
    else if (k.startsWith(`${top}/`)) out.set(k.slice(top.length + 1), v);
  }
  return out;
}
