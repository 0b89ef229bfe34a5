/**
 * The `local` driver's options, as Docker's: none (a plain directory), or a filesystem mounted on `_data` at first
 * use: `type=tmpfs device=tmpfs o=size=64m`, `type=none o=bind device=/host/path`, or any `type`/`device`/`o`
 * mount(8) accepts (nfs, ext4 on a block device...). Mounted lazily, unmounted when no container uses it.
 */
import { existsSync } from 'node:fs';
import { InvalidArgument } from '../../lib/errors.js';
import { isMounted, mountAll, unmount } from '../snapshots/index.js';
import type { Mount } from '../snapshots/index.js';

const KEYS = new Set(['type', 'device', 'o', 'size']);

export interface LocalMountOptions {
  type: string;
  device: string;
  o: string[];
}

/** Check the options at create; undefined when the volume is a plain directory. */
export function parseLocalOptions(name: string, opts: Record<string, string>): LocalMountOptions | undefined {
  for (const k of Object.keys(opts)) {
    if (!KEYS.has(k)) throw new InvalidArgument(`create ${name}: invalid option key: ${JSON.stringify(k)}`);
  }
  if (opts.size !== undefined) throw new InvalidArgument(`create ${name}: quota size requested but no quota support`);
  const type = opts.type ?? '';
  const device = opts.device ?? '';
  const o = (opts.o ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (type === '' && device === '' && o.length === 0) return undefined;
  if (device === '') throw new InvalidArgument(`create ${name}: missing required option: "device"`);
  if (type === '') throw new InvalidArgument(`create ${name}: missing required option: "type"`);
  const bind = o.includes('bind') || o.includes('rbind');
  if (bind && !device.startsWith('/')) throw new InvalidArgument(`create ${name}: bind device must be an absolute path: ${device}`);
  return { type, device, o };
}

function mountData(m: LocalMountOptions): Mount {
  const bind = m.o.includes('bind') || m.o.includes('rbind');
  if (bind) return { type: 'bind', source: m.device, options: m.o };
  return { type: m.type, source: m.device, options: m.o };
}

/** Mount the volume's filesystem on `dataDir` unless it already is. Throws InvalidArgument in Docker's words. */
export async function mountLocal(m: LocalMountOptions, dataDir: string): Promise<void> {
  if (await isMounted(dataDir)) return;
  const data = mountData(m);
  if (data.type === 'bind' && !existsSync(m.device)) {
    throw new InvalidArgument(`failed to mount local volume: mount ${m.device}:${dataDir}, flags: 0x1000: no such file or directory`);
  }
  try {
    await mountAll([data], dataDir);
  } catch (e) {
    throw new InvalidArgument(`failed to mount local volume: ${(e as Error).message}`, { cause: e });
  }
}

export async function unmountLocal(dataDir: string): Promise<void> {
  await unmount(dataDir);
}
