/**
 * Mounted root file systems for build steps: a writable workspace (an active overlay snapshot on the parent chain,
 * mounted under the build's temp dir) whose upper dir becomes the step's layer and is committed as the snapshot of
 * the new chain ID, so the next step stacks on it without extracting anything; and read-only views for
 * `COPY --from` and `RUN --mount=type=bind,from=`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';
import { type Digest, sha256 } from '../../lib/digest.js';
import { AlreadyExists } from '../../lib/errors.js';
import type { ContentStore } from '../content/index.js';
import { mountAll, unmount, type Snapshotter } from '../snapshots/index.js';
import { storeLayer } from './layer.js';

export interface Workspace {
  key: string;
  /** Host path of the mounted rootfs. */
  root: string;
  /** The snapshot's upper dir (the step's changes). */
  upper: string;
  parent?: string;
}

function rand(): string {
  return randomBytes(8).toString('hex');
}

export async function openWorkspace(snapshots: Snapshotter, tmp: string, parent: string | undefined): Promise<Workspace> {
  const key = `build-${rand()}`;
  const mounts = await snapshots.prepare(key, parent, { 'peti.build': '1' });
  const root = join(tmp, key);
  try {
    await fsp.mkdir(root, { recursive: true, mode: 0o700 });
    await mountAll(mounts, root);
  } catch (e) {
    await snapshots.remove(key).catch(() => undefined);
    throw e;
  }
  return { key, root, upper: await snapshots.upperDir(key), ...(parent ? { parent } : {}) };
}

/** Unmount and forget a workspace without keeping anything. */
export async function discardWorkspace(snapshots: Snapshotter, ws: Workspace): Promise<void> {
  await unmount(ws.root).catch(() => undefined);
  await fsp.rmdir(ws.root).catch(() => undefined);
  await snapshots.remove(ws.key).catch(() => undefined);
}

/**
 * Paths the runtime may create as mount points (and their missing parents) that do not exist yet in the rootfs:
 * after the step they are removed from the upper dir when still empty, so they do not leak into the layer (BuildKit
 * removes its mount stubs the same way).
 */
export async function missingStubs(root: string, targets: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const t of targets) {
    const parts = t.split('/').filter((c) => c !== '');
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      try {
        await fsp.lstat(join(root, rel));
      } catch {
        for (let j = i; j <= parts.length; j++) out.add(parts.slice(0, j).join('/'));
        break;
      }
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

async function removeStubs(upper: string, stubs: readonly string[]): Promise<void> {
  for (const rel of stubs) {
    const p = join(upper, rel);
    const st = await fsp.lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) await fsp.rmdir(p).catch(() => undefined); // only when empty
    else if (st.isFile() && st.size === 0) await fsp.unlink(p);
  }
  // Creating a stub copied its existing parent (/etc) up into the upper dir: still empty, it is no change.
  const parents = new Set<string>();
  for (const rel of stubs) for (let d = posix.dirname(rel); d !== '.' && d !== '/'; d = posix.dirname(d)) if (!stubs.includes(d)) parents.add(d);
  for (const d of [...parents].sort((a, b) => b.length - a.length)) await fsp.rmdir(join(upper, d)).catch(() => undefined);
}

export interface CommittedLayer {
  diffId: Digest;
  size: number;
  chainId: Digest;
}

/**
 * Turn the workspace into a layer: unmount, drop mount stubs, write the upper dir as a layer blob, commit the
 * snapshot under the new chain ID (or drop it when an identical chain is already committed).
 */
export async function commitWorkspace(
  snapshots: Snapshotter, content: ContentStore, ws: Workspace, parentChain: Digest | undefined, stubs: readonly string[] = [],
): Promise<CommittedLayer> {
  await unmount(ws.root);
  await fsp.rmdir(ws.root).catch(() => undefined);
  try {
    await removeStubs(ws.upper, stubs);
    const layer = await storeLayer(content, ws.upper);
    const chainId = parentChain ? sha256(`${parentChain} ${layer.digest}`) : layer.digest;
    try {
      await snapshots.commit(chainId, ws.key, { 'peti.size': String(layer.size), 'peti.diffid': layer.digest });
    } catch (e) {
      if (!(e instanceof AlreadyExists)) throw e;
      await snapshots.remove(ws.key);
    }
    return { diffId: layer.digest, size: layer.size, chainId };
  } catch (e) {
    await snapshots.remove(ws.key).catch(() => undefined);
    throw e;
  }
}

export interface View {
  root: string;
  release(): Promise<void>;
}

/** A read-only (or, with `writable`, a throw-away writable) mount of a committed chain; scratch is an empty dir. */
export async function openView(snapshots: Snapshotter, tmp: string, chain: string | undefined, writable = false): Promise<View> {
  const key = `build-view-${rand()}`;
  const root = join(tmp, key);
  await fsp.mkdir(root, { recursive: true, mode: 0o755 });
  if (chain === undefined && !writable) return { root, release: async () => { await fsp.rm(root, { recursive: true, force: true }); } };
  const mounts = writable ? await snapshots.prepare(key, chain) : await snapshots.view(key, chain);
  try {
    await mountAll(mounts, root);
  } catch (e) {
    await snapshots.remove(key).catch(() => undefined);
    throw e;
  }
  return {
    root,
    release: async () => {
      await unmount(root).catch(() => undefined);
      await fsp.rmdir(root).catch(() => undefined);
      await snapshots.remove(key).catch(() => undefined);
    },
  };
}

/** Lazily unmount everything mounted at or below `dir` (workspaces a crashed build left), deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  const info = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  const targets = info.split('\n').map((l) => l.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((t): t is string => t !== undefined && (t === dir || t.startsWith(dir + '/')));
  for (const t of [...new Set(targets)].sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', '--', t], { stdio: 'ignore' });
}
