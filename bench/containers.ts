/**
 * Container lifecycle, side by side: Peti (through the docker CLI and through the peti CLI), Docker, Podman, and a
 * bare `crun run` of the same busybox rootfs. One engine runs at a time. Per CLI:
 *   run --rm:  `run --rm busybox true`, 3 warm-ups then 30 runs: median and p90
 *   run -d:    20 x `run -d busybox sleep 600` at once: wall time
 *   memory:    with those 20 running (first CLI of each engine only): RSS and PSS of the per-container processes
 *              the engine adds (conmon / containerd-shim-runc-v2) plus the daemon's RSS growth, divided by 20
 *   exec:      `exec C true` into one of them, 2 warm-ups then 20 runs: median
 *              (then `kill` + `rm -f` the 20: Podman's `rm -f` waits 10 s for busybox sleep, which ignores SIGTERM)
 *   ps -a:     100 containers made with `create busybox true` (never started), `ps -a` 1 warm-up then 10: median
 * plus each daemon's idle RSS right after start (Podman has none: 0). Everything uses the busybox image that
 * scripts/make-busybox.sh builds (bench/lib/busybox.ts), imported into Docker and Podman from the same tar.
 * Run: node --import tsx bench/containers.ts [peti|docker|podman|crun ...]
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUSYBOX, busyboxInPeti, importBusybox } from './lib/busybox.js';
import { startNullEngine } from './lib/null-engine.js';
import { cli, commandLine, percentile, pool, sleep, type Client, type Invocation } from './lib/clients.js';
import {
  availableEngines, debianPackageOf, markdownTable, median, mib, pssKiB, removeTree, rssKiB, runTimed, showCommand, which, withEngine,
  type Engine, type RunResult,
} from './lib/engines.js';

const RUN_WARMUP = 3;
const RUN_RUNS = 30;
const PARALLEL = 20;
const EXEC_WARMUP = 2;
const EXEC_RUNS = 20;
const PS_CONTAINERS = 100;
const PS_RUNS = 10;
const CREATE_CONCURRENCY = 4;
const CRUN_RUNS = 30;
const CRUN_GAP_MS = 100;

/** Verbs that failed (the bench goes on without their numbers): printed under the tables. */
const failures: string[] = [];

interface ClientResult {
  label: string;
  runRm: number[];
  runD: number;
  exec: number[];
  ps: number[];
  network: string;
}

interface MemoryResult {
  engine: string;
  idleRssKiB: number;
  rssOf: string;
  shimComm: string;
  shims: number;
  shimRssKiB: number;
  shimPssKiB: number;
  daemonGrowthKiB: number;
}

const shown = new Set<string>();
/** Each command line once, however often it runs. */
function showOnce(c: Invocation, args: string[], note = ''): void {
  const s = commandLine(c, args) + note;
  if (!shown.has(s)) console.log(`  $ ${s}`);
  shown.add(s);
}

async function repeat(c: Invocation, args: string[], warmup: number, runs: number): Promise<number[]> {
  showOnce(c, args, `   (x${runs} after ${warmup} warm-up${warmup === 1 ? '' : 's'})`);
  for (let i = 0; i < warmup; i++) await cli(c, args, { capture: false });
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push((await cli(c, args, { capture: false })).ms);
  return ms;
}

async function measureMemory(e: Engine, rssBefore: number): Promise<MemoryResult> {
  // Wait for all shims (Docker's appear as the containers start), then let the daemon settle before reading RSS.
  for (let i = 0; i < 50 && e.shimPids().length < PARALLEL; i++) await sleep(100);
  await sleep(1000);
  const pids = e.shimPids();
  const m: MemoryResult = {
    engine: e.name,
    idleRssKiB: e.idleRssKiB ?? 0,
    rssOf: e.rssOf,
    shimComm: e.shimComm,
    shims: pids.length,
    shimRssKiB: pids.reduce((a, p) => a + rssKiB(p), 0),
    shimPssKiB: pids.reduce((a, p) => a + pssKiB(p), 0),
    daemonGrowthKiB: (e.rssNow() ?? 0) - rssBefore,
  };
  console.log(`  memory: ${m.shims} ${m.shimComm} processes, RSS ${mib(m.shimRssKiB)} MiB, PSS ${mib(m.shimPssKiB)} MiB; ` +
    (e.rssNow() === undefined ? 'no daemon' : `${e.rssOf} RSS ${mib(rssBefore)} -> ${mib(e.rssNow())} MiB`));
  if (m.shims !== PARALLEL) console.log(`  WARNING: expected ${PARALLEL} ${m.shimComm} processes, found ${m.shims}`);
  return m;
}

async function benchClient(c: Client, withMemory: boolean): Promise<{ result: ClientResult; memory?: MemoryResult }> {
  console.log(`${c.label}:`);
  const runRm = await repeat(c, ['run', '--rm', BUSYBOX, 'true'], RUN_WARMUP, RUN_RUNS);

  const rssBefore = c.engine.rssNow() ?? 0;
  const runArgs = ['run', '-d', BUSYBOX, 'sleep', '600'];
  showOnce(c, runArgs, `   (x${PARALLEL} at once)`);
  const t0 = performance.now();
  const started = await Promise.all(Array.from({ length: PARALLEL }, () => cli(c, runArgs)));
  const runD = performance.now() - t0;
  const ids = started.map((r) => r.stdout.trim().split('\n').pop() as string);
  let memory: MemoryResult | undefined;
  let exec: number[] = [];
  let network = '';
  try {
    if (withMemory) memory = await measureMemory(c.engine, rssBefore);
    const inspect = ['inspect', '--format', '{{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}}', ids[0] as string];
    showOnce(c, inspect);
    const [mode, ip] = (await cli(c, inspect)).stdout.trim().split(' ');
    network = `${mode}${ip ? `, IP ${ip}` : ', no IP'}`;
    try {
      exec = await repeat(c, ['exec', ids[0] as string, 'true'], EXEC_WARMUP, EXEC_RUNS);
    } catch (err) {
      // A failing verb is a result too: report it in the table and go on with the others.
      failures.push(`${c.label}: exec: ${(err as Error).message.split('\n')[0]}`);
      console.log(`  FAILED: ${failures[failures.length - 1]}`);
    }
  } finally {
    showOnce(c, ['kill', '...'], `   (the ${PARALLEL}), then rm -f`);
    await cli(c, ['kill', ...ids], { check: false, capture: false });
    await cli(c, ['rm', '-f', ...ids], { capture: false });
  }

  showOnce(c, ['create', BUSYBOX, 'true'], `   (x${PS_CONTAINERS}, ${CREATE_CONCURRENCY} at a time)`);
  const created = await pool(Array.from({ length: PS_CONTAINERS }, (_, i) => i), CREATE_CONCURRENCY,
    async () => (await cli(c, ['create', BUSYBOX, 'true'])).stdout.trim().split('\n').pop() as string);
  let ps: number[];
  try {
    const lines = (await cli(c, ['ps', '-a'])).stdout.trim().split('\n').length - 1;
    if (lines !== PS_CONTAINERS) throw new Error(`${c.label}: ps -a lists ${lines} containers, expected ${PS_CONTAINERS}`);
    ps = await repeat(c, ['ps', '-a'], 1, PS_RUNS);
  } finally {
    showOnce(c, ['rm', '...'], `   (the ${PS_CONTAINERS})`);
    await cli(c, ['rm', '-f', ...created], { capture: false });
  }
  const f = (xs: number[]): string => median(xs).toFixed(0);
  console.log(`  run --rm median ${f(runRm)} ms, p90 ${percentile(runRm, 90).toFixed(0)} ms; run -d x${PARALLEL} ${runD.toFixed(0)} ms; ` +
    `exec median ${f(exec)} ms; ps -a median ${f(ps)} ms; network: ${network}`);
  return { result: { label: c.label, runRm, runD, exec, ps, network }, memory };
}

/** Host hard limit of an rlimit from /proc/self/limits (undefined = unlimited or unknown). */
function hardLimit(name: string): number | undefined {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const v = line?.slice(26).trim().split(/\s+/)[1];
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}

const RLIMIT_NAMES: Record<string, string> = { RLIMIT_NOFILE: 'Max open files', RLIMIT_NPROC: 'Max processes' };

/**
 * `crun run` of `true` in a bundle made by `crun spec` around the unpacked busybox rootfs: back to back, and paced
 * (CRUN_GAP_MS idle before each run, as between a user's runs). On a host with cgroup v1 hierarchies the two differ:
 * the first cgroup move after a quiet spell waits for an RCU grace period, which back-to-back runs never see.
 */
async function benchCrun(tar: string, work: string, petiSpec?: PetiSpec): Promise<CrunRuns> {
  const bundle = join(work, 'crun-bundle');
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  await sh('tar', ['-C', join(bundle, 'rootfs'), '-xf', tar]);
  await sh('crun', ['spec', '-b', bundle]);
  const cfgPath = join(bundle, 'config.json');
  interface Rlimit { type: string; hard: number; soft: number }
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { process: { args: string[]; terminal: boolean; rlimits?: Rlimit[] } };
  cfg.process.args = ['true'];
  cfg.process.terminal = false;
  for (const r of cfg.process.rlimits ?? []) {
    const name = RLIMIT_NAMES[r.type];
    const max = name ? hardLimit(name) : undefined;
    if (max !== undefined) {
      r.hard = Math.min(r.hard, max);
      r.soft = Math.min(r.soft, r.hard);
    }
  }
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
  console.log(`  (config.json: process.args ["true"], terminal false, rlimits ${JSON.stringify(cfg.process.rlimits ?? [])})`);
  const spec = await timeCrun(bundle, join(work, 'crun-state'), 'spec');
  if (!petiSpec) return { spec };
  // Peti's own bundle for `run --rm --network none busybox true` (as petid wrote it, its seccomp filter compiled in),
  // around a plain copy of the same rootfs: the issue's "bare crun run of the same bundle".
  const own = join(work, 'peti-bundle');
  mkdirSync(join(own, 'rootfs'), { recursive: true });
  await sh('tar', ['-C', join(own, 'rootfs'), '-xf', tar]);
  const pcfg = petiSpec.config as { root: { path: string }; mounts?: { source?: string }[]; linux?: { cgroupsPath?: string } };
  pcfg.root.path = join(own, 'rootfs');
  for (const m of pcfg.mounts ?? []) {
    const copy = m.source !== undefined ? petiSpec.files.get(m.source) : undefined;
    if (copy !== undefined) {
      const to = join(own, `etc-${m.source!.split("/").pop()}`);
      writeFileSync(to, copy);
      m.source = to;
    }
  }
  if (pcfg.linux) pcfg.linux.cgroupsPath = `/peti/bench-crun-${process.pid}`;
  writeFileSync(join(own, 'config.json'), JSON.stringify(pcfg));
  console.log(`  (Peti's bundle: config.json of container ${petiSpec.id.slice(0, 12)}, root.path and its hosts/hostname/resolv.conf moved into ${own})`);
  return { spec, peti: await timeCrun(own, join(work, 'crun-state-peti'), 'peti') };
}

const sh = async (cmd: string, args: string[]): Promise<RunResult> => {
  console.log(`  $ ${showCommand(cmd, args)}`);
  return runTimed(cmd, args);
};

interface PetiSpec { id: string; config: unknown; files: Map<string, Buffer> }
interface CrunTimes { b2b: number[]; paced: number[] }
interface CrunRuns { spec: CrunTimes; peti?: CrunTimes }

/** `crun run` of a bundle: back to back, then paced. */
async function timeCrun(bundle: string, state: string, tag: string): Promise<CrunTimes> {
  const args = (i: number): string[] => ['--root', state, 'run', '-b', bundle, `peti-bench-crun-${tag}-${process.pid}-${i}`];
  console.log(`  $ ${showCommand('crun', args(0)).replace(/-0$/, '-N')}   (x${CRUN_RUNS} after ${RUN_WARMUP} warm-ups, back to back; then x${CRUN_RUNS} with ${CRUN_GAP_MS} ms idle before each)`);
  const b2b: number[] = [];
  const paced: number[] = [];
  for (let i = 0; i < RUN_WARMUP + 2 * CRUN_RUNS; i++) {
    const pace = i >= RUN_WARMUP + CRUN_RUNS;
    if (pace) await sleep(CRUN_GAP_MS);
    const r = await runTimed('crun', args(i), {}, { capture: false });
    if (r.code !== 0) throw new Error(`crun run of ${bundle} failed (exit ${r.code}): ${r.stderr.trim()}`);
    if (i >= RUN_WARMUP) (pace ? paced : b2b).push(r.ms);
  }
  console.log(`  crun run back to back: median ${median(b2b).toFixed(1)} ms, p90 ${percentile(b2b, 90).toFixed(1)} ms; ` +
    `paced: median ${median(paced).toFixed(1)} ms, p90 ${percentile(paced, 90).toFixed(1)} ms`);
  return { b2b, paced };
}

/** The config.json petid writes for `run --network none busybox true` (created, never started), with its /etc files. */
async function petiBundle(e: Engine): Promise<PetiSpec | undefined> {
  const r = await e.cli(['create', '--network', 'none', BUSYBOX, 'true']);
  const id = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const config = JSON.parse(readFileSync(join(e.dir, 'exec', 'containers', id, 'config.json'), 'utf8')) as { mounts?: { source?: string; destination: string }[] };
    const files = new Map<string, Buffer>();
    for (const m of config.mounts ?? []) {
      if (m.source && ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'].includes(m.destination)) files.set(m.source, readFileSync(m.source));
    }
    return { id, config, files };
  } catch (err) {
    failures.push(`Peti's bundle for bare crun: ${(err as Error).message}`);
    return undefined;
  } finally {
    await e.cli(['rm', '-f', id]);
  }
}

/** The docker CLI's own floor for `run --rm`: against the null engine, which answers every request at once. */
async function benchFloor(work: string): Promise<number[] | undefined> {
  if (which('docker') === undefined) return undefined;
  const e = await startNullEngine(join(work, 'null.sock'));
  try {
    const c: Invocation = { cmd: 'docker', args: [], env: { DOCKER_HOST: e.host, DOCKER_CONFIG: join(work, 'docker-config-null') } };
    console.log('\nclient floor (bench/lib/null-engine.ts answers create, attach, wait and start at once):');
    return await repeat(c, ['run', '--rm', BUSYBOX, 'true'], RUN_WARMUP, RUN_RUNS);
  } finally {
    await e.close();
  }
}

function crunRows(r: CrunRuns): string[][] {
  const rows: string[][] = [];
  for (const [bundle, t] of [['crun spec bundle', r.spec], ['Peti\'s bundle', r.peti]] as const) {
    if (!t) continue;
    rows.push([`bare crun run, ${bundle}, back to back`, median(t.b2b).toFixed(1), percentile(t.b2b, 90).toFixed(1), '-', '-', '-', 'own netns, no interface']);
    rows.push([`bare crun run, ${bundle}, ${CRUN_GAP_MS} ms apart`, median(t.paced).toFixed(1), percentile(t.paced, 90).toFixed(1), '-', '-', '-', 'own netns, no interface']);
  }
  return rows;
}

function clientsOf(e: Engine, hasDocker: boolean): Client[] {
  const own: Client = { label: '', engine: e, cmd: e.cliCmd, args: e.cliArgs, env: e.cliEnv };
  if (e.name === 'peti') {
    const host = e.cliEnv.PETI_HOST as string;
    const viaDocker: Client = { label: 'peti (docker CLI)', engine: e, cmd: 'docker', args: [], env: { DOCKER_HOST: host, DOCKER_CONFIG: join(e.dir, 'docker-config') } };
    return [...(hasDocker ? [viaDocker] : []), { ...own, label: 'peti (peti CLI)' }];
  }
  return [{ ...own, label: `${e.name} (${e.name} CLI)` }];
}

export async function main(only: string[] = []): Promise<void> {
  const t0 = performance.now();
  const installed = availableEngines();
  const hasDocker = installed.includes('docker');
  const engines = installed.filter((n) => only.length === 0 || only.includes(n));
  const withCrun = (only.length === 0 || only.includes('crun')) && which('crun') !== undefined;
  if (!engines.includes('peti')) engines.unshift('peti'); // the busybox rootfs comes out of Peti (lib/busybox.ts)
  console.log('NOTE: wall times on a shared 2-core machine: other work running at the same time makes them noisy.');
  console.log(`engines: ${engines.join(', ')}${withCrun ? ', bare crun' : ''}${installed.includes('podman') ? '' : ' (podman not installed: apt-get install podman)'}` +
    `${hasDocker ? '' : ' (docker not installed: apt-get install docker.io)'}; one at a time`);
  console.log(`crun: ${debianPackageOf(which('crun'))}; conmon: ${debianPackageOf(which('conmon'))}; node ${process.version}`);

  const work = mkdtempSync(join(tmpdir(), 'peti-bench-containers-'));
  const results: ClientResult[] = [];
  const memory: MemoryResult[] = [];
  let crunRuns: CrunRuns | undefined;
  let petiSpec: PetiSpec | undefined;
  let floor: number[] | undefined;
  let tar = '';
  try {
    for (const name of engines) {
      await withEngine(name, async (e) => {
        console.log(`\n${name}: ${e.version}`);
        for (const l of e.setup) console.log(`  ${l}`);
        console.log(`  idle RSS ${mib(e.idleRssKiB ?? 0)} MiB (${e.rssOf})`);
        if (name === 'peti') tar = await busyboxInPeti(e, work);
        else await importBusybox(e, tar);
        const skipClients = name === 'peti' && only.length > 0 && !only.includes('peti'); // peti only made the image
        if (skipClients) return;
        let first = true;
        for (const c of clientsOf(e, hasDocker)) {
          const r = await benchClient(c, first);
          results.push(r.result);
          if (r.memory) memory.push(r.memory);
          first = false;
        }
        if (name === 'peti' && withCrun) petiSpec = await petiBundle(e);
      });
      if (name === 'peti' && withCrun) {
        // After petid: its start mounts the v1 hugetlb controller crun needs on this hybrid-cgroup host (DESIGN.md §8).
        console.log('\nbare crun:');
        crunRuns = await benchCrun(tar, work, petiSpec);
      }
    }
    if (engines.includes('peti') && !(only.length > 0 && !only.includes('peti'))) floor = await benchFloor(work);
  } finally {
    removeTree(work);
  }

  const f0 = (x: number): string => (Number.isNaN(x) ? 'failed' : x.toFixed(0));
  console.log('');
  console.log(markdownTable(
    ['engine (CLI)', 'run --rm median ms', 'run --rm p90 ms', `run -d x${PARALLEL} wall ms`, 'exec median ms', `ps -a (${PS_CONTAINERS}) median ms`, 'network'],
    [
      ...results.map((r) => [r.label, f0(median(r.runRm)), f0(percentile(r.runRm, 90)), f0(r.runD), f0(median(r.exec)), f0(median(r.ps)), r.network]),
      ...(crunRuns ? crunRows(crunRuns) : []),
      ...(floor ? [['docker CLI, null engine (client floor)', f0(median(floor)), f0(percentile(floor, 90)), '-', '-', '-', 'none (nothing runs)']] : []),
    ],
  ));
  // A Node daemon can shrink while containers start (a GC ran): count a negative growth as 0, not as a credit.
  const perCtr = (m: MemoryResult, shim: number): number => (shim + Math.max(0, m.daemonGrowthKiB)) / PARALLEL;
  console.log('');
  console.log(markdownTable(
    ['engine', 'idle daemon RSS MiB', `per-container process`, `${PARALLEL} of them RSS MiB`, 'PSS MiB', 'daemon RSS growth MiB', 'per container (RSS) MiB', 'per container (PSS) MiB'],
    memory.map((m) => [m.engine, `${mib(m.idleRssKiB)} (${m.rssOf})`, `${m.shimComm} x${m.shims}`, mib(m.shimRssKiB), mib(m.shimPssKiB),
      `${mib(m.daemonGrowthKiB)}${m.daemonGrowthKiB < 0 ? ' (GC; as 0)' : ''}`,
      mib(perCtr(m, m.shimRssKiB)), mib(perCtr(m, m.shimPssKiB))]),
  ));

  // The goals (README / DESIGN.md): Peti against the peers on the same machine.
  const viaDocker = results.find((r) => r.label === 'peti (docker CLI)');
  const dockerd = results.find((r) => r.label === 'docker (docker CLI)');
  const petiMem = memory.find((m) => m.engine === 'peti');
  const dockerMem = memory.find((m) => m.engine === 'docker');
  const goals: string[][] = [];
  if (viaDocker && dockerd) {
    const x = median(dockerd.runRm) / median(viaDocker.runRm);
    goals.push(['docker CLI: dockerd / petid, run --rm busybox true (medians)', `${x.toFixed(2)}x (${f0(median(dockerd.runRm))} / ${f0(median(viaDocker.runRm))} ms)`, '>= 5x', x >= 5 ? 'yes' : 'no']);
    if (floor) {
      // What each daemon adds to the client's own floor (the null engine's time): the daemons' share alone.
      const fl = median(floor);
      const own = (r: ClientResult): number => median(r.runRm) - fl;
      const y = own(dockerd) / own(viaDocker);
      goals.push(['  same, less the client floor (daemon share)', `${y.toFixed(2)}x (${f0(own(dockerd))} / ${f0(own(viaDocker))} ms; floor ${f0(fl)} ms)`, '(info)', '-']);
    }
  }
  const petiRun = viaDocker ?? results.find((r) => r.label === 'peti (peti CLI)');
  if (petiRun && crunRuns) {
    for (const [bundle, t] of [['Peti\'s bundle', crunRuns.peti], ['crun spec bundle', crunRuns.spec]] as const) {
      if (!t) continue;
      for (const [what, xs] of [['back to back', t.b2b], [`${CRUN_GAP_MS} ms apart`, t.paced]] as const) {
        const x = median(petiRun.runRm) / median(xs);
        goals.push([`${petiRun.label} run --rm / bare crun run of ${bundle} (${what})`, `${x.toFixed(1)}x (${f0(median(petiRun.runRm))} / ${median(xs).toFixed(1)} ms)`, '<= 5x', x <= 5 ? 'yes' : 'no']);
      }
    }
  }
  if (petiMem) {
    const pss = perCtr(petiMem, petiMem.shimPssKiB) / 1024;
    const rss = perCtr(petiMem, petiMem.shimRssKiB) / 1024;
    goals.push(['peti memory per running container (PSS; RSS)', `${pss.toFixed(2)} MiB; ${rss.toFixed(2)} MiB`, '<= 1 MB', pss <= 1 ? (rss <= 1 ? 'yes' : 'yes by PSS, no by RSS') : 'no']);
  }
  if (petiMem && dockerMem) {
    const x = petiMem.idleRssKiB / dockerMem.idleRssKiB;
    goals.push([`idle RSS: petid / ${dockerMem.rssOf}`, `${x.toFixed(2)} (${mib(petiMem.idleRssKiB)} / ${mib(dockerMem.idleRssKiB)} MiB)`, '< 1', x < 1 ? 'yes' : 'no']);
  }
  if (goals.length) {
    console.log('');
    console.log(markdownTable(['goal', 'measured', 'target', 'met'], goals));
  }
  if (failures.length) console.log(`\nfailed (no number above):\n  ${failures.join('\n  ')}`);
  console.log(`\ncontainers bench: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
