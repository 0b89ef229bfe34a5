/**
 * A step's changes as an OCI layer: the overlay upper directory walked (nothing followed) into a tar, overlay
 * whiteouts (0:0 character devices) written as `.wh.<name>`, opaque directories (trusted.overlay.opaque=y) as
 * `.wh..wh..opq`, with owners, modes, mtimes, hardlinks and xattrs (trusted.overlay.* left out).
 *
 * Layers are stored uncompressed, as Docker's classic builder keeps them: the digest is the diff ID, so one sha256
 * pass is the whole cost (gzip -6 runs at ~40 MiB/s here against sha256's ~680 MiB/s, DESIGN.md §8); compression
 * belongs to push, where it pays for itself.
 */
import { deviceMajor, deviceMinor, fileBody, readXattrs } from '../../lib/fs-tree.js';
import { constants, promises as fsp, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../../lib/digest.js';
import { TarWriter, type TarWriteHeader } from '../../lib/tar/index.js';
import type { ContentStore } from '../content/index.js';


/** Write the upper dir as a layer tar into `w` (then finalize). `skip` holds relative paths to leave out. */
export async function writeUpperTar(w: TarWriter, upper: string, skip: ReadonlySet<string> = new Set()): Promise<void> {
  const xattrs = await readXattrs(upper);
  const links = new Map<string, string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await fsp.readdir(dir)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip.has(r)) continue;
      const path = join(dir, name);
      const st = await fsp.lstat(path);
      const own = xattrs.get(r);
      const kept = own ? new Map([...own].filter(([k]) => !k.startsWith('trusted.overlay.'))) : undefined;
      const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs) / 1000, ...(kept && kept.size ? { xattrs: kept } : {}) };
      if (st.isCharacterDevice() && st.rdev === 0) {
        await w.add({ name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`, type: 'file', size: 0, mode: 0o644, mtime: base.mtime });
        continue;
      }
      if (st.isDirectory()) {
        await w.add({ ...base, name: `${r}/`, type: 'dir' });
        if (own?.get('trusted.overlay.opaque')?.toString() === 'y') {
          await w.add({ name: `${r}/.wh..wh..opq`, type: 'file', size: 0, mode: 0o644, mtime: base.mtime });
        }
        await walk(path, r);
        continue;
      }
      const h = headerOf(r, st, base);
      if (!h) continue;
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first !== undefined) {
          await w.add({ ...h, type: 'hardlink', linkname: first, size: 0 });
          continue;
        }
        links.set(key, r);
      }
      if (h.type === 'symlink') await w.add({ ...h, linkname: await fsp.readlink(path) });
      else if (h.type === 'file') {
        const fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          await w.add(h, fileBody(fh, st.size));
        } finally {
          await fh.close();
        }
      } else await w.add(h);
    }
  };
  await walk(upper, '');
  await w.finalize();
}

function headerOf(name: string, st: Stats, base: Omit<TarWriteHeader, 'name' | 'type'>): TarWriteHeader | undefined {
  if (st.isFile()) return { ...base, name, type: 'file', size: st.size };
  if (st.isSymbolicLink()) return { ...base, name, type: 'symlink' };
  if (st.isCharacterDevice()) return { ...base, name, type: 'char', devmajor: deviceMajor(st.rdev), devminor: deviceMinor(st.rdev) };
  if (st.isBlockDevice()) return { ...base, name, type: 'block', devmajor: deviceMajor(st.rdev), devminor: deviceMinor(st.rdev) };
  if (st.isFIFO()) return { ...base, name, type: 'fifo' };
  return undefined; // sockets have no tar form
}

/** Store the upper dir as an uncompressed layer blob; its digest is its diff ID. */
export async function storeLayer(content: ContentStore, upper: string, skip?: ReadonlySet<string>): Promise<{ digest: Digest; size: number }> {
  const w = new TarWriter();
  const writing = writeUpperTar(w, upper, skip).catch((e: unknown) => {
    w.destroy(e as Error);
    throw e;
  });
  const [info] = await Promise.all([content.ingest(w.stream), writing]);
  return { digest: info.digest, size: info.size };
}
