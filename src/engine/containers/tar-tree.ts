/**
 * Write a host directory tree (a container path for cp, the merged rootfs for export) into a TarWriter. Nothing is
 * ever followed: entries are lstat'ed, files are opened with O_NOFOLLOW, symlinks are stored as links. Owners,
 * modes, mtimes, device numbers and hardlinks (by inode) are kept; xattrs when the caller supplies them.
 */
import { deviceMajor, deviceMinor, fileBody } from '../../lib/fs-tree.js';
import { constants, promises as fsp, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { TarWriter, TarWriteHeader } from '../../lib/tar/index.js';

export interface TreeOptions {
  /** Extended attributes by path relative to the walked root ('' for the root itself). */
  xattrs?: Map<string, Map<string, Buffer>>;
  /** Leave out this relative path (and what is below it). */
  skip?: (rel: string) => boolean;
}


function header(name: string, st: Stats, xattrs: Map<string, Buffer> | undefined): TarWriteHeader | undefined {
  const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs) / 1000, ...(xattrs && xattrs.size > 0 ? { xattrs } : {}) };
  if (st.isDirectory()) return { ...base, name: name.endsWith('/') ? name : `${name}/`, type: 'dir' };
  if (st.isFile()) return { ...base, name, type: 'file', size: st.size };
  if (st.isSymbolicLink()) return { ...base, name, type: 'symlink' };
  if (st.isCharacterDevice()) return { ...base, name, type: 'char', devmajor: deviceMajor(st.rdev), devminor: deviceMinor(st.rdev) };
  if (st.isBlockDevice()) return { ...base, name, type: 'block', devmajor: deviceMajor(st.rdev), devminor: deviceMinor(st.rdev) };
  if (st.isFIFO()) return { ...base, name, type: 'fifo' };
  return undefined; // sockets have no tar form
}

/**
 * Add `hostPath` as `name` (and, for a directory, everything below it as `name/...`). `rootStat` replaces the
 * lstat of hostPath itself (a container's `/proc/<pid>/root` must be stat'ed, not lstat'ed).
 */
export async function addTree(w: TarWriter, hostPath: string, name: string, opts: TreeOptions = {}, rootStat?: Stats): Promise<void> {
  const links = new Map<string, string>();
  const walk = async (path: string, entryName: string, rel: string, st: Stats): Promise<void> => {
    if (opts.skip?.(rel)) return;
    const h = header(entryName, st, opts.xattrs?.get(rel));
    if (!h) return;
    if (h.type !== 'dir' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        await w.add({ ...h, type: 'hardlink', linkname: first, size: 0 });
        return;
      }
      links.set(key, entryName);
    }
    if (h.type === 'symlink') {
      await w.add({ ...h, linkname: await fsp.readlink(path) });
    } else if (h.type === 'file') {
      let fh: fsp.FileHandle;
      try {
        fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // gone since readdir
        throw e;
      }
      try {
        await w.add(h, fileBody(fh, st.size));
      } finally {
        await fh.close();
      }
    } else {
      await w.add(h);
    }
    if (h.type !== 'dir') return;
    let children: string[];
    try {
      children = (await fsp.readdir(path)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const dirName = h.name;
    for (const c of children) {
      const p = join(path, c);
      let cst: Stats;
      try {
        cst = await fsp.lstat(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      await walk(p, `${dirName}${c}`, rel === '' ? c : `${rel}/${c}`, cst);
    }
  };
  await walk(hostPath, name, '', rootStat ?? (await fsp.lstat(hostPath)));
}
