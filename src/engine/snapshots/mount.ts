/** The one place that performs Mount[] data: util-linux `mount`/`umount`, spawned without a shell. */
import { which } from '../../lib/which.js';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Internal, InvalidArgument } from '../../lib/errors.js';
import type { Mount } from './types.js';

function run(args: string[], cmd: string): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(which(cmd), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { if (err.length < 4096) err += s; });
    child.once('error', rej);
    child.once('close', (code) => {
      if (code === 0) res();
      else rej(new Internal(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`));
    });
  });
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Whether something is mounted exactly at `target` (per /proc/self/mountinfo). */
export async function isMounted(target: string): Promise<boolean> {
  const want = resolve(target);
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4 && unescapeMountinfo(f[4] as string) === want) return true;
  }
  return false;
}

function argsFor(m: Mount, target: string): string[] {
  for (const o of m.options) {
    if (o.includes(',')) throw new InvalidArgument(`mount option contains a comma: ${JSON.stringify(o)}`);
  }
  const opts = m.options.length > 0 ? ['-o', m.options.join(',')] : [];
  // a bind is a flag, not a filesystem type; util-linux turns "bind,ro" into bind + read-only remount
  if (m.type === 'bind' || m.type === 'rbind') return [...opts, '--', m.source, target];
  return ['-t', m.type, ...opts, '--', m.source, target];
}

/** Mount each entry on `target` in order; on failure, unmount what was mounted and rethrow. */
export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  let done = 0;
  try {
    for (const m of mounts) {
      const opts = m.type === 'bind' && !m.options.some((o) => o === 'bind' || o === 'rbind') ? { ...m, options: ['bind', ...m.options] } : m;
      await run(argsFor(opts, target), 'mount');
      done++;
    }
  } catch (e) {
    for (; done > 0; done--) await run(['--', target], 'umount').catch(() => undefined);
    throw e;
  }
}

/** Unmount everything stacked on `target` (and below it). A target with nothing mounted is fine. */
export async function unmount(target: string): Promise<void> {
  while (await isMounted(target)) await run(['-R', '--', target], 'umount');
}
