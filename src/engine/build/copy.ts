/**
 * COPY and ADD into a mounted step rootfs. Sources come from the build context (a BuildContext index) or from
 * another stage's or image's rootfs (a read-only view); neither is ever followed out of its root: a source path's
 * leading symlinks resolve inside the source root, a symlink named as a source is copied as a symlink. Destinations
 * resolve through the image's symlinks confined to the rootfs (secureJoin), as Docker's FollowSymlinkInScope.
 */
import { constants, promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { decompress } from '../../lib/compression.js';
import { InvalidArgument } from '../../lib/errors.js';
import { secureJoin } from '../../lib/safe-path.js';
import { applyLayer } from '../snapshots/index.js';
import type { BuildContext, CtxEntry } from './context.js';
import { checkDestination, matchesSource, resolveDestination, sourcePattern, targetPath } from './copy-sources.js';

export interface SrcNode {
  /** Path relative to the source root ('.' for the root). */
  rel: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname: string;
}

/** Where COPY reads from. */
export interface CopySource {
  /** The node at a path (leading symlinks followed inside the root, the last one not); undefined when absent. */
  lookup(rel: string): Promise<SrcNode | undefined>;
  children(n: SrcNode): Promise<SrcNode[]>;
  body(n: SrcNode): Readable;
  /** Words for "not found" errors: Docker's classic builder names the context. */
  readonly fromContext: boolean;
}

export function contextSource(ctx: BuildContext): CopySource {
  const node = (e: CtxEntry): SrcNode => ({
    rel: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, size: e.size, linkname: e.linkname,
  });
  return {
    fromContext: true,
    lookup: async (rel) => {
      const e = ctx.lookup(rel);
      return e ? node(e) : undefined;
    },
    children: async (n) => ctx.children(n.rel).map((k) => node(ctx.entries.get(n.rel === '.' ? k : `${n.rel}/${k}`)!)),
    body: (n) => ctx.body(ctx.entries.get(n.rel)!),
  };
}

export function dirSource(root: string): CopySource {
  const stat = async (rel: string, host: string): Promise<SrcNode | undefined> => {
    const st = await fsp.lstat(host).catch(() => undefined);
    if (!st) return undefined;
    const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
    return {
      rel, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtimeMs / 1000, size: st.size,
      linkname: type === 'symlink' ? await fsp.readlink(host) : '',
    };
  };
  const hostOf = async (rel: string): Promise<string> => {
    if (rel === '.') return root;
    const parent = await secureJoin(root, '/' + posix.dirname(rel));
    return join(parent, posix.basename(rel));
  };
  return {
    fromContext: false,
    lookup: async (rel) => stat(rel, await hostOf(rel)),
    children: async (n) => {
      const host = await hostOf(n.rel);
      const out: SrcNode[] = [];
      for (const k of (await fsp.readdir(host)).sort()) {
        const s = await stat(n.rel === '.' ? k : `${n.rel}/${k}`, join(host, k));
        if (s) out.push(s);
      }
      return out;
    },
    body: (n) => Readable.from((async function* (): AsyncGenerator<Buffer> {
      // the view is read-only and nothing runs in it: the path resolved here cannot change underneath
      const fh = await fsp.open(await hostOf(n.rel), constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        for (;;) {
          const buf = Buffer.allocUnsafe(256 * 1024);
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead === 0) return;
          yield buf.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    })()),
  };
}

export interface CopyRequest {
  cmd: 'COPY' | 'ADD';
  sources: string[];
  /** Heredoc or inline sources: name -> content. */
  inline: { path: string; data: string }[];
  dest: string;
  workdir: string;
  owner?: { uid: number; gid: number };
  chmod?: number;
  /** ADD: unpack local archives. */
  unpack: boolean;
}

/** Expand sources against the source root: the matched nodes, in order. Throws InvalidArgument when none match. */
export async function matchSources(src: CopySource, sources: readonly string[], cmd: string): Promise<SrcNode[]> {
  const out: SrcNode[] = [];
  for (const s of sources) {
    const sp = sourcePattern(s);
    if (!sp.wildcard) {
      const n = await src.lookup(sp.pattern);
      if (!n) {
        throw new InvalidArgument(src.fromContext
          ? `${cmd} failed: file not found in build context or excluded by .dockerignore: stat ${sp.pattern}: file does not exist`
          : `${cmd} failed: stat /${sp.pattern === '.' ? '' : sp.pattern}: file does not exist`);
      }
      out.push(n);
      continue;
    }
    const found: SrcNode[] = [];
    const root = await src.lookup(sp.walkRoot);
    const visit = async (n: SrcNode): Promise<void> => {
      for (const c of await src.children(n)) {
        if (matchesSource(sp, c.rel)) found.push(c);
        else if (c.type === 'dir') await visit(c);
      }
    };
    if (root?.type === 'dir') await visit(root);
    if (found.length === 0) throw new InvalidArgument(`${cmd} failed: no source files were specified`);
    out.push(...found);
  }
  return out;
}

/** Make every missing directory of `abs` (an absolute image path) inside root; returns the host path. */
async function mkdirAll(root: string, abs: string, owner: { uid: number; gid: number } | undefined): Promise<string> {
  const parts = abs.split('/').filter((c) => c !== '');
  let cur = '/';
  let host = root;
  for (const p of parts) {
    cur = posix.join(cur, p);
    host = await secureJoin(root, cur);
    const st = await fsp.lstat(host).catch(() => undefined);
    if (!st) {
      await fsp.mkdir(host, { mode: 0o755 });
      await fsp.chmod(host, 0o755);
      if (owner) await fsp.lchown(host, owner.uid, owner.gid);
    } else if (!st.isDirectory()) {
      throw new InvalidArgument(`failed to copy files: mkdir ${cur}: not a directory`);
    }
  }
  return host;
}

async function removeExisting(host: string, keepDir: boolean): Promise<boolean> {
  const st = await fsp.lstat(host).catch(() => undefined);
  if (!st) return false;
  if (st.isDirectory()) {
    if (keepDir) return true;
    await fsp.rm(host, { recursive: true, force: true });
    return false;
  }
  await fsp.unlink(host);
  return false;
}

interface WriteOpts { owner?: { uid: number; gid: number }; chmod?: number; fromContext: boolean }

async function writeNode(src: CopySource, n: SrcNode, host: string, o: WriteOpts): Promise<void> {
  // Context files belong to root unless --chown (Docker); files from a stage or image keep their owners.
  const uid = o.owner?.uid ?? (o.fromContext ? 0 : n.uid);
  const gid = o.owner?.gid ?? (o.fromContext ? 0 : n.gid);
  const mode = o.chmod ?? n.mode;
  if (n.type === 'dir') {
    const existed = await removeExisting(host, true);
    if (!existed) {
      await fsp.mkdir(host, { mode: 0o700 });
      await fsp.lchown(host, uid, gid);
      await fsp.chmod(host, mode);
    }
    for (const c of await src.children(n)) await writeNode(src, c, join(host, posix.basename(c.rel)), o);
    if (!existed) await fsp.utimes(host, n.mtime, n.mtime);
    return;
  }
  await removeExisting(host, false);
  if (n.type === 'symlink') {
    await fsp.symlink(n.linkname, host);
    await fsp.lchown(host, uid, gid);
    await fsp.lutimes(host, n.mtime, n.mtime);
    return;
  }
  if (n.type !== 'file') return; // devices, fifos and sockets are not copied
  const fh = await fsp.open(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    if (n.size > 0) for await (const c of src.body(n)) await fh.write(c as Buffer);
    await fh.chown(uid, gid);
    await fh.chmod(mode); // after chown, which clears setuid bits
    await fh.utimes(n.mtime, n.mtime);
  } finally {
    await fh.close();
  }
}

/** Whether a file is a tar archive (plain or compressed), as ADD decides: a valid first header. */
async function isArchive(open: () => Readable): Promise<boolean> {
  const src = open();
  try {
    const { stream } = await decompress(src);
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of stream) {
      chunks.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= 512) break;
    }
    stream.destroy();
    const h = Buffer.concat(chunks).subarray(0, 512);
    if (h.length < 512) return false;
    const stored = parseInt(h.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
    if (!Number.isFinite(stored)) return false;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    return sum === stored;
  } catch {
    return false;
  } finally {
    src.destroy();
  }
}

/** Perform one COPY/ADD into `root` (the mounted rootfs). */
export async function performCopy(root: string, src: CopySource, req: CopyRequest): Promise<void> {
  const nodes = req.sources.length ? await matchSources(src, req.sources, req.cmd) : [];
  const count = nodes.length + req.inline.length;
  if (req.sources.some((s) => sourcePattern(s).wildcard) || count > 1) checkDestination(req.cmd, req.dest, count);
  const dest = resolveDestination(req.dest, req.workdir);
  const destHost = await secureJoin(root, dest.path);
  const destStat = await fsp.lstat(destHost).catch(() => undefined);
  const destIsDir = destStat?.isDirectory() === true;
  const o: WriteOpts = { ...(req.owner ? { owner: req.owner } : {}), ...(req.chmod !== undefined ? { chmod: req.chmod } : {}), fromContext: src.fromContext };

  for (const inl of req.inline) {
    const target = targetPath({ path: inl.path, isDir: false }, dest, destIsDir);
    const parent = await mkdirAll(root, posix.dirname(target), req.owner);
    const data = Buffer.from(inl.data);
    const n: SrcNode = { rel: inl.path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: Date.now() / 1000, size: data.length, linkname: '' };
    const one: CopySource = { ...src, body: () => Readable.from([data]) };
    await writeNode(one, n, join(parent, posix.basename(target)), { ...o, fromContext: true });
  }
  for (const n of nodes) {
    if (req.unpack && n.type === 'file' && src.fromContext && await isArchive(() => src.body(n))) {
      const dir = await mkdirAll(root, dest.path, req.owner);
      const { stream } = await decompress(src.body(n));
      await applyLayer(stream, dir, { compression: 'none', whiteouts: false });
      continue;
    }
    const target = targetPath({ path: n.rel, isDir: n.type === 'dir' }, dest, destIsDir);
    if (n.type === 'dir') {
      const host = await mkdirAll(root, target, req.owner);
      for (const c of await src.children(n)) await writeNode(src, c, join(host, posix.basename(c.rel)), o);
      continue;
    }
    const parent = await mkdirAll(root, posix.dirname(target), req.owner);
    await writeNode(src, n, join(parent, posix.basename(target)), o);
  }
}

/** Write a file (a RUN heredoc script) readable by everyone. */
export async function writeScript(dir: string, name: string, content: string, mode: number): Promise<string> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
  const p = join(dir, name);
  await fsp.writeFile(p, content, { mode });
  await fsp.chmod(p, mode);
  return p;
}
