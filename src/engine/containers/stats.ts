/**
 * `docker stats`: Docker's stats JSON from the container's cgroup files (v1: cpuacct, cpu, memory, pids, blkio;
 * v2: cpu.stat, memory.*, pids.*, io.stat) and its network namespace (`/proc/<pid>/net/dev`). A stream sends one
 * frame a second with the previous frame's CPU numbers as `precpu_stats`; `stream=false` waits for two samples
 * (so CPU % is real), `one-shot` answers at once with empty `precpu_stats`, as Docker.
 */
import { promises as fsp } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { cgFile, cgroupPaths, keyValues, readNumber, readText, type CgroupPaths } from './cgroup-files.js';
import type { ContainerService } from './service.js';
import type { ContainerRecord } from './types.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';
/** USER_HZ: /proc/stat and cpuacct.stat count in 1/100 s. */
const NS_PER_TICK = 1e7;

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

interface BlkioEntry { major: number; minor: number; op: string; value: number }

export interface StatsJson {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: { io_service_bytes_recursive: BlkioEntry[] | null; io_serviced_recursive: BlkioEntry[] | null; io_queue_recursive: null; io_service_time_recursive: null; io_wait_time_recursive: null; io_merged_recursive: null; io_time_recursive: null; sectors_recursive: null };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  name: string;
  id: string;
  networks?: Record<string, { rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number; tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number }>;
}

function emptyCpu(): CpuStats {
  return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
}

function emptyStats(rec: ContainerRecord): StatsJson {
  return {
    read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {},
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
    num_procs: 0, storage_stats: {}, cpu_stats: emptyCpu(), precpu_stats: emptyCpu(), memory_stats: {}, name: `/${rec.name}`, id: rec.id,
  };
}

/** Host CPU time in ns (Docker's system_cpu_usage: the `cpu` line of /proc/stat). */
export function systemCpuNs(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  return line.trim().split(/\s+/).slice(1, 8).reduce((s, v) => s + Number(v), 0) * NS_PER_TICK;
}

/** `8:0 Read 123` lines (cgroup v1 blkio) without the `Total` lines. */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

/** cgroup v2 io.stat (`8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...`) as Docker's bytes and ops lists. */
export function parseIoStat(text: string | undefined): { bytes: BlkioEntry[]; ops: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ops: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const f: Record<string, number> = {};
    for (const x of kv) {
      const [k, v] = x.split('=');
      if (k && v !== undefined) f[k] = Number(v);
    }
    const major = Number(m[1]);
    const minor = Number(m[2]);
    bytes.push({ major, minor, op: 'read', value: f.rbytes ?? 0 }, { major, minor, op: 'write', value: f.wbytes ?? 0 });
    ops.push({ major, minor, op: 'read', value: f.rios ?? 0 }, { major, minor, op: 'write', value: f.wios ?? 0 });
  }
  return { bytes, ops };
}

/** /proc/<pid>/net/dev as Docker's networks map; loopback is left out, as Docker shows only the endpoints. */
export function parseNetDev(text: string): NonNullable<StatsJson['networks']> {
  const out: NonNullable<StatsJson['networks']> = {};
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === 'lo') continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out[name] = { rx_bytes: f[0] ?? 0, rx_packets: f[1] ?? 0, rx_errors: f[2] ?? 0, rx_dropped: f[3] ?? 0, tx_bytes: f[8] ?? 0, tx_packets: f[9] ?? 0, tx_errors: f[10] ?? 0, tx_dropped: f[11] ?? 0 };
  }
  return out;
}

async function cpuStats(cg: CgroupPaths, system: number): Promise<CpuStats> {
  const online = cpus().length;
  if (cg.version === 2) {
    const s = keyValues(await readText(cgFile(cg, 'cpu', 'cpu.stat')));
    return {
      cpu_usage: { total_usage: (s.usage_usec ?? 0) * 1000, usage_in_kernelmode: (s.system_usec ?? 0) * 1000, usage_in_usermode: (s.user_usec ?? 0) * 1000 },
      system_cpu_usage: system, online_cpus: online,
      throttling_data: { periods: s.nr_periods ?? 0, throttled_periods: s.nr_throttled ?? 0, throttled_time: (s.throttled_usec ?? 0) * 1000 },
    };
  }
  const [total, percpu, acct, thr] = await Promise.all([
    readNumber(cgFile(cg, 'cpuacct', 'cpuacct.usage')), readText(cgFile(cg, 'cpuacct', 'cpuacct.usage_percpu')),
    readText(cgFile(cg, 'cpuacct', 'cpuacct.stat')), readText(cgFile(cg, 'cpu', 'cpu.stat')),
  ]);
  const a = keyValues(acct);
  const t = keyValues(thr);
  return {
    cpu_usage: {
      total_usage: total ?? 0, percpu_usage: (percpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number),
      usage_in_kernelmode: (a.system ?? 0) * NS_PER_TICK, usage_in_usermode: (a.user ?? 0) * NS_PER_TICK,
    },
    system_cpu_usage: system, online_cpus: online,
    throttling_data: { periods: t.nr_periods ?? 0, throttled_periods: t.nr_throttled ?? 0, throttled_time: t.throttled_time ?? 0 },
  };
}

async function memoryStats(cg: CgroupPaths): Promise<StatsJson['memory_stats']> {
  const host = totalmem();
  if (cg.version === 2) {
    const [usage, limit, stat] = await Promise.all([readNumber(cgFile(cg, 'memory', 'memory.current')), readNumber(cgFile(cg, 'memory', 'memory.max')), readText(cgFile(cg, 'memory', 'memory.stat'))]);
    return { usage: usage ?? 0, stats: keyValues(stat), limit: limit === undefined || limit > host ? host : limit };
  }
  const [usage, max, failcnt, limit, stat] = await Promise.all([
    readNumber(cgFile(cg, 'memory', 'memory.usage_in_bytes')), readNumber(cgFile(cg, 'memory', 'memory.max_usage_in_bytes')),
    readNumber(cgFile(cg, 'memory', 'memory.failcnt')), readNumber(cgFile(cg, 'memory', 'memory.limit_in_bytes')),
    readText(cgFile(cg, 'memory', 'memory.stat')),
  ]);
  // Docker shows the host's memory as the limit of a container without one.
  return { usage: usage ?? 0, max_usage: max ?? 0, stats: keyValues(stat), failcnt: failcnt ?? 0, limit: limit === undefined || limit > host ? host : limit };
}

/** One sample of a running container; the zeroed shape Docker sends for one that is not running. */
export async function sampleStats(svc: ContainerService, ref: string): Promise<StatsJson> {
  const rec = svc.store.get(ref);
  const out = emptyStats(rec);
  if ((rec.state.status !== 'running' && rec.state.status !== 'paused') || rec.state.pid <= 0) return out;
  const cg = await cgroupPaths(rec.state.pid);
  if (!cg) return out;
  const system = systemCpuNs(await fsp.readFile('/proc/stat', 'utf8'));
  const [cpu, memory, pidsCurrent, pidsMax, netDev] = await Promise.all([
    cpuStats(cg, system), memoryStats(cg), readNumber(cgFile(cg, 'pids', 'pids.current')), readNumber(cgFile(cg, 'pids', 'pids.max')),
    rec.hostConfig.NetworkMode === 'host' ? Promise.resolve(undefined) : readText(`/proc/${rec.state.pid}/net/dev`),
  ]);
  if (cg.version === 2) {
    const io = parseIoStat(await readText(cgFile(cg, 'io', 'io.stat')));
    out.blkio_stats.io_service_bytes_recursive = io.bytes;
    out.blkio_stats.io_serviced_recursive = io.ops;
  } else {
    const [bytes, ops] = await Promise.all([readText(cgFile(cg, 'blkio', 'blkio.throttle.io_service_bytes')), readText(cgFile(cg, 'blkio', 'blkio.throttle.io_serviced'))]);
    out.blkio_stats.io_service_bytes_recursive = parseBlkioV1(bytes);
    out.blkio_stats.io_serviced_recursive = parseBlkioV1(ops);
  }
  out.read = new Date().toISOString();
  out.cpu_stats = cpu;
  out.memory_stats = memory;
  out.pids_stats = { ...(pidsCurrent !== undefined ? { current: pidsCurrent } : {}), ...(pidsMax !== undefined ? { limit: pidsMax } : {}) };
  if (netDev !== undefined) out.networks = parseNetDev(netDev);
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Frames of Docker's stats endpoint; ends when the client goes away or the container is removed. */
export async function* statsStream(svc: ContainerService, ref: string, opts: { stream: boolean; oneShot: boolean; signal?: AbortSignal }): AsyncGenerator<StatsJson> {
  const id = svc.store.get(ref).id;
  const rec = svc.store.get(id);
  const running = rec.state.status === 'running' || rec.state.status === 'paused';
  if (!running && !opts.stream) {
    yield emptyStats(rec);
    return;
  }
  let pre: StatsJson | undefined;
  let first = true;
  while (!opts.signal?.aborted && svc.store.byId.has(id)) {
    const s = await sampleStats(svc, id);
    if (pre) {
      s.precpu_stats = pre.cpu_stats;
      s.preread = pre.read;
    }
    pre = s;
    if (opts.oneShot) {
      yield s;
      return;
    }
    if (!opts.stream && first) {
      // Prime the CPU numbers so the single answer has a real CPU %.
      first = false;
      await sleep(1000, opts.signal);
      continue;
    }
    yield s;
    if (!opts.stream) return;
    await sleep(1000, opts.signal);
  }
}
