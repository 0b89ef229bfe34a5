import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../lib/log.js';
import { messageOf } from '../../lib/errors.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

export interface HostInfo {
  /** 2 only on a pure cgroup2 host; v1 and hybrid layouts are 1 (crun drives the v1 hierarchies there). */
  cgroupVersion: 1 | 2;
  /** Things the user should know (a controller crun will choke on, a mount that failed). */
  warnings: string[];
}

interface MountEntry { source: string; target: string; fstype: string; options: string[] }

function parseMounts(text: string): MountEntry[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 4) continue;
    out.push({ source: unescape(f[0]!), target: unescape(f[1]!), fstype: f[2]!, options: f[3]!.split(',') });
  }
  return out;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

/**
 * Host prerequisites, checked at every petid start (idempotent). crun 1.8 refuses to run on a hybrid host when a
 * controller is attached only to the cgroup2 hierarchy (`cgroups in hybrid mode not supported, drop all controllers
 * from cgroupv2`); on this machine that is hugetlb. Mounting each such controller as its own v1 hierarchy moves it
 * out of cgroup2 and lets crun work. Never throws: problems come back as warnings.
 */
export async function prepareHost(log: Logger): Promise<HostInfo> {
  const warnings: string[] = [];
  const mounts = parseMounts(await readFile('/proc/self/mounts', 'utf8'));
  const rootMount = mounts.filter((m) => m.target === CGROUP_ROOT).pop();
  if (rootMount?.fstype === 'cgroup2') return { cgroupVersion: 2, warnings };

  const v1 = mounts.filter((m) => m.fstype === 'cgroup');
  if (v1.length === 0) {
    warnings.push(`no cgroup hierarchy is mounted under ${CGROUP_ROOT}: resource limits will not work`);
    return { cgroupVersion: 1, warnings };
  }
  const unified = mounts.find((m) => m.fstype === 'cgroup2' && m.target.startsWith(CGROUP_ROOT + '/'));
  if (unified === undefined) return { cgroupVersion: 1, warnings };

  // Hybrid: every controller listed by the cgroup2 mount has no v1 hierarchy.
  let controllers: string[] = [];
  try {
    controllers = (await readFile(join(unified.target, 'cgroup.controllers'), 'utf8')).split(/\s+/).filter(Boolean);
  } catch (err) {
    warnings.push(`cannot read ${unified.target}/cgroup.controllers: ${messageOf(err)}`);
  }
  for (const c of controllers) {
    const target = join(CGROUP_ROOT, c);
    if (v1.some((m) => m.target === target)) continue;
    try {
      await mkdir(target, { recursive: true });
      await run('mount', ['-t', 'cgroup', '-o', c, 'cgroup', target]);
      log.info('mounted cgroup controller as v1 so crun accepts the hybrid layout', { controller: c, target });
    } catch (err) {
      warnings.push(`cgroup controller ${c} is only in cgroup2 and could not be mounted as v1 (crun will refuse ` +
        `to run containers): ${messageOf(err)}`);
    }
  }
  return { cgroupVersion: 1, warnings };
}

/**
 * petid's own hard limits. An OCI config asking for more makes crun fail (`setrlimit: Operation not permitted`
 * without CAP_SYS_RESOURCE), so callers clamp container rlimits to these. `unlimited` reads as Infinity.
 */
export function hostRlimits(): { nofile: number; nproc: number } {
  return parseLimits(readFileSync('/proc/self/limits', 'utf8'));
}

/** Hard limits from the text of /proc/<pid>/limits. */
export function parseLimits(text: string): { nofile: number; nproc: number } {
  const hard = (label: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(label));
    // Columns are padded to fixed widths; after the label come soft, hard, units.
    const fields = line?.slice(label.length).trim().split(/\s+/) ?? [];
    const v = fields[1];
    if (v === undefined) return Infinity;
    return v === 'unlimited' ? Infinity : Number(v);
  };
  return { nofile: hard('Max open files'), nproc: hard('Max processes') };
}

/**
 * Create the cgroup `path` (e.g. `/peti/conmon`) in every mounted hierarchy (each v1 controller, name=systemd,
 * cgroup2) and return its `cgroup.procs` files, for `joinCgroup`. conmon has no option for its own cgroup: left
 * alone it stays in petid's, where a service manager stopping petid would kill every container's monitor.
 */
export async function prepareCgroup(path: string): Promise<string[]> {
  const rel = path.replace(/^\/+|\/+$/g, '');
  if (rel === '' || rel.split('/').includes('..')) throw new Error(`invalid cgroup path ${path}`);
  const mounts = parseMounts(await readFile('/proc/self/mounts', 'utf8'))
    .filter((m) => (m.fstype === 'cgroup' || m.fstype === 'cgroup2') && m.target.startsWith(CGROUP_ROOT));
  const out: string[] = [];
  for (const m of new Map(mounts.map((x) => [x.target, x])).values()) {
    const dir = join(m.target, rel);
    await mkdir(dir, { recursive: true });
    // A fresh v1 cpuset group has empty cpus/mems and refuses tasks: inherit them down the new path.
    if (m.fstype === 'cgroup' && m.options.includes('cpuset')) {
      let cur = m.target;
      for (const part of rel.split('/')) {
        const parent = cur;
        cur = join(cur, part);
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          if ((await readFile(join(cur, f), 'utf8')).trim() === '') {
            await writeFile(join(cur, f), await readFile(join(parent, f), 'utf8'));
          }
        }
      }
    }
    out.push(join(dir, 'cgroup.procs'));
  }
  return out;
}

/** Move a process into a cgroup prepared by `prepareCgroup` (all hierarchies at once). */
/**
 * The cgroup.procs file of petid's own cgroup (the v2 one when there is a cgroup2 mount, else the first v1
 * hierarchy): writing petid's pid there moves nothing, but takes the kernel's cgroup migration lock like any move.
 */
export async function ownCgroupProcs(): Promise<string | undefined> {
  const mounts = parseMounts(await readFile('/proc/self/mounts', 'utf8')).filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2');
  for (const line of (await readFile('/proc/self/cgroup', 'utf8')).split('\n')) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    const [, , ctrls, path] = m;
    const mount = ctrls === ''
      ? mounts.find((x) => x.fstype === 'cgroup2')
      : mounts.find((x) => x.fstype === 'cgroup' && ctrls!.split(',').every((c) => x.options.includes(c)));
    if (mount) return join(mount.target, path!, 'cgroup.procs');
  }
  return undefined;
}

export async function joinCgroup(pid: number, procsFiles: string[]): Promise<void> {
  // One file after the other: every move takes the same kernel lock, and each write blocks one of libuv's four
  // threadpool threads while it waits (a grace period, after a quiet spell): in parallel they would stall every
  // other file operation of petid for that long.
  const failed: string[] = [];
  for (const f of procsFiles) {
    try {
      await writeFile(f, String(pid));
    } catch (e) {
      failed.push(`${f}: ${messageOf(e)}`);
    }
  }
  if (failed.length) throw new Error(`cannot move pid ${pid}: ${failed.join('; ')}`);
}
