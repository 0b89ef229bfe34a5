/**
 * The host side of `peti cp`: tar a local path for the daemon, and unpack the daemon's tar into a local path. The
 * archive from a container is hostile: names are cleaned (no `..` escape, no absolute paths), parents must be real
 * directories (never a symlink the archive planted), existing final components are replaced, never followed.
 */
import { constants, promises as fsp, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgument } from '../../lib/errors.js';
import { readTar, TarWriter, type TarSource, type TarWriteHeader } from '../../lib/tar/index.js';

function clean(name: string): string[] {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw new InvalidArgument(`archive entry escapes the destination: ${JSON.stringify(name)}`);
      out.pop();
    } else out.push(c);
  }
  return out;
}

async function lstatOrUndef(p: string): Promise<Stats | undefined> {
  return fsp.lstat(p).catch(() => undefined);
}

/**
 * Unpack `src` so that its top entry `from` lands at `dest` (from '.' means: the contents go into the directory
 * dest). Returns the bytes of file content written.
 */
export async function untarTo(src: TarSource, from: string, dest: string): Promise<number> {
  let bytes = 0;
  const dirs = new Set<string>();
  const fromParts = clean(from);
  for await (const { header: h, body } of readTar(src)) {
    let parts = clean(h.name);
    if (fromParts.length > 0) {
      if (fromParts.some((c, i) => parts[i] !== c)) continue;
      parts = parts.slice(fromParts.length);
    }
    const target = parts.length === 0 ? dest : join(dest, ...parts);
    // every parent below dest must be a directory this archive (or the user) made, not a symlink
    let p = dest;
    for (const c of parts.slice(0, -1)) {
      p = join(p, c);
      if (dirs.has(p)) continue;
      const st = await lstatOrUndef(p);
      if (!st) await fsp.mkdir(p, { mode: 0o755 });
      else if (!st.isDirectory()) throw new InvalidArgument(`archive entry ${JSON.stringify(h.name)} goes through a non-directory`);
      dirs.add(p);
    }
    const existing = await lstatOrUndef(target);
    if (existing && !(h.type === 'dir' && existing.isDirectory())) await fsp.rm(target, { recursive: true, force: true });
    const mtime = new Date(h.mtime * 1000);
    switch (h.type) {
      case 'dir':
        if (!existing || !existing.isDirectory()) await fsp.mkdir(target, { mode: 0o700 });
        await fsp.chmod(target, h.mode);
        dirs.add(target);
        break;
      case 'file': case 'contiguous': {
        const fh = await fsp.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const c of body) {
            await fh.write(c);
            bytes += c.length;
          }
          await fh.chmod(h.mode);
          await fh.utimes(mtime, mtime);
        } finally {
          await fh.close();
        }
        break;
      }
      case 'symlink':
        await fsp.symlink(h.linkname, target);
        break;
      case 'hardlink': {
        let lp = clean(h.linkname);
        if (fromParts.length > 0) lp = lp.slice(fromParts.length);
        const lt = lp.length === 0 ? dest : join(dest, ...lp);
        const st = await lstatOrUndef(lt);
        if (!st || st.isDirectory()) throw new InvalidArgument(`archive hardlink ${JSON.stringify(h.name)} has a bad target`);
        await fsp.link(lt, target);
        break;
      }
      default:
        // devices and fifos need privileges the user may not have; docker cp skips what it cannot make too
        break;
    }
  }
  return bytes;
}

/** Tar local `path` with its top entry named `name`; `follow`: a symlink at the top is copied as what it points to. */
export function tarLocal(path: string, name: string, follow: boolean): { stream: Readable; done: Promise<number> } {
  const w = new TarWriter();
  const links = new Map<string, string>();
  let bytes = 0;
  const add = async (p: string, entry: string, st: Stats): Promise<void> => {
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs) / 1000 };
    if (!st.isDirectory() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) return w.add({ ...base, name: entry, type: 'hardlink', linkname: first });
      links.set(key, entry);
    }
    let h: TarWriteHeader | undefined;
    if (st.isDirectory()) h = { ...base, name: `${entry}/`, type: 'dir' };
    else if (st.isSymbolicLink()) h = { ...base, name: entry, type: 'symlink', linkname: await fsp.readlink(p) };
    else if (st.isFile()) {
      const fh = await fsp.open(p, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        await w.add({ ...base, name: entry, type: 'file', size: st.size }, fh.createReadStream({ autoClose: false }));
        bytes += st.size;
      } finally {
        await fh.close();
      }
      return;
    } else if (st.isFIFO()) h = { ...base, name: entry, type: 'fifo' };
    if (!h) return;
    await w.add(h);
    if (h.type === 'dir') {
      for (const c of (await fsp.readdir(p)).sort()) await add(join(p, c), `${entry}/${c}`, await fsp.lstat(join(p, c)));
    }
  };
  const done = (async (): Promise<number> => {
    try {
      await add(path, name, follow ? await fsp.stat(path) : await fsp.lstat(path));
      await w.finalize();
    } catch (e) {
      w.destroy(e as Error);
      throw e;
    }
    return bytes;
  })();
  done.catch(() => undefined);
  return { stream: w.stream, done };
}
