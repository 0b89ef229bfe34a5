import { accessSync, constants as fsc } from 'node:fs';
import { delimiter, join } from 'node:path';

const found = new Map<string, string>();

/**
 * The absolute path of a host tool, looked up in PATH once and remembered. Spawning by bare name makes every spawn
 * try each PATH entry in turn (a failed execve per entry: ~1 ms a spawn on a PATH of nine entries). A name that is
 * not found comes back unchanged, so the spawn fails with the usual ENOENT.
 */
export function which(name: string): string {
  if (name.includes('/')) return name;
  const known = found.get(name);
  if (known !== undefined) return known;
  for (const d of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, fsc.X_OK);
      found.set(name, p);
      return p;
    } catch {
      // next entry
    }
  }
  return name;
}
