/**
 * `docker cp` on the daemon side: stat a path (HEAD), tar it out (GET), untar into a directory (PUT). Paths are
 * resolved in the container's root (container-fs.ts); the tar written into the container goes through applyLayer,
 * which confines every entry to the extraction directory and never writes through a symlink.
 */
import { posix } from 'node:path';
import { promises as fsp, type Stats } from 'node:fs';
import type { Readable } from 'node:stream';
import { InvalidArgument, NotFound, PetiError } from '../../lib/errors.js';
import { readTar, TarWriter, type TarHeader, type TarWriteHeader } from '../../lib/tar/index.js';
import { applyLayer } from '../snapshots/index.js';
import { lstatIn, openView, readOnlyError, resolveIn, withView, type ContainerView, type Resolved } from './container-fs.js';
import type { ContainerService } from './service.js';
import type { UserResolver } from './exec.js';
import { addTree } from './tar-tree.js';

/** Docker's ContainerPathStat (the `X-Docker-Container-Path-Stat` header, base64 JSON). */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** os.FileMode as Go encodes it: type bits high, permission bits low. */
export function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m |= 2 ** 31;
  else if (st.isSymbolicLink()) m |= 2 ** 27;
  else if (st.isCharacterDevice()) m |= 2 ** 26 | 2 ** 21;
  else if (st.isBlockDevice()) m |= 2 ** 26;
  else if (st.isFIFO()) m |= 2 ** 25;
  else if (st.isSocket()) m |= 2 ** 24;
  if (st.mode & 0o4000) m |= 2 ** 23;
  if (st.mode & 0o2000) m |= 2 ** 22;
  if (st.mode & 0o1000) m |= 2 ** 20;
  return m >>> 0;
}

function notFound(path: string, ref: string): NotFound {
  return new NotFound(`Could not find the file ${path} in container ${ref}`);
}

function isAbsent(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The name Docker gives the archived resource: the request path's base, `.` for a trailing `/.`. */
function baseName(path: string): string {
  if (/(^|\/)\.$/.test(path)) return '.';
  const b = posix.basename(path.replace(/\/+$/, ''));
  return b === '' ? '.' : b;
}

function checkPath(path: string): void {
  if (path === '') throw new InvalidArgument('Path cannot be empty');
  if (path.includes('\0')) throw new InvalidArgument('Path contains a NUL byte');
}

/** lstat of a resolved path; a missing one is Docker's `Could not find the file ... in container ...`. */
async function lstatOrNotFound(r: Resolved, path: string, ref: string): Promise<Stats> {
  try {
    return await lstatIn(r);
  } catch (e) {
    if (isAbsent(e)) throw notFound(path, ref);
    throw e;
  }
}

async function statIn(view: ContainerView, path: string, ref: string): Promise<{ r: Resolved; st: Stats; stat: PathStat }> {
  const r = await resolveIn(view, path, false);
  const st = await lstatOrNotFound(r, path, ref);
  let linkTarget = '';
  if (st.isSymbolicLink()) linkTarget = `/${(await resolveIn(view, path, true)).parts.join('/')}`;
  return { r, st, stat: { name: baseName(path), size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget } };
}

export async function statPath(svc: ContainerService, ref: string, path: string): Promise<PathStat> {
  checkPath(path);
  return withView(svc, ref, {}, async (v) => (await statIn(v, path, ref)).stat);
}

/** The tar of a path; the container stays frozen until the stream ends or fails. */
export async function archivePath(svc: ContainerService, ref: string, path: string): Promise<{ stat: PathStat; stream: Readable }> {
  checkPath(path);
  const view = await openView(svc, ref);
  try {
    const { r, st, stat } = await statIn(view, path, ref);
    const w = new TarWriter();
    void (async (): Promise<void> => {
      try {
        await addTree(w, r.host, stat.name, {}, r.parts.length === 0 ? st : undefined);
        await w.finalize();
      } catch (e) {
        w.destroy(e as Error);
      } finally {
        await view.release();
      }
    })();
    svc.emit(svc.store.get(ref), 'archive-path');
    return { stat, stream: w.stream };
  } catch (e) {
    await view.release();
    throw e;
  }
}

export interface ExtractOptions {
  /** Fail rather than replace a directory with a non-directory or the reverse (the docker CLI always asks). */
  noOverwriteDirNonDir?: boolean;
  /** Own every entry by the container's configured user (docker cp -a). */
  copyUIDGID?: boolean;
}

function toWrite(h: TarHeader, owner: { uid: number; gid: number } | undefined): TarWriteHeader {
  if (h.type === 'unknown') throw new InvalidArgument(`unsupported tar entry type '${h.typeflag}' for ${JSON.stringify(h.name)}`);
  const type = h.type === 'contiguous' ? 'file' : h.type;
  return {
    name: h.name, type, mode: h.mode, uid: owner?.uid ?? h.uid, gid: owner?.gid ?? h.gid, uname: owner ? '' : h.uname, gname: owner ? '' : h.gname,
    size: h.size, mtime: h.mtime, linkname: h.linkname, devmajor: h.devmajor, devminor: h.devminor, xattrs: h.xattrs,
  };
}

/** Docker's NoOverwriteDirNonDir check for one entry, against what is on disk now (parents that are not real directories are applyLayer's to refuse). */
async function checkOverwrite(dir: string, h: TarHeader): Promise<void> {
  const parts = h.name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.length === 0 || parts.includes('..')) return;
  let p = dir;
  for (const [i, c] of parts.entries()) {
    p = posix.join(p, c);
    let st: Stats;
    try {
      st = await fsp.lstat(p);
    } catch {
      return;
    }
    if (i < parts.length - 1) {
      if (!st.isDirectory()) return;
      continue;
    }
    const isDir = h.type === 'dir';
    if (st.isDirectory() && !isDir) throw new InvalidArgument(`cannot overwrite directory "${posix.join('/', ...parts)}" with non-directory "${h.name}"`);
    if (!st.isDirectory() && isDir) throw new InvalidArgument(`cannot overwrite non-directory "${posix.join('/', ...parts)}" with directory "${h.name}"`);
  }
}

/** Extract a tar into the directory `path` of the container. */
export async function extractToDir(svc: ContainerService, resolveUser: UserResolver, ref: string, path: string, body: Readable, opts: ExtractOptions = {}): Promise<void> {
  checkPath(path);
  const rec = svc.store.get(ref);
  await withView(svc, ref, {}, async (view) => {
    const r = await resolveIn(view, path, true);
    const st = await lstatOrNotFound(r, path, ref);
    if (!st.isDirectory()) throw new InvalidArgument('extraction point is not a directory');
    if (!view.live && r.readonly) throw readOnlyError(view.mounts.length > 0 && r.readonly && !view.readonlyRoot ? 'volume' : 'rootfs');
    const user = typeof rec.config.User === 'string' ? rec.config.User : '';
    const owner = opts.copyUIDGID && user !== '' ? await resolveUser(view.root, user).then((u) => ({ uid: u.uid, gid: u.gid })) : undefined;
    const w = new TarWriter();
    const producer = (async (): Promise<void> => {
      try {
        for await (const e of readTar(body)) {
          if (opts.noOverwriteDirNonDir) await checkOverwrite(r.host, e.header);
          await w.add(toWrite(e.header, owner), e.header.type === 'file' || e.header.type === 'contiguous' ? e.body : undefined);
        }
        await w.finalize();
      } catch (err) {
        w.destroy(err as Error);
        throw err;
      }
    })();
    // If the extraction fails first, stop the producer too (it would wait forever on a stream nobody reads) and
    // drop the rest of the upload.
    const consumer = applyLayer(w.stream, r.host, { whiteouts: false, compression: 'none' }).catch((err: unknown) => {
      w.destroy(err instanceof Error ? err : new Error(String(err)));
      body.resume();
      throw err;
    });
    const results = await Promise.allSettled([producer, consumer]);
    const failed = results.filter((x): x is PromiseRejectedResult => x.status === 'rejected').map((x) => x.reason as unknown);
    // The producer's own refusal (NoOverwriteDirNonDir, a bad entry) explains more than the consumer's broken pipe.
    const first = failed.find((e) => e instanceof PetiError) ?? failed[0];
    if (first !== undefined) {
      // Live containers: the kernel refuses writes to a read-only rootfs or volume.
      if ((first as NodeJS.ErrnoException).code === 'EROFS') {
        throw readOnlyError(rec.hostConfig.ReadonlyRootfs === true ? 'rootfs' : 'volume');
      }
      throw first;
    }
  });
  svc.emit(rec, 'extract-to-dir');
}
