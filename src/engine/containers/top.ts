/**
 * `docker top`: the host's `ps` with the caller's options (default `-ef`), keeping only the rows whose PID is in the
 * container's cgroup, in Docker's shape {Titles, Processes}. Like Docker, the last column may contain spaces.
 */
import { spawn } from 'node:child_process';
import { Conflict, InvalidArgument } from '../../lib/errors.js';
import { cgroupPaths, cgroupPids } from './cgroup-files.js';
import type { ContainerService } from './service.js';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

function runPs(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ps', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { if (err.length < 4096) err += s; });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new InvalidArgument(`Error running ps: exit status ${code}: ${err.trim()}`));
    });
  });
}

/** Docker's parsePSOutput: the header's PID column picks rows whose pid is wanted. */
export function parsePs(output: string, pids: ReadonlySet<number>): TopResult {
  const lines = output.split('\n');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new InvalidArgument('Couldn\'t find PID field in ps output');
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const pid = Number(fields[pidIndex]);
    if (!Number.isInteger(pid)) throw new InvalidArgument(`Unexpected pid '${fields[pidIndex]}'`);
    if (!pids.has(pid)) continue;
    const row = fields.slice(0, titles.length - 1);
    row.push(fields.slice(titles.length - 1).join(' '));
    processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}

export async function topContainer(svc: ContainerService, ref: string, psArgs?: string): Promise<TopResult> {
  const rec = svc.store.get(ref);
  if ((rec.state.status !== 'running' && rec.state.status !== 'paused') || rec.state.pid <= 0) {
    throw new Conflict(`container ${rec.id} is not running`);
  }
  const cg = await cgroupPaths(rec.state.pid);
  const pids = new Set(cg ? await cgroupPids(cg) : []);
  pids.add(rec.state.pid);
  const args = (psArgs ?? '').trim() === '' ? ['-ef'] : (psArgs as string).trim().split(/\s+/);
  return parsePs(await runPs(args), pids);
}
