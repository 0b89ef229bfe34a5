/**
 * Safe layer extraction. Every entry is confined to `dir`: names are cleaned lexically (a leading '/' is dropped
 * as Docker does; a '..' that would leave the root is an error), every parent component must be a real directory
 * (never a symlink), an existing final component is replaced, never followed, and hardlinks point inside `dir`.
 *
 * The file system work is synchronous on purpose: the inflater runs on the threadpool and the extractor on this
 * thread, and one sync syscall costs a few µs where an async one costs a threadpool round trip (measured in
 * bench/unpack.ts). Run it in a worker when the caller's event loop must stay responsive.
 *
 * Work that must come last is deferred: device nodes and fifos (`mknod` processes, several at a time), xattrs
 * (one `setfattr --restore` per layer; after chown, which clears security.capability) and directory mtimes
 * (deepest first, after their content). A later entry that removes a directory first flushes that work, so no
 * deferred path can ever be resolved through a symlink that replaced a directory.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import {
  closeSync, constants, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, lstatSync, statSync, lutimesSync,
  mkdirSync, openSync, readdirSync, rmSync, symlinkSync, chmodSync, unlinkSync, writeSync, type Stats,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgument, messageOf } from '../../lib/errors.js';
import type { Digest } from '../../lib/digest.js';
import { readTar, type TarHeader } from '../../lib/tar/index.js';
import { decompress } from './decompress.js';
import type { ApplyOptions, ApplyResult } from './types.js';

const DEFAULT_MAX_ENTRIES = 1_000_000;
const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;
const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';
const MKNOD_PARALLEL = 4;

export function unsafeArchive(msg: string): InvalidArgument {
  return new InvalidArgument(msg, { code: 'PETI_ERR_UNSAFE_ARCHIVE', hint: 'the layer archive is malformed or hostile' });
}

/** Clean an archive path into components under the root. '' components and '.' vanish; '..' may not climb out. */
export function cleanPath(name: string): string[] {
  if (name.includes('\0')) throw unsafeArchive(`archive entry name contains NUL: ${JSON.stringify(name)}`);
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw unsafeArchive(`archive entry escapes the root: ${JSON.stringify(name)}`);
      out.pop();
    } else out.push(c);
  }
  return out;
}

interface PendingNode { type: 'char' | 'block' | 'fifo'; h: TarHeader }

function lstatOrUndef(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function writeAll(fd: number, b: Buffer): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

function run(cmd: string, args: string[], cwd: string, stdin?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => { if (err.length < 4096) err += s; });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new InvalidArgument(`${cmd} failed (${code}): ${err.trim()}`, { code: 'PETI_ERR_INVALID_ARGUMENT' }));
    });
    if (stdin !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(stdin);
    }
  });
}

/** getfattr --dump quoting: octal-escape everything outside a small safe set (setfattr unquotes any `\ooo`). */
function quoteDump(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const safe = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
      || byte === 0x2e || byte === 0x2f || byte === 0x5f || byte === 0x2d || byte === 0x2b || byte === 0x40 || byte === 0x3a;
    out += safe ? String.fromCharCode(byte) : '\\' + byte.toString(8).padStart(3, '0');
  }
  return out;
}

class Extractor {
  /** Relative paths known to be real directories (created or lstat'ed by us); '' is the root. */
  private dirs = new Set<string>(['']);
  private readonly dirTimes = new Map<string, [number, number]>();
  private readonly nodes = new Map<string, PendingNode>();
  private readonly xattrs = new Map<string, Map<string, Buffer>>();
  /** Paths this archive wrote; kept only when flattening (whiteouts hit lower layers only). */
  private readonly created: Set<string> | undefined;
  private readonly asRoot = process.getuid?.() === 0;
  entries = 0;

  constructor(private readonly root: string, private readonly overlayWhiteouts: boolean, private readonly maxEntries: number) {
    this.created = overlayWhiteouts ? undefined : new Set();
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : join(this.root, rel);
  }

  /** Make sure every component of `parts` is a real directory, creating missing ones (0755, root-owned). */
  private ensureDirs(parts: readonly string[], create: boolean): void {
    let rel = '';
    for (const c of parts) {
      rel = rel === '' ? c : `${rel}/${c}`;
      if (this.dirs.has(rel)) continue;
      const st = lstatOrUndef(this.abs(rel));
      if (st === undefined) {
        if (!create) throw unsafeArchive(`archive link target's directory ${JSON.stringify(rel)} does not exist`);
        mkdirSync(this.abs(rel), 0o755);
        this.created?.add(rel);
      } else if (!st.isDirectory()) {
        throw unsafeArchive(`archive entry path goes through ${JSON.stringify(rel)}, which is not a directory (${st.isSymbolicLink() ? 'a symlink' : 'a file'})`);
      }
      this.dirs.add(rel);
    }
  }

  /** Remove whatever sits at `rel` (never following it), flushing deferred work first when it is a directory. */
  private async clear(rel: string, st: Stats): Promise<void> {
    if (st.isDirectory()) {
      await this.flush();
      rmSync(this.abs(rel), { recursive: true, force: true });
      this.dirs = new Set(['']);
    } else {
      unlinkSync(this.abs(rel));
    }
    this.nodes.delete(rel);
    this.xattrs.delete(rel);
  }

  async entry(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    if (++this.entries > this.maxEntries) throw unsafeArchive(`archive has more than ${this.maxEntries} entries`);
    const parts = cleanPath(h.name);
    const base = parts[parts.length - 1];
    if (base !== undefined && base.startsWith(WH)) return this.whiteout(parts.slice(0, -1), base, h);
    const rel = parts.join('/');
    if (rel === '') {
      if (h.type !== 'dir') throw unsafeArchive(`archive root entry ${JSON.stringify(h.name)} is not a directory`);
      this.meta('', h, true, statSync(this.root));
      return;
    }
    this.ensureDirs(parts.slice(0, -1), true);
    const target = this.abs(rel);
    const existing = lstatOrUndef(target);
    if (existing !== undefined && !(h.type === 'dir' && existing.isDirectory())) await this.clear(rel, existing);
    this.nodes.delete(rel); // a later entry wins over a node not made yet
    this.xattrs.delete(rel);
    this.created?.add(rel);
    switch (h.type) {
      case 'file': {
        const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) writeAll(fd, chunk);
          if (this.asRoot) fchownSync(fd, h.uid, h.gid);
          fchmodSync(fd, h.mode); // after chown, which clears setuid/setgid
          futimesSync(fd, this.atime(h), h.mtime);
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'dir':
        if (existing === undefined || !existing.isDirectory()) {
          mkdirSync(target, 0o700);
          this.meta(rel, h, true);
        } else {
          this.meta(rel, h, true, existing);
        }
        this.dirs.add(rel);
        break;
      case 'symlink':
        symlinkSync(h.linkname, target);
        if (this.asRoot) lchownSync(target, h.uid, h.gid);
        lutimesSync(target, this.atime(h), h.mtime);
        break;
      case 'hardlink': {
        const lt = cleanPath(h.linkname);
        const ltRel = lt.join('/');
        if (ltRel === '' || ltRel === rel) throw unsafeArchive(`archive hardlink ${JSON.stringify(h.name)} has a bad target ${JSON.stringify(h.linkname)}`);
        this.ensureDirs(lt.slice(0, -1), false);
        const tst = lstatOrUndef(this.abs(ltRel));
        if (this.nodes.has(ltRel)) await this.flushNodes();
        else if (tst === undefined) throw unsafeArchive(`archive hardlink target ${JSON.stringify(h.linkname)} does not exist in the layer`);
        else if (tst.isDirectory()) throw unsafeArchive(`archive hardlink target ${JSON.stringify(h.linkname)} is a directory`);
        linkSync(this.abs(ltRel), target);
        break;
      }
      case 'char': case 'block': case 'fifo':
        this.nodes.set(rel, { type: h.type, h });
        break;
      default:
        throw new InvalidArgument(`unsupported tar entry type '${h.typeflag}' for ${JSON.stringify(h.name)}`, { code: 'PETI_ERR_UNSAFE_ARCHIVE' });
    }
    if (h.xattrs.size > 0 && h.type !== 'hardlink') this.xattrs.set(rel, new Map(h.xattrs));
  }

  private atime(h: TarHeader): number {
    const a = h.pax.atime === undefined ? NaN : Number(h.pax.atime);
    return Number.isFinite(a) ? a : h.mtime;
  }

  /** Owner and mode now; mtime later (writing the content would change it). */
  private meta(rel: string, h: TarHeader, isDir: boolean, st?: Stats): void {
    const p = this.abs(rel);
    // each of these syscalls costs 2-3 µs here; archives often repeat a directory, so skip what is already right
    const chown = this.asRoot && (st === undefined || st.uid !== h.uid || st.gid !== h.gid);
    if (chown) lchownSync(p, h.uid, h.gid);
    if (chown || st === undefined || (st.mode & 0o7777) !== h.mode) chmodSync(p, h.mode);
    if (isDir) this.dirTimes.set(rel, [this.atime(h), h.mtime]);
  }

  private async whiteout(dirParts: string[], base: string, h: TarHeader): Promise<void> {
    this.ensureDirs(dirParts, true);
    const dirRel = dirParts.join('/');
    if (base === OPAQUE) {
      if (this.overlayWhiteouts) {
        const x = this.xattrs.get(dirRel) ?? new Map<string, Buffer>();
        x.set('trusted.overlay.opaque', Buffer.from('y'));
        this.xattrs.set(dirRel, x);
        return;
      }
      // flattening: drop what lower layers put in this directory, keep what this layer wrote
      await this.flush();
      for (const child of readdirSync(this.abs(dirRel))) {
        const rel = dirRel === '' ? child : `${dirRel}/${child}`;
        if (!this.created?.has(rel)) rmSync(this.abs(rel), { recursive: true, force: true });
      }
      this.dirs = new Set(['']);
      return;
    }
    if (base.startsWith(WH + WH)) return; // other AUFS metadata (.wh..wh.plnk, ...): not content
    const name = base.slice(WH.length);
    if (name === '' || name === '.' || name === '..' || name.includes('/')) {
      throw unsafeArchive(`archive whiteout ${JSON.stringify(h.name)} names no entry of its directory`);
    }
    const rel = dirRel === '' ? name : `${dirRel}/${name}`;
    const existing = lstatOrUndef(this.abs(rel));
    if (!this.overlayWhiteouts) {
      if (existing !== undefined && !this.created?.has(rel)) await this.clear(rel, existing);
      return;
    }
    if (existing !== undefined) await this.clear(rel, existing);
    this.nodes.set(rel, { type: 'char', h: { ...h, mode: 0, devmajor: 0, devminor: 0, xattrs: new Map() } });
  }

  private async flushNodes(): Promise<void> {
    const list = [...this.nodes];
    this.nodes.clear();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < list.length) {
        const [rel, n] = list[next++]!;
        const h = n.h;
        const kind = n.type === 'char' ? ['c', String(h.devmajor), String(h.devminor)] : n.type === 'block' ? ['b', String(h.devmajor), String(h.devminor)] : ['p'];
        await run('/usr/bin/mknod', ['-m', (h.mode & 0o777).toString(8), '--', rel, ...kind], this.root);
        const p = this.abs(rel);
        if (this.asRoot) lchownSync(p, h.uid, h.gid);
        chmodSync(p, h.mode);
        lutimesSync(p, this.atime(h), h.mtime);
      }
    };
    await Promise.all(Array.from({ length: Math.min(MKNOD_PARALLEL, list.length) }, worker));
  }

  private async flushXattrs(): Promise<void> {
    if (this.xattrs.size === 0) return;
    const lines: string[] = [];
    for (const [rel, x] of this.xattrs) {
      lines.push(`# file: ${quoteDump(rel === '' ? '.' : rel)}`);
      for (const [k, v] of x) lines.push(`${quoteDump(k)}=0x${v.toString('hex')}`);
      lines.push('');
    }
    this.xattrs.clear();
    // -h: never follow a symlink at the final component; parents were checked to be real directories
    await run('setfattr', ['-h', '--restore=-'], this.root, Buffer.from(lines.join('\n') + '\n'));
  }

  private flushDirTimes(): void {
    const list = [...this.dirTimes].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
    this.dirTimes.clear();
    for (const [rel, [a, m]] of list) {
      const st = lstatOrUndef(this.abs(rel));
      if (st?.isDirectory() === true) lutimesSync(this.abs(rel), a, m);
    }
  }

  /** Do all deferred work: nodes, then xattrs (on them too), then directory times deepest first. */
  async flush(): Promise<void> {
    await this.flushNodes();
    await this.flushXattrs();
    this.flushDirTimes();
  }
}

/**
 * Extract one layer (plain, gzip or zstd tar) into `dir`, hashing the uncompressed stream as it goes.
 * Throws InvalidArgument for corrupt input and PETI_ERR_UNSAFE_ARCHIVE for hostile entries or exceeded limits;
 * on failure `dir` holds a partial extraction that the caller removes.
 */
export async function applyLayer(input: Readable, dir: string, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const plain = await decompress(input, opts.compression ?? 'auto');
  const hash = createHash('sha256');
  let size = 0;
  const metered: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: async function* () {
      for await (const c of plain.chunks) {
        size += c.length;
        if (size > maxBytes) throw unsafeArchive(`layer is larger than the ${maxBytes}-byte limit once uncompressed`);
        hash.update(c);
        yield c;
      }
    },
  };
  // The target itself may be a magic link the caller chose on purpose (a running container's /proc/<pid>/root);
  // only what lies below it is confined.
  const st = statSync(dir);
  if (!st.isDirectory()) throw new InvalidArgument(`apply target ${dir} is not a directory`);
  const ex = new Extractor(dir, opts.whiteouts !== false, opts.maxEntries ?? DEFAULT_MAX_ENTRIES);
  try {
    for await (const e of readTar(metered)) await ex.entry(e.header, e.body);
    await ex.flush();
  } catch (e) {
    plain.abort();
    if (e instanceof InvalidArgument) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'ENOENT' || code === 'ELOOP') {
      throw new InvalidArgument(`cannot apply layer: ${messageOf(e)}`, { code: 'PETI_ERR_UNSAFE_ARCHIVE', cause: e });
    }
    throw e;
  }
  return { diffId: `sha256:${hash.digest('hex')}` as Digest, size, entries: ex.entries };
}
