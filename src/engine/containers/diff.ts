/**
 * `docker diff`: the container's changes read from its overlay upper directory. A 0:0 character device is a
 * whiteout (deleted); an opaque directory (trusted.overlay.opaque=y) hides everything below it in the lower layers;
 * any other entry is added when no lower layer has its path, else modified. Mount targets the runtime creates
 * (/etc/hosts, /dev, ...) are not changes, as in Docker, where an init layer holds them.
 */
import { unescapeGetfattr } from '../../lib/fs-tree.js';
import { spawn } from 'node:child_process';
import { promises as fsp, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { OciSpec } from '../runtime/types.js';
import type { ContainerService } from './service.js';

export interface Change {
  Path: string;
  /** 0 modified, 1 added, 2 deleted. */
  Kind: 0 | 1 | 2;
}

async function lstatOrUndef(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(p);
  } catch {
    return undefined;
  }
}

/** Directories in the upper dir marked opaque, from one `getfattr` walk (never following links). */
function opaqueDirs(upper: string): Promise<Set<string>> {
  return new Promise((resolve) => {
    const child = spawn('getfattr', ['-R', '-P', '--absolute-names', '-n', 'trusted.overlay.opaque', '.'], { cwd: upper, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.once('error', () => resolve(new Set()));
    child.once('close', () => {
      const set = new Set<string>();
      let file: string | undefined;
      for (const line of out.split('\n')) {
        if (line.startsWith('# file: ')) file = unescapeGetfattr(line.slice(8)).replace(/^\.\/?/, '');
        else if (file !== undefined && /^trusted\.overlay\.opaque="y"/.test(line)) set.add(file);
      }
      resolve(set);
    });
  });
}

export async function containerChanges(svc: ContainerService, ref: string): Promise<Change[]> {
  const rec = svc.store.get(ref);
  const upper = await svc.d.snapshots.upperDir(rec.snapshotKey);
  const mounts = await svc.d.snapshots.mounts(rec.snapshotKey);
  const lowers = (mounts[0]?.options ?? []).find((o) => o.startsWith('lowerdir='))?.slice('lowerdir='.length).split(':') ?? [];
  let spec: OciSpec | undefined;
  try {
    spec = JSON.parse(await fsp.readFile(join(svc.bundle(rec.id), 'config.json'), 'utf8')) as OciSpec;
  } catch {
    spec = undefined;
  }
  const targets = new Set((spec?.mounts ?? []).map((m) => m.destination.replace(/\/+$/, '')));
  const opaque = await opaqueDirs(upper);
  const inLower = async (rel: string): Promise<boolean> => {
    for (const l of lowers) if (await lstatOrUndef(join(l, rel))) return true;
    return false;
  };
  const out: Change[] = [];
  /** Walk one upper directory; returns whether anything below it was reported. */
  const walk = async (rel: string, hiddenBelow: boolean): Promise<boolean> => {
    let names: string[];
    try {
      names = (await fsp.readdir(join(upper, rel))).sort();
    } catch {
      return false;
    }
    let any = false;
    for (const n of names) {
      const r = rel === '' ? n : `${rel}/${n}`;
      const path = `/${r}`;
      const st = await lstatOrUndef(join(upper, r));
      if (!st) continue;
      if (st.isCharacterDevice() && st.rdev === 0) {
        if (!hiddenBelow && (await inLower(r))) {
          out.push({ Path: path, Kind: 2 });
          any = true;
        }
        continue;
      }
      const below = !hiddenBelow && (await inLower(r));
      if (targets.has(path) && !below) continue;
      if (st.isDirectory()) {
        const isOpaque = opaque.has(r);
        const idx = out.length;
        const kids = await walk(r, hiddenBelow || isOpaque);
        if (isOpaque && below) {
          // Everything the lower layers had here is gone.
          for (const l of lowers) {
            for (const k of await fsp.readdir(join(l, r)).catch(() => [] as string[])) {
              if (!(await lstatOrUndef(join(upper, r, k)))) out.push({ Path: `${path}/${k}`, Kind: 2 });
            }
          }
        }
        if (!below) out.splice(idx, 0, { Path: path, Kind: 1 });
        else if (kids || isOpaque || out.length > idx) out.splice(idx, 0, { Path: path, Kind: 0 });
        if (out.length > idx) any = true;
        continue;
      }
      out.push({ Path: path, Kind: below ? 0 : 1 });
      any = true;
    }
    return any;
  };
  await walk('', false);
  // Docker lists changes sorted by path.
  const seen = new Set<string>();
  return out.filter((c) => (seen.has(c.Path) ? false : (seen.add(c.Path), true))).sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}
