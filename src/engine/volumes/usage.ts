import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes under a directory as Docker's `directory.Size`: apparent sizes of everything but directories, each
 * hardlinked inode once, links not followed, other filesystems (mounted inside) not entered.
 */
export async function directorySize(dir: string): Promise<number> {
  const root = await lstat(dir).catch(() => undefined);
  if (!root) return 0;
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) {
        if (st.dev === root.dev) await walk(p);
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}
