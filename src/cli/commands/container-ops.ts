/**
 * Container operations with docker's flags and output: cp, diff, export, top, stats, update, pause, unpause, rename,
 * and their `container <verb>` aliases.
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readAll } from '../../client/index.js';
import { InvalidArgument, NotFound, messageOf } from '../../lib/errors.js';
import { bool, str, type Parsed } from '../args.js';
import { bytesSize, humanSize, parseSize, renderTable, tabwrite } from '../format/index.js';
import type { Cli, Command } from '../types.js';
import { tarLocal, untarTo } from './cp-local.js';

const enc = encodeURIComponent;
const names = (...n: string[]): string[] => n.flatMap((x) => [x, `container ${x}`]);

interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

function decodeStat(h: string | string[] | undefined): PathStat {
  if (typeof h !== 'string') throw new InvalidArgument('the daemon sent no X-Docker-Container-Path-Stat header');
  return JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as PathStat;
}

async function statPath(cli: Cli, container: string, path: string): Promise<PathStat | undefined> {
  try {
    const res = await cli.client.send('HEAD', `/containers/${enc(container)}/archive`, { query: { path } });
    res.resume();
    return decodeStat(res.headers['x-docker-container-path-stat']);
  } catch (e) {
    if (e instanceof NotFound && !/No such container/.test(e.message)) return undefined;
    throw e;
  }
}

/** `CONTAINER:PATH` -> parts; a local path (which may itself contain ':' after a '/') -> undefined. */
export function splitCpArg(arg: string): { container: string; path: string } | undefined {
  if (arg.startsWith('/') || arg.startsWith('.')) return undefined;
  const i = arg.indexOf(':');
  if (i <= 0) return undefined;
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

const isDir = (s: PathStat): boolean => ((s.mode >>> 0) & MODE_DIR) !== 0;
const endsWithDot = (p: string): boolean => /(^|\/)\.$/.test(p);

async function copyFrom(cli: Cli, p: Parsed, container: string, src: string, dest: string): Promise<number> {
  let path = src;
  if (bool(p, 'follow-link')) {
    const st = await statPath(cli, container, src);
    if (st && st.linkTarget && ((st.mode >>> 0) & MODE_SYMLINK) !== 0) path = st.linkTarget;
  }
  const res = await cli.client.send('GET', `/containers/${enc(container)}/archive`, { query: { path } });
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  if (dest === '-') {
    await pipeline(res, cli.out);
    return 0;
  }
  const local = await fsp.stat(dest).catch(() => undefined);
  let target: string;
  let from = stat.name;
  if (isDir(stat) && endsWithDot(src)) {
    // `dir/.`: the contents into dest (made when missing)
    if (local && !local.isDirectory()) throw new InvalidArgument(`cannot copy a directory to a file: ${dest}`);
    await fsp.mkdir(dest, { recursive: true });
    target = dest;
  } else if (local?.isDirectory()) {
    target = join(dest, stat.name === '.' ? basename(path) : stat.name);
  } else {
    if (dest.endsWith('/')) throw new InvalidArgument(`destination directory "${dest}" must exist`);
    if (local && isDir(stat)) throw new InvalidArgument(`cannot copy a directory to a file: ${dest}`);
    await fsp.access(dirname(dest)).catch(() => { throw new InvalidArgument(`destination directory "${dirname(dest)}" must exist`); });
    target = dest;
  }
  if (from === '.') from = '';
  const bytes = await untarTo(res as AsyncIterable<Buffer>, from, target);
  if (!bool(p, 'quiet')) cli.err.write(`Successfully copied ${humanSize(bytes, 3)} to ${dest}\n`);
  return 0;
}

async function copyTo(cli: Cli, p: Parsed, src: string, container: string, dest: string): Promise<number> {
  const query = { noOverwriteDirNonDir: true, copyUIDGID: bool(p, 'archive') || undefined };
  if (src === '-') {
    const st = await statPath(cli, container, dest);
    if (!st) throw new NotFound(`Could not find the file ${dest} in container ${container}`);
    if (!isDir(st)) throw new InvalidArgument(`destination "${container}:${dest}" must be a directory`);
    (await cli.client.send('PUT', `/containers/${enc(container)}/archive`, { query: { ...query, path: dest }, raw: cli.stdin as unknown as Readable })).resume();
    return 0;
  }
  const follow = bool(p, 'follow-link');
  const local = await (follow ? fsp.stat(src) : fsp.lstat(src)).catch(() => undefined);
  if (!local) throw new InvalidArgument(`lstat ${src}: no such file or directory`);
  let dstPath = dest;
  let st = await statPath(cli, container, dest);
  if (st && ((st.mode >>> 0) & MODE_SYMLINK) !== 0 && st.linkTarget) {
    // docker follows a symlink at the destination (resolved inside the container by the daemon)
    dstPath = st.linkTarget;
    st = await statPath(cli, container, dstPath);
  }
  let dir: string;
  let name: string;
  let contents = false;
  if (st && isDir(st)) {
    dir = dstPath;
    name = basename(src);
    contents = local.isDirectory() && endsWithDot(src);
  } else {
    if (st && local.isDirectory()) throw new InvalidArgument(`cannot copy a directory to a file: ${container}:${dest}`);
    if (!st && dest.endsWith('/') && !local.isDirectory()) throw new InvalidArgument(`destination "${container}:${dest}" must be a directory`);
    dir = posix.dirname(dstPath.replace(/\/+$/, '') || '/');
    name = posix.basename(dstPath.replace(/\/+$/, ''));
  }
  let bytes = 0;
  if (contents) {
    for (const c of (await fsp.readdir(src)).sort()) {
      const t = tarLocal(join(src, c), c, false);
      (await cli.client.send('PUT', `/containers/${enc(container)}/archive`, { query: { ...query, path: dir }, raw: t.stream })).resume();
      bytes += await t.done;
    }
  } else {
    const t = tarLocal(src, name, follow);
    (await cli.client.send('PUT', `/containers/${enc(container)}/archive`, { query: { ...query, path: dir }, raw: t.stream })).resume();
    bytes = await t.done;
  }
  if (!bool(p, 'quiet')) cli.err.write(`Successfully copied ${humanSize(bytes, 3)} to ${container}:${dest}\n`);
  return 0;
}

async function each(cli: Cli, refs: string[], fn: (ref: string) => Promise<void>): Promise<number> {
  let failed = false;
  for (const r of refs) {
    try {
      await fn(r);
      cli.out.write(`${r}\n`);
    } catch (e) {
      cli.err.write(`Error response from daemon: ${messageOf(e)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// stats

interface StatsFrame {
  read: string;
  name: string;
  id: string;
  cpu_stats: { cpu_usage: { total_usage: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats: { current?: number };
  blkio_stats: { io_service_bytes_recursive: { op: string; value: number }[] | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

export interface StatsRow { Container: string; ID: string; Name: string; CPUPerc: string; MemUsage: string; MemPerc: string; NetIO: string; BlockIO: string; PIDs: string }

/** The docker CLI's arithmetic (cli/command/container/stats_helpers.go). */
export function statsRow(container: string, f: StatsFrame, trunc: boolean): StatsRow {
  const cpuDelta = f.cpu_stats.cpu_usage.total_usage - f.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (f.cpu_stats.system_cpu_usage ?? 0) - (f.precpu_stats.system_cpu_usage ?? 0);
  const online = f.cpu_stats.online_cpus || f.cpu_stats.cpu_usage.percpu_usage?.length || 0;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const m = f.memory_stats;
  const s = m.stats ?? {};
  const inactive = s.total_inactive_file ?? s.inactive_file ?? 0;
  const mem = (m.usage ?? 0) > inactive ? (m.usage ?? 0) - inactive : (m.usage ?? 0);
  const limit = m.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(f.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let rd = 0;
  let wr = 0;
  for (const b of f.blkio_stats.io_service_bytes_recursive ?? []) {
    if (/^read$/i.test(b.op)) rd += b.value;
    else if (/^write$/i.test(b.op)) wr += b.value;
  }
  const running = f.read !== '0001-01-01T00:00:00Z';
  return {
    Container: container, ID: trunc ? f.id.slice(0, 12) : f.id, Name: f.name.replace(/^\//, ''),
    CPUPerc: running ? `${cpu.toFixed(2)}%` : '--',
    MemUsage: running ? `${bytesSize(mem)} / ${bytesSize(limit)}` : '-- / --',
    MemPerc: running ? `${(limit > 0 ? (mem / limit) * 100 : 0).toFixed(2)}%` : '--',
    NetIO: running ? `${humanSize(rx, 3)} / ${humanSize(tx, 3)}` : '--',
    BlockIO: running ? `${humanSize(rd, 3)} / ${humanSize(wr, 3)}` : '--',
    PIDs: running ? String(f.pids_stats.current ?? 0) : '--',
  };
}

const STATS_HEADERS = { Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' };
const STATS_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

function renderStats(format: string | undefined, rows: StatsRow[]): string {
  return renderTable(format ?? STATS_FORMAT, rows, STATS_HEADERS);
}

async function statsCmd(cli: Cli, p: Parsed): Promise<number> {
  const trunc = !bool(p, 'no-trunc');
  const format = str(p, 'format');
  let refs = p.args;
  if (refs.length === 0) {
    const list = await cli.client.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: bool(p, 'all') || undefined } });
    refs = list.map((c) => c.Id);
  }
  if (bool(p, 'no-stream')) {
    const rows: StatsRow[] = [];
    let failed = false;
    await Promise.all(refs.map(async (r, i) => {
      try {
        const f = await cli.client.json<StatsFrame>('GET', `/containers/${enc(r)}/stats`, { query: { stream: false } });
        rows[i] = statsRow(r, f, trunc);
      } catch (e) {
        cli.err.write(`Error response from daemon: ${messageOf(e)}\n`);
        failed = true;
      }
    }));
    cli.out.write(renderStats(format, rows.filter(Boolean)));
    return failed ? 1 : 0;
  }
  const latest = new Map<string, StatsRow>();
  const ctl = new AbortController();
  process.once('SIGINT', () => ctl.abort());
  await Promise.all(refs.map(async (r) => {
    try {
      const res = await cli.client.send('GET', `/containers/${enc(r)}/stats`, { query: { stream: true }, signal: ctl.signal });
      for await (const f of cli.client.jsonLines<StatsFrame>(res)) latest.set(r, statsRow(r, f, trunc));
    } catch (e) {
      if (!ctl.signal.aborted) cli.err.write(`Error response from daemon: ${messageOf(e)}\n`);
    }
  }).concat((async () => {
    // Redraw once a second: on a terminal in place (clear screen, home), else one table after another.
    while (!ctl.signal.aborted) {
      await new Promise((res) => setTimeout(res, 1000));
      const rows = refs.map((r) => latest.get(r)).filter((x): x is StatsRow => x !== undefined);
      cli.out.write(`${cli.out.isTTY ? '\x1b[2J\x1b[H' : ''}${renderStats(format, rows)}`);
    }
  })()));
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// update

function updateBody(p: Parsed): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const int = (flag: string, key: string): void => {
    const v = str(p, flag);
    if (v === undefined) return;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new InvalidArgument(`invalid argument "${v}" for "--${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
    body[key] = n;
  };
  const size = (flag: string, key: string, allowMinusOne = false): void => {
    const v = str(p, flag);
    if (v === undefined) return;
    body[key] = allowMinusOne && v === '-1' ? -1 : parseSize(v);
  };
  int('blkio-weight', 'BlkioWeight');
  int('cpu-period', 'CpuPeriod');
  int('cpu-quota', 'CpuQuota');
  int('cpu-rt-period', 'CpuRealtimePeriod');
  int('cpu-rt-runtime', 'CpuRealtimeRuntime');
  int('cpu-shares', 'CpuShares');
  int('pids-limit', 'PidsLimit');
  size('memory', 'Memory');
  size('memory-reservation', 'MemoryReservation');
  size('memory-swap', 'MemorySwap', true);
  size('kernel-memory', 'KernelMemory');
  const cpus = str(p, 'cpus');
  if (cpus !== undefined) {
    const n = Number(cpus);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgument(`invalid argument "${cpus}" for "--cpus" flag: failed to parse ${cpus} as a rational number`);
    body.NanoCpus = Math.round(n * 1e9);
  }
  if (str(p, 'cpuset-cpus') !== undefined) body.CpusetCpus = str(p, 'cpuset-cpus');
  if (str(p, 'cpuset-mems') !== undefined) body.CpusetMems = str(p, 'cpuset-mems');
  const restart = str(p, 'restart');
  if (restart !== undefined) {
    const [name, count] = restart.split(':');
    body.RestartPolicy = { Name: name, MaximumRetryCount: count === undefined ? 0 : Number(count) };
  }
  if (Object.keys(body).length === 0) throw new InvalidArgument('you must provide one or more flags when using this command');
  return body;
}

const UPDATE_FLAGS = [
  'blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-rt-period', 'cpu-rt-runtime', 'cpus', 'cpuset-cpus', 'cpuset-mems', 'kernel-memory',
  'memory-reservation', 'memory-swap', 'pids-limit', 'restart',
].map((name) => ({ name, kind: 'string' as const }));

export const containerOpsCommands: Command[] = [
  {
    names: names('cp'),
    usage: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tpeti cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
    description: 'Copy files/folders between a container and the local filesystem',
    flags: [{ name: 'archive', short: 'a', kind: 'bool' }, { name: 'follow-link', short: 'L', kind: 'bool' }, { name: 'quiet', short: 'q', kind: 'bool' }],
    minArgs: 2,
    maxArgs: 2,
    async run(cli, p) {
      const [a, b] = p.args as [string, string];
      const src = splitCpArg(a);
      const dst = splitCpArg(b);
      if (src && dst) throw new InvalidArgument('copying between containers is not supported');
      if (!src && !dst) throw new InvalidArgument('must specify at least one container source');
      if (src && src.path === '') throw new InvalidArgument('filepath cannot be empty');
      if (dst && dst.path === '') throw new InvalidArgument('filepath cannot be empty');
      return src ? copyFrom(cli, p, src.container, src.path, b) : copyTo(cli, p, a, dst!.container, dst!.path);
    },
  },
  {
    names: names('diff'),
    usage: 'diff CONTAINER',
    description: 'Inspect changes to files or directories on a container\'s filesystem',
    flags: [],
    minArgs: 1,
    maxArgs: 1,
    async run(cli, p) {
      const changes = await cli.client.json<{ Path: string; Kind: number }[] | null>('GET', `/containers/${enc(p.args[0]!)}/changes`);
      for (const c of changes ?? []) cli.out.write(`${['C', 'A', 'D'][c.Kind] ?? '?'} ${c.Path}\n`);
      return 0;
    },
  },
  {
    names: names('export'),
    usage: 'export [OPTIONS] CONTAINER',
    description: 'Export a container\'s filesystem as a tar archive',
    flags: [{ name: 'output', short: 'o', kind: 'string' }],
    minArgs: 1,
    maxArgs: 1,
    async run(cli, p) {
      const out = str(p, 'output');
      if (!out && cli.out.isTTY) throw new InvalidArgument('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const res = await cli.client.send('GET', `/containers/${enc(p.args[0]!)}/export`);
      if (out) {
        const tmp = join(dirname(out), `.${basename(out)}.peti-tmp`);
        await pipeline(res, createWriteStream(tmp));
        await fsp.rename(tmp, out);
      } else {
        await pipeline(res, cli.out);
      }
      return 0;
    },
  },
  {
    names: names('top'),
    usage: 'top CONTAINER [ps OPTIONS]',
    description: 'Display the running processes of a container',
    flags: [],
    interspersed: false,
    minArgs: 1,
    async run(cli, p) {
      const [ref, ...ps] = p.args as [string, ...string[]];
      const top = await cli.client.json<{ Titles: string[]; Processes: string[][] | null }>('GET', `/containers/${enc(ref)}/top`, { query: { ps_args: ps.length ? ps.join(' ') : undefined } });
      // docker's tabwriter here: minwidth 20, padding 3
      const lines = [top.Titles, ...(top.Processes ?? [])].map((r) => r.join('\t')).join('\n');
      cli.out.write(tabwrite(`${lines}\n`, { minwidth: 20, padding: 3 }));
      return 0;
    },
  },
  {
    names: names('stats'),
    usage: 'stats [OPTIONS] [CONTAINER...]',
    description: 'Display a live stream of container(s) resource usage statistics',
    flags: [{ name: 'all', short: 'a', kind: 'bool' }, { name: 'no-stream', kind: 'bool' }, { name: 'no-trunc', kind: 'bool' }, { name: 'format', kind: 'string' }],
    run: statsCmd,
  },
  {
    names: names('update'),
    usage: 'update [OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Update configuration of one or more containers',
    flags: [...UPDATE_FLAGS, { name: 'cpu-shares', short: 'c', kind: 'string' }, { name: 'memory', short: 'm', kind: 'string' }],
    minArgs: 1,
    async run(cli, p) {
      const body = updateBody(p);
      return each(cli, p.args, async (r) => {
        const res = await cli.client.json<{ Warnings?: string[] | null }>('POST', `/containers/${enc(r)}/update`, { body });
        for (const w of res?.Warnings ?? []) cli.err.write(`${w}\n`);
      });
    },
  },
  {
    names: names('pause'),
    usage: 'pause CONTAINER [CONTAINER...]',
    description: 'Pause all processes within one or more containers',
    flags: [],
    minArgs: 1,
    run: (cli, p) => each(cli, p.args, async (r) => { await readAll(await cli.client.send('POST', `/containers/${enc(r)}/pause`)); }),
  },
  {
    names: names('unpause'),
    usage: 'unpause CONTAINER [CONTAINER...]',
    description: 'Unpause all processes within one or more containers',
    flags: [],
    minArgs: 1,
    run: (cli, p) => each(cli, p.args, async (r) => { await readAll(await cli.client.send('POST', `/containers/${enc(r)}/unpause`)); }),
  },
  {
    names: names('rename'),
    usage: 'rename CONTAINER NEW_NAME',
    description: 'Rename a container',
    flags: [],
    minArgs: 2,
    maxArgs: 2,
    async run(cli, p) {
      const [ref, name] = p.args as [string, string];
      if (name.trim() === '') throw new InvalidArgument('Error: Neither old nor new names may be empty');
      await readAll(await cli.client.send('POST', `/containers/${enc(ref)}/rename`, { query: { name } }));
      return 0;
    },
  },
];
