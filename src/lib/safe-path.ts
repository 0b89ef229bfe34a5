/**
 * Resolve a path inside a root directory (an image rootfs, a volume) as the kernel would if `root` were `/`:
 * symlinks are followed, absolute link targets restart at `root`, and `..` stops at `root`. The result is a host
 * path that is always `root` or below it. Trailing components may not exist yet (the caller may create them).
 *
 * The walk is written once as a generator that asks its driver to inspect a path; the async and sync drivers below
 * answer with fs.promises or fs calls, so both resolve exactly alike.
 *
 * This guards against hostile image content, not against a concurrent writer swapping directories for symlinks
 * under our feet: callers use it on rootfs trees only petid writes to while it resolves.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgument } from './errors.js';

/** Linux gives up after 40 hops per lookup; securejoin implementations allow 255. More means a loop. */
export const MAX_SYMLINK_HOPS = 255;

type Inspection = { kind: 'missing' } | { kind: 'other' } | { kind: 'link'; target: string };

function* walk(root: string, unsafePath: string): Generator<string, string, Inspection> {
  // Components still to resolve, in order; `resolved` is the confined path so far, relative to root.
  let pending = splitPath(unsafePath);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    const found = yield hostPath(root, candidate);
    if (found.kind !== 'link') {
      // A missing component (or one under a non-directory) cannot be a symlink: keep resolving lexically.
      resolved.push(part);
      continue;
    }
    hops += 1;
    if (hops > MAX_SYMLINK_HOPS) {
      throw new InvalidArgument(`cannot resolve ${unsafePath} inside ${root}: too many levels of symbolic links`);
    }
    if (found.target.startsWith('/')) resolved.length = 0;
    pending = [...splitPath(found.target), ...pending];
  }
  return hostPath(root, resolved);
}

function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

function hostPath(root: string, parts: string[]): string {
  return parts.length === 0 ? root : `${root === '/' ? '' : root}/${parts.join('/')}`;
}

function isAbsence(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function inspect(path: string): Promise<Inspection> {
  try {
    const st = await lstat(path);
    if (!st.isSymbolicLink()) return { kind: 'other' };
    return { kind: 'link', target: await readlink(path) };
  } catch (err) {
    if (isAbsence(err)) return { kind: 'missing' };
    throw err;
  }
}

function inspectSync(path: string): Inspection {
  try {
    const st = lstatSync(path);
    if (!st.isSymbolicLink()) return { kind: 'other' };
    return { kind: 'link', target: readlinkSync(path) };
  } catch (err) {
    if (isAbsence(err)) return { kind: 'missing' };
    throw err;
  }
}

/**
 * The host path of `unsafePath` interpreted inside `root`. Throws InvalidArgument on a symlink loop (more than
 * MAX_SYMLINK_HOPS links); other fs errors (EACCES) propagate.
 */
export async function secureJoin(root: string, unsafePath: string): Promise<string> {
  const base = resolve(root);
  const it = walk(base, unsafePath);
  let step = it.next();
  while (!step.done) step = it.next(await inspect(step.value));
  return step.value;
}

/** secureJoin with synchronous fs calls, for code paths that cannot await. */
export function secureJoinSync(root: string, unsafePath: string): string {
  const base = resolve(root);
  const it = walk(base, unsafePath);
  let step = it.next();
  while (!step.done) step = it.next(inspectSync(step.value));
  return step.value;
}
