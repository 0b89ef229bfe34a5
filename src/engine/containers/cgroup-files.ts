/**
 * Where a container's cgroup files are, found from its init process: `/proc/<pid>/cgroup` names the path per
 * hierarchy, `/proc/self/mountinfo` where each hierarchy is mounted. Works for cgroup v1, hybrid and v2 hosts and
 * for any CgroupParent.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

export interface CgroupPaths {
  version: 1 | 2;
  /** v1: controller (cpu, cpuacct, memory, pids, blkio, freezer) -> directory. v2: '' -> the one directory. */
  dirs: Map<string, string>;
}

interface Hierarchy { mountpoint: string; fstype: string; controllers: string[] }

async function hierarchies(): Promise<Hierarchy[]> {
  const info = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  const out: Hierarchy[] = [];
  for (const line of info.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({ mountpoint: pre[4]!.replace(/\\040/g, ' '), fstype, controllers: (superOpts ?? '').split(',') });
  }
  return out;
}

/** The cgroup directories of process `pid`; undefined when it is gone. */
export async function cgroupPaths(pid: number): Promise<CgroupPaths | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const hs = await hierarchies();
  const unified = hs.find((h) => h.fstype === 'cgroup2' && h.mountpoint === '/sys/fs/cgroup');
  const dirs = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, , ctrls, path] = m as unknown as [string, string, string, string];
    if (ctrls === '') {
      if (unified) dirs.set('', join(unified.mountpoint, path));
      continue;
    }
    const names = ctrls.split(',');
    const h = hs.find((x) => x.fstype === 'cgroup' && names.every((n) => x.controllers.includes(n)));
    if (h) for (const n of names) dirs.set(n, join(h.mountpoint, path));
  }
  return { version: unified ? 2 : 1, dirs };
}

export async function readText(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await fsp.readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function readNumber(path: string | undefined): Promise<number | undefined> {
  const t = (await readText(path))?.trim();
  if (t === undefined || t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** `key value` lines (memory.stat, cpu.stat) as numbers. */
export function keyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** A file in the directory of `controller` (v1) or the unified directory (v2). */
export function cgFile(p: CgroupPaths, controller: string, file: string): string | undefined {
  const dir = p.version === 2 ? p.dirs.get('') : p.dirs.get(controller);
  return dir === undefined ? undefined : join(dir, file);
}

/** Pids of every process in the container's cgroup. */
export async function cgroupPids(p: CgroupPaths): Promise<number[]> {
  const text = await readText(cgFile(p, 'pids', 'cgroup.procs')) ?? await readText(cgFile(p, 'memory', 'cgroup.procs')) ?? '';
  return text.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
}
