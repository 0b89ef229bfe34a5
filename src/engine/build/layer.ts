/**
 * A step's changes as an OCI layer: the overlay upper directory walked (nothing followed) into a tar, overlay
 * whiteouts (0:0 character devices) written as `.wh.<name>`, opaque directories (trusted.overlay.opaque=y) as
 * `.wh..wh..opq`, with owners, modes, mtimes, hardlinks and xattrs (trusted.overlay.* left out).
 *
 * Layers are stored uncompressed, as Docker's classic builder keeps them: the digest is the diff ID, so one sha256
 * pass is the whole cost (gzip -6 runs at ~40 MiB/s here against sha256's ~680 MiB/s, DESIGN.md §8); compression
 * belongs to push, where it pays for itself.
 */
import { spawn } from 'node:child_process';
import { constants, promises as fsp, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../../lib/digest.js';
import { TarWriter, type TarWriteHeader } from '../../lib/tar/index.js';
import type { ContentStore } from '../content/index.js';

const CHUNK = 256 * 1024;

/** getfattr writes unusual bytes of names as `\ooo`. */
function unescapeOctal(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Every xattr below `root` by relative path ('' = root), from one `getfattr` walk that never follows links. */
export function readXattrs(root: string): Promise<Map<string, Map<string, Buffer>>> {
  return new Promise((resolve) => {
    const child = spawn('getfattr', ['-R', '-P', '-d', '-m', '-', '-e', 'hex', '.'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
    const parts: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => parts.push(b));
    child.once('error', () => resolve(new Map()));
    child.once('close', () => {
      const out = new Map<string, Map<string, Buffer>>();
      let cur: Map<string, Buffer> | undefined;
      for (const line of Buffer.concat(parts).toString('utf8').split('\n')) {
        if (line.startsWith('# file: ')) {
          cur = new Map();
          out.set(unescapeOctal(line.slice(8)).replace(/^\.\/?/, ''), cur);
          continue;
        }
        const m = /^([^=]+)=0x([0-9a-f]*)$/.exec(line);
        if (m && cur) cur.set(unescapeOctal(m[1]!), Buffer.from(m[2]!, 'hex'));
      }
      resolve(out);
    });
  });
}

function major(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}
function minor(rdev: number): number {
  return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
}

async function* fileBody(fh: fsp.FileHandle, size: number): AsyncGenerator<Buffer> {
  let left = size;
  while (left > 0) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) {
      yield Buffer.alloc(left);
      return;
    }
    left -= bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

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
  if (st.isCharacterDevice()) return { ...base, name, type: 'char', devmajor: major(st.rdev), devminor: minor(st.rdev) };
  if (st.isBlockDevice()) return { ...base, name, type: 'block', devmajor: major(st.rdev), devminor: minor(st.rdev) };
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
