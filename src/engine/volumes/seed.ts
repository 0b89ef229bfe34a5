/**
 * Seed a new volume with the image's content at its mount point, as Docker does at the first mount: owners,
 * modes, timestamps, xattrs, hardlinks and symlinks (as links, never followed) are kept.
 */
import { spawn } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { Internal } from '../../lib/errors.js';
import { secureJoin } from '../../lib/safe-path.js';

/** Whether a directory holds nothing (a volume Docker would fill). */
export async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

/**
 * Copy `rootfs`'s directory at container path `target` into `dataDir`. The source is resolved inside the rootfs
 * (a hostile symlink at the target stays confined); `cp -a` copies links as links, so nothing is followed out of
 * the rootfs, and writes land in `dataDir`, an empty directory petid made. Returns false when the image has no
 * directory there (nothing to copy).
 */
export async function seedFromRootfs(rootfs: string, target: string, dataDir: string): Promise<boolean> {
  const src = await secureJoin(rootfs, target);
  const st = await lstat(src).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  // `src/.` onto the existing dataDir also gives dataDir the source directory's owner, mode and times.
  await run('cp', ['-a', '--one-file-system', '--no-dereference', '--', `${src}/.`, `${dataDir}/`]);
  return true;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { if (err.length < 4096) err += s; });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new Internal(`copying the image content into the volume failed: ${err.trim()}`));
    });
  });
}
