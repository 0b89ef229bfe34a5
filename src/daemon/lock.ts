import { promises as fsp, readFileSync } from 'node:fs';
import { Conflict } from '../lib/errors.js';
import { tempPath } from '../lib/atomic.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take the data root's pid lock. Created with link(2) so two daemons starting together cannot both win; a lock
 * left by a dead daemon is taken over.
 */
export async function acquirePidLock(path: string): Promise<() => Promise<void>> {
  const tmp = tempPath(path);
  await fsp.writeFile(tmp, `${process.pid}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fsp.link(tmp, path);
        return async () => {
          const cur = readFileSync(path, 'utf8').trim();
          if (cur === String(process.pid)) await fsp.rm(path, { force: true });
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = Number((await fsp.readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Conflict(`another petid (pid ${pid}) is already using this data root (lock ${path})`, {
          code: 'PETI_ERR_DAEMON_LOCKED', hint: 'stop it first, or give this one its own --data-root',
        });
      }
      await fsp.rm(path, { force: true });
    }
    throw new Conflict(`could not take the lock ${path}`, { code: 'PETI_ERR_DAEMON_LOCKED' });
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
