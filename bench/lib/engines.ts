/**
 * Engines for side-by-side benchmarks: Peti, Docker and Podman, each on its own temp roots, started one at a time
 * (never two together: the machine is small and shared), stopped by pid, and cleaned even on error: mounts under its
 * roots unmounted deepest first, dirs removed, and any host network state it changed put back.
 *
 * Use: `await withEngine('docker', async (e) => { await e.cli(['version']) })`; `availableEngines()` says which exist.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

export type EngineName = 'peti' | 'docker' | 'podman';

export const REPO = resolve(import.meta.dirname, '../..');

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The build the benches run: a private copy of bin/, dist/ and scripts/make-busybox.sh, taken once per process (and
 * removed at its exit), with node_modules linked. Other engineers rebuild this tree while benches run, and
 * `npm run build` empties dist/ first: running the shared dist/ made benches fail half-way with
 * "Cannot find module dist/peti.js". A copy caught mid-build fails `peti --version` or `node --check`: taken again.
 */
function snapshotBuild(): string {
  const snap = mkdtempSync(join(tmpdir(), 'pb-build-'));
  process.once('exit', () => rmSync(snap, { recursive: true, force: true }));
  for (let attempt = 1; ; attempt++) {
    try {
      for (const d of ['bin', 'dist', 'scripts']) rmSync(join(snap, d), { recursive: true, force: true });
      cpSync(join(REPO, 'bin'), join(snap, 'bin'), { recursive: true });
      cpSync(join(REPO, 'dist'), join(snap, 'dist'), { recursive: true });
      mkdirSync(join(snap, 'scripts'));
      cpSync(join(REPO, 'scripts/make-busybox.sh'), join(snap, 'scripts/make-busybox.sh'));
      if (!existsSync(join(snap, 'node_modules'))) symlinkSync(join(REPO, 'node_modules'), join(snap, 'node_modules'));
      const ok = spawnSync(process.execPath, [join(snap, 'bin/peti'), '--version'], { stdio: 'ignore' }).status === 0 &&
        ['petid.js', 'apply-worker.js'].every((f) => spawnSync(process.execPath, ['--check', join(snap, 'dist', f)], { stdio: 'ignore' }).status === 0);
      if (ok) return snap;
    } catch {
      // dist/ half-written or missing: try again
    }
    if (attempt === 20) throw new Error(`no complete build in ${REPO}/dist after ${attempt} tries: run \`npm run build\``);
    sleepSync(500);
  }
}

/** Root of the private copy of the build (bin/, dist/, scripts/make-busybox.sh). */
export const BUILD = snapshotBuild();
export const PETI = join(BUILD, 'bin/peti');
export const PETID = join(BUILD, 'bin/petid');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, ms. */
  ms: number;
}

export interface RunOptions {
  /** Throw when the command exits non-zero (default true). */
  check?: boolean;
  /** Keep stdout (default true; false sends it to /dev/null, for big outputs). */
  capture?: boolean;
  timeoutMs?: number;
}

/** Runs a command asynchronously and times it: spawn to exit. */
export function runTimed(cmd: string, args: string[], env: Record<string, string> = {}, opts: RunOptions = {}): Promise<RunResult> {
  const { check = true, capture = true, timeoutMs = 300_000 } = opts;
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', capture ? 'pipe' : 'ignore', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    c.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.once('error', (e) => { clearTimeout(timer); reject(e); });
    c.once('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      const r: RunResult = { code: code ?? -1, stdout, stderr, ms };
      if (check && code !== 0) reject(new Error(`${[cmd, ...args].join(' ')} exited ${code ?? signal}: ${stderr.trim().slice(-2000)}`));
      else resolvePromise(r);
    });
  });
}

/** Absolute path of an executable on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    const p = join(d, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

/** A markdown table, columns padded so it also reads well as plain text. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Quote a word for printing a command line. */
function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
export function showCommand(cmd: string, args: string[], env: Record<string, string> = {}): string {
  const e = Object.entries(env).map(([k, v]) => `${k}=${shq(v)}`);
  return [...e, cmd, ...args].map((w, i) => (i < e.length ? w : shq(w))).join(' ');
}

/** Unmount everything mounted under dir, deepest first (lazy, so busy mounts cannot keep us from cleaning). */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')));
  for (const m of [...new Set(mounts)].sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
}

/** Unmount under dir, then remove it. */
export function removeTree(dir: string): void {
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Resident set size of a process, KiB (0 if gone). */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Proportional set size of a process, KiB, from smaps_rollup (0 if gone): shared pages split among their users. */
export function pssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  /** State letter from /proc/<pid>/stat (Z = zombie). */
  state: string;
}

function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const [state, ppid] = stat.slice(close + 2).split(' ');
      out.push({ pid: Number(n), ppid: Number(ppid), comm, state: state as string });
    } catch {
      // raced with an exit
    }
  }
  return out;
}

/** Direct children of pid, from /proc. */
function childrenOf(pid: number): { pid: number; comm: string }[] {
  return processes().filter((p) => p.ppid === pid);
}

/**
 * Live processes named comm (as /proc shows it: at most 15 characters) whose command line mentions dir: the shims of
 * one engine, told apart from other engines' (and other tests') by the temp dir in their arguments.
 */
export function processesOf(comm: string, dir: string): number[] {
  return processes()
    .filter((p) => p.comm === comm && p.state !== 'Z')
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map((p) => p.pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** GET /_ping on a unix socket: true on a 200. */
function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolvePromise(res.statusCode === 200);
    });
    req.once('error', () => resolvePromise(false));
    req.once('timeout', () => { req.destroy(); resolvePromise(false); });
    req.end();
  });
}

/** Stop a child we spawned: SIGTERM, then SIGKILL after graceMs. */
async function stopChild(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  process.kill(proc.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), graceMs); })]);
  clearTimeout(timer);
  if (timedOut) {
    try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ }
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Host network state. Engines may change it (Docker and Podman with real networking: a bridge, iptables chains, a
// FORWARD policy, ip_forward; Peti: its bridge and nft table): snapshot before, compare after, undo what the engine
// made. Other work on this shared host changes things too (other petids' veths on peti0, their nft table): only what
// `NetOwner` says is the engine's is undone; the rest is reported, never touched.

export interface HostNet {
  /** Interface name -> its master ('' when none). */
  links: Record<string, string>;
  /** /proc/sys/net/<key> -> value ('' when absent). */
  sysctls: Record<string, string>;
  /** "iptables:filter" -> `iptables -S` lines. */
  rules: Record<string, string[]>;
  /** "iptables" / "ip6tables" -> `iptables-save` lines without comments and counters. */
  save: Record<string, string[]>;
  /** "ip filter" -> `nft list table ip filter`, counters blanked. */
  nft: Record<string, string>;
}

/** What belongs to the engine under test: only that is undone. iptables and the sysctls always count as its. */
export interface NetOwner {
  link(name: string, master: string): boolean;
  nftTable(table: string): boolean;
}

const TABLES = ['filter', 'nat', 'mangle', 'raw'];
const SYSCTLS = ['ipv4/ip_forward', 'ipv6/conf/all/forwarding', 'ipv4/conf/all/route_localnet', 'ipv4/conf/default/route_localnet',
  'bridge/bridge-nf-call-iptables', 'bridge/bridge-nf-call-ip6tables'];
/** The nft tables iptables-nft makes (Docker's and netavark's chains live there). */
const IPTABLES_NFT = /^(ip|ip6|inet) (filter|nat|mangle|raw|security)$/;

function readSys(p: string): string {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

function hasTool(tool: string): boolean {
  return !!which(tool) || existsSync(`/usr/sbin/${tool}`);
}

export function snapshotHostNet(): HostNet {
  const links: Record<string, string> = {};
  for (const l of spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n')) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(l)?.[1];
    if (name) links[name] = / master (\S+)/.exec(l)?.[1] ?? '';
  }
  const sysctls: Record<string, string> = {};
  for (const k of SYSCTLS) sysctls[k] = readSys(`/proc/sys/net/${k}`);
  const rules: Record<string, string[]> = {};
  const save: Record<string, string[]> = {};
  for (const tool of ['iptables', 'ip6tables']) {
    if (!hasTool(tool)) continue;
    for (const t of TABLES) {
      const r = spawnSync(tool, ['-w', '-t', t, '-S'], { encoding: 'utf8' });
      rules[`${tool}:${t}`] = r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
    }
    save[tool] = spawnSync(`${tool}-save`, [], { encoding: 'utf8' }).stdout.split('\n')
      .filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
  }
  const nft: Record<string, string> = {};
  if (hasTool('nft')) {
    for (const l of spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout.split('\n')) {
      const t = /^table (\S+ \S+)$/.exec(l.trim())?.[1];
      if (!t) continue;
      nft[t] = spawnSync('nft', ['list', 'table', ...t.split(' ')], { encoding: 'utf8' }).stdout
        .replace(/counter packets \d+ bytes \d+/g, 'counter');
    }
  }
  return { links, sysctls, rules, save, nft };
}

/** Split an `iptables -S` line into words (it double-quotes words with spaces). */
function splitRule(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] as string));
  return out;
}

/** The FORWARD policy as iptables-save shows it ("ACCEPT (no filter table)" when iptables has none). */
export function forwardPolicy(s: HostNet): string {
  return (s.save.iptables ?? []).find((l) => l.startsWith(':FORWARD '))?.split(' ')[1] ?? 'ACCEPT (no filter table)';
}

/**
 * Differences between two snapshots, split into the engine's (by `owner`; iptables and sysctls always) and other
 * work's. Empty `ours` means the host is as it was, as far as this engine goes.
 */
export function hostNetChanges(before: HostNet, after: HostNet, owner: NetOwner): { ours: string[]; others: string[] } {
  const ours: string[] = [];
  const others: string[] = [];
  const linkLine = (n: string, m: string): string => `${n}${m ? ` (master ${m})` : ''}`;
  for (const [n, m] of Object.entries(after.links)) {
    if (!(n in before.links)) (owner.link(n, m) ? ours : others).push(`link ${linkLine(n, m)} added`);
  }
  for (const [n, m] of Object.entries(before.links)) {
    if (!(n in after.links)) (owner.link(n, m) ? ours : others).push(`link ${linkLine(n, m)} removed`);
  }
  for (const k of SYSCTLS) if (before.sysctls[k] !== after.sysctls[k]) ours.push(`net.${k.replace(/\//g, '.')} ${before.sysctls[k]} -> ${after.sysctls[k]}`);
  for (const tool of Object.keys({ ...before.save, ...after.save })) {
    const b = before.save[tool] ?? [];
    const a = after.save[tool] ?? [];
    const added = a.filter((l) => !b.includes(l));
    const removed = b.filter((l) => !a.includes(l));
    if (added.length || removed.length) ours.push(`${tool}-save: ${[...added.map((l) => `+${l}`), ...removed.map((l) => `-${l}`)].join(', ')}`);
  }
  for (const t of Object.keys({ ...before.nft, ...after.nft })) {
    if (before.nft[t] === after.nft[t]) continue;
    const what = !(t in before.nft) ? 'added' : !(t in after.nft) ? 'removed' : 'changed';
    (owner.nftTable(t) || IPTABLES_NFT.test(t) ? ours : others).push(`nft table ${t} ${what}`);
  }
  return { ours, others };
}

/** Put back what the engine changed between two snapshots; returns what was done (empty when nothing was needed). */
export function restoreHostNet(before: HostNet, after: HostNet, owner: NetOwner): string[] {
  const changes: string[] = [];
  // Its links: veths first, then the bridges they hang on.
  const added = Object.entries(after.links).filter(([n, m]) => !(n in before.links) && owner.link(n, m));
  for (const [n] of [...added.filter(([, m]) => m), ...added.filter(([, m]) => !m)]) {
    changes.push(`link ${n} added: deleted`);
    spawnSync('ip', ['link', 'del', n]);
  }
  for (const k of SYSCTLS) {
    const b = before.sysctls[k] ?? '';
    if (after.sysctls[k] !== b && b !== '' && after.sysctls[k] !== '') {
      changes.push(`net.${k.replace(/\//g, '.')} ${b} -> ${after.sysctls[k]}: restored`);
      writeFileSync(`/proc/sys/net/${k}`, b);
    }
  }
  for (const [key, lines] of Object.entries(after.rules)) {
    const [tool, table] = key.split(':') as [string, string];
    const old = new Set(before.rules[key] ?? []);
    const new_ = lines.filter((l) => !old.has(l));
    if (new_.length === 0) continue;
    // Rules first (they may jump to new chains), then policies, then the new chains themselves.
    for (const l of new_.filter((x) => x.startsWith('-A '))) {
      changes.push(`${tool} -t ${table} ${l}: deleted`);
      spawnSync(tool, ['-w', '-t', table, '-D', ...splitRule(l).slice(1)]);
    }
    for (const l of new_.filter((x) => x.startsWith('-P '))) {
      const chain = splitRule(l)[1] as string;
      const prev = (before.rules[key] ?? []).find((x) => x.startsWith(`-P ${chain} `));
      if (prev) {
        changes.push(`${tool} -t ${table} policy ${l} -> ${prev}: restored`);
        spawnSync(tool, ['-w', '-t', table, ...splitRule(prev)]);
      }
    }
    for (const l of new_.filter((x) => x.startsWith('-N '))) {
      const chain = splitRule(l)[1] as string;
      changes.push(`${tool} -t ${table} chain ${chain}: removed`);
      spawnSync(tool, ['-w', '-t', table, '-F', chain]);
      spawnSync(tool, ['-w', '-t', table, '-X', chain]);
    }
  }
  // nft tables the engine (or iptables-nft on its behalf) created: gone entirely. Emptied iptables-nft tables stay
  // behind after the rules above are deleted, with their base chains hooked in: deleted too.
  for (const t of Object.keys(after.nft)) {
    if (t in before.nft || !(owner.nftTable(t) || IPTABLES_NFT.test(t))) continue;
    changes.push(`nft table ${t} added: deleted`);
    spawnSync('nft', ['delete', 'table', ...t.split(' ')]);
  }
  return changes;
}

/** Restore, check again, and say what was done and what could not be undone. */
export function undoHostNet(what: string, before: HostNet, owner: NetOwner): void {
  const changes = restoreHostNet(before, snapshotHostNet(), owner);
  if (changes.length) console.log(`${what}: host network state changed, undone:\n  ${changes.join('\n  ')}`);
  const still = hostNetChanges(before, snapshotHostNet(), owner).ours;
  if (still.length) console.log(`${what}: WARNING: could not undo: ${still.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------------------------------

export interface Engine {
  name: EngineName;
  /** Temp dir holding everything of this engine: roots, socket, logs, config. */
  dir: string;
  /** The CLI binary and the fixed arguments/env that point it at this engine. */
  cliCmd: string;
  cliArgs: string[];
  cliEnv: Record<string, string>;
  /** Run the CLI against this engine. */
  cli(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** How `cli(args)` reads as a shell command. */
  show(args: string[]): string;
  /** Idle RSS of the daemon process(es) in KiB, measured right after start; undefined when daemonless. */
  idleRssKiB: number | undefined;
  /** What the RSS covers, e.g. "petid" or "dockerd + containerd". */
  rssOf: string;
  /** Current daemon RSS (KiB). */
  rssNow(): number | undefined;
  /** The daemon log so far (tail). */
  logTail(lines?: number): string;
  version: string;
  /** How this engine was installed and started, for the bench's header: one line each, commands and config. */
  setup: string[];
  /** The process the engine keeps per running container (conmon, containerd-shim-runc-v2), as /proc names it. */
  shimComm: string;
  /** Pids of those processes that belong to this engine's containers. */
  shimPids(): number[];
  /** What of the host's network is this engine's (its bridge, veths, tables): set when it has networking. */
  netOwner?: NetOwner;
  stop(): Promise<void>;
}

/** "docker.io 20.10.24+dfsg1-1+deb12u1" for a file a Debian package installed, else "not from a Debian package". */
export function debianPackageOf(path: string | undefined): string {
  if (!path) return 'not installed';
  const r = spawnSync('dpkg-query', ['-S', path], { encoding: 'utf8' });
  const pkg = r.status === 0 ? r.stdout.split(':')[0]?.trim() : undefined;
  if (!pkg) return 'not from a Debian package';
  const v = spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' }).stdout.trim();
  return `Debian ${pkg} ${v}`;
}

export function availableEngines(): EngineName[] {
  const out: EngineName[] = ['peti'];
  if (which('dockerd') && which('docker')) out.push('docker');
  if (which('podman')) out.push('podman');
  return out;
}

function makeEngine(
  name: EngineName,
  dir: string,
  cliCmd: string,
  cliArgs: string[],
  cliEnv: Record<string, string>,
  logFile: string | undefined,
  daemonPids: () => number[],
  rssOf: string,
  shimComm: string,
  stop: () => Promise<void>,
): Engine {
  let stopping: Promise<void> | undefined;
  const sumRss = (): number | undefined => {
    const pids = daemonPids();
    return pids.length ? pids.reduce((a, p) => a + rssKiB(p), 0) : undefined;
  };
  return {
    name, dir, cliCmd, cliArgs, cliEnv, rssOf,
    idleRssKiB: undefined,
    version: '',
    setup: [],
    shimComm,
    shimPids: () => processesOf(shimComm, dir),
    cli: (args, opts) => runTimed(cliCmd, [...cliArgs, ...args], cliEnv, opts),
    show: (args) => showCommand(cliCmd, [...cliArgs, ...args], cliEnv),
    rssNow: sumRss,
    logTail: (lines = 30) => {
      if (!logFile) return '';
      try {
        return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    stop: () => (stopping ??= stop()),
  };
}

async function waitReady(socket: string, proc: ChildProcess, what: string, logFile: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${readSys(logFile).split('\n').slice(-20).join('\n')}`);
    }
    if (existsSync(socket) && (await ping(socket))) return;
    await sleep(50);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${readSys(logFile).split('\n').slice(-20).join('\n')}`);
}

/** Let the freshly started daemon settle, then measure its RSS. */
async function settleAndMeasure(e: Engine): Promise<void> {
  await sleep(1000);
  e.idleRssKiB = e.rssNow();
}

function spawnDaemon(cmd: string, args: string[], logFile: string, env: Record<string, string> = {}): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    // Logs go to a file, not a pipe: a pipe we do not drain while timing would stall the daemon.
    return spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  } finally {
    closeSync(fd);
  }
}

/** IPv4 routes and addresses of the host as [base, mask] pairs, to pick subnets that collide with nothing. */
function hostNets(): [number, number][] {
  const out: [number, number][] = [];
  const ip = (s: string): number => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const text = spawnSync('ip', ['-o', '-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout +
    spawnSync('ip', ['-o', '-4', 'addr'], { encoding: 'utf8' }).stdout;
  for (const m of text.matchAll(/(?:^|\s)(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/gm)) {
    const bits = m[2] === undefined ? 32 : Number(m[2]);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    out.push([(ip(m[1] as string) & mask) >>> 0, mask]);
  }
  return out;
}

/** A free `10.A.B.0/24` for an engine's bridge (A in 200..249), given as its first three octets "10.A.B". */
export function freeSubnet24(seed: number): string {
  const nets = hostNets();
  for (let i = 0; i < 12_800; i++) {
    const k = (seed + i * 7919) % 12_800;
    const a = 200 + Math.floor(k / 256);
    const b = k % 256;
    const base = ((10 << 24) | (a << 16) | (b << 8)) >>> 0;
    const mask = 0xffffff00;
    if (!nets.some(([nb, nm]) => ((base & nm) >>> 0) === nb || ((nb & mask) >>> 0) === base)) return `10.${a}.${b}`;
  }
  throw new Error('no free 10.200-249.x.0/24 subnet on this host');
}

let bridgeSerial = 0;

async function startPeti(): Promise<Engine> {
  // A short name: conmon's exec attach socket, even through its `<exec-root>/socket/<64-hex id>/attach` link, must fit
  // in sun_path (108 bytes); under /tmp/peti-bench-peti-XXXXXX/exec that link is 110 and `exec` fails.
  const dir = mkdtempSync(join(tmpdir(), 'pb-peti-'));
  const socket = join(dir, 'peti.sock');
  const host = `unix://${socket}`;
  const logFile = join(dir, 'petid.log');
  // Its own bridge and subnet, hence its own nft table `ip peti_<bridge>`: on the default peti0 it would share the
  // table `ip peti` with every other petid on this host, and each rebuilds that table from its own records (dropping
  // the others' published ports). Both are deleted after it stops.
  const bridge = `pb${process.pid.toString(36)}${bridgeSerial++}`;
  const table = `ip peti_${bridge.replace(/[^a-zA-Z0-9_]/g, '_')}`;
  const owner: NetOwner = { link: (n, m) => n === bridge || m === bridge, nftTable: (t) => t === table };
  const before = snapshotHostNet();
  let proc: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    try {
      if (proc) await stopChild(proc, 20_000);
    } finally {
      try {
        undoHostNet('peti', before, owner);
      } finally {
        removeTree(dir);
      }
    }
  };
  try {
    const bip = `${freeSubnet24(process.pid + bridgeSerial * 131)}.1/24`;
    const args = ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', host, '--log-level', 'warn',
      '--bridge', bridge, '--bip', bip];
    // Started as a user starts it: the launcher runs node with its flags (bin/petid's first line).
    proc = spawnDaemon(PETID, args, logFile);
    await waitReady(socket, proc, 'petid', logFile);
    const p = proc;
    const e = makeEngine('peti', dir, PETI, [], { PETI_HOST: host }, logFile, () => (p.pid !== undefined && alive(p.pid) ? [p.pid] : []), 'petid', 'conmon', stop);
    e.version = (await e.cli(['--version'])).stdout.trim();
    e.setup = [`built from this tree (npm run build), run from a copy of bin/ and dist/ in ${BUILD}; started: ${showCommand(PETID, args)} &`];
    e.netOwner = owner;
    await settleAndMeasure(e);
    return e;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Paths dockerd creates outside its roots whatever the flags (the engine key, the plugin socket dir), deepest first:
 * removed after it stops, if they were not there before it started.
 */
const DOCKER_LEFTOVERS = ['/etc/docker/key.json', '/etc/docker', '/run/docker/plugins', '/run/docker'];

function removeLeftovers(existedBefore: Set<string>): string[] {
  const removed: string[] = [];
  for (const p of DOCKER_LEFTOVERS) {
    if (existedBefore.has(p) || !existsSync(p)) continue;
    try {
      if (statSync(p).isDirectory()) rmdirSync(p); // only when empty: never take anything else with it
      else rmSync(p);
      removed.push(p);
    } catch {
      // not empty or gone: leave it
    }
  }
  return removed;
}

/** Docker's links: its default bridge, user networks' br-*, and the veths on them. */
const DOCKER_NET: NetOwner = {
  link: (n, m) => n === 'docker0' || m === 'docker0' || n.startsWith('br-') || m.startsWith('br-'),
  nftTable: () => false, // only through iptables-nft (its tables count as the engine's anyway)
};

async function startDocker(opts: EngineOptions): Promise<Engine> {
  if (opts.network && existsSync('/sys/class/net/docker0')) throw new Error('docker0 exists already: another dockerd runs here; not starting one with networking');
  const dir = mkdtempSync(join(tmpdir(), 'peti-bench-docker-'));
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const logFile = join(dir, 'dockerd.log');
  const before = snapshotHostNet();
  const existedBefore = new Set(DOCKER_LEFTOVERS.filter((p) => existsSync(p)));
  let proc: ChildProcess | undefined;
  let containerdPids: number[] = [];
  const stop = async (): Promise<void> => {
    try {
      if (proc) await stopChild(proc, 30_000);
      // dockerd stops the containerd it started; make sure, by pid.
      for (const pid of containerdPids) {
        for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
        if (alive(pid)) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        }
      }
    } finally {
      try {
        undoHostNet('docker', before, DOCKER_NET);
      } finally {
        const removed = removeLeftovers(existedBefore);
        if (removed.length) console.log(`docker: removed what dockerd left outside its roots: ${removed.join(', ')}`);
        removeTree(dir);
      }
    }
  };
  try {
    const daemonJson = join(dir, 'daemon.json');
    writeFileSync(daemonJson, '{}\n');
    const args = [
      '--config-file', daemonJson,
      '--data-root', join(dir, 'data'),
      '--exec-root', join(dir, 'exec'),
      '--host', host,
      '--pidfile', join(dir, 'dockerd.pid'),
      // Networked: Docker's real default bridge (docker0, iptables NAT, docker-proxy for published ports) on a subnet
      // no one else here uses; all it changes on the host is undone at stop. Otherwise none of it.
      ...(opts.network ? ['--bip', `${freeSubnet24(process.pid + 4001)}.1/24`, '--ip6tables=false']
        : ['--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false']),
      '--log-level', 'warn',
    ];
    proc = spawnDaemon('dockerd', args, logFile);
    await waitReady(socket, proc, 'dockerd', logFile);
    const dpid = proc.pid as number;
    containerdPids = childrenOf(dpid).filter((c) => c.comm.startsWith('containerd')).map((c) => c.pid);
    const e = makeEngine('docker', dir, 'docker', [], { DOCKER_HOST: host, DOCKER_CONFIG: join(dir, 'client-config') }, logFile,
      () => [dpid, ...containerdPids].filter(alive), containerdPids.length ? 'dockerd + containerd' : 'dockerd', 'containerd-shim', stop);
    e.version = (await e.cli(['version', '--format', 'client {{.Client.Version}}, server {{.Server.Version}}'])).stdout.trim();
    const runtime = (await e.cli(['info', '--format', '{{.DefaultRuntime}}'])).stdout.trim();
    e.setup = [
      `dockerd: ${debianPackageOf(which('dockerd'))} (apt-get install docker.io); containerd: ${debianPackageOf(which('containerd'))}; default runtime ${runtime}`,
      `docker client: ${which('docker')} (${debianPackageOf(which('docker'))})`,
      `started (no systemd here; ${opts.network ? 'with its bridge networking: host network state restored after' : "the bridge, iptables and ip_forward off so it leaves the host's network alone"}): ${showCommand('dockerd', args)} &   (daemon.json: {})`,
    ];
    e.netOwner = DOCKER_NET;
    await settleAndMeasure(e);
    return e;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Paths Podman creates outside --root/--runroot even with tmp_dir and the network dirs moved (its lock and
 * network-run state): removed after, when they were not there before.
 */
const PODMAN_LEFTOVERS = ['/run/containers/networks', '/run/containers/storage', '/run/containers', '/run/libpod', '/var/lib/containers'];

/** Podman's links: netavark's podman0 (or CNI's cni-podman0) and the veths on it. */
const PODMAN_NET: NetOwner = {
  link: (n, m) => [n, m].some((x) => /^(cni-)?podman\d+$/.test(x)),
  nftTable: () => false, // netavark 1.4 writes iptables (its tables count as the engine's anyway)
};

async function startPodman(opts: EngineOptions): Promise<Engine> {
  if (opts.network && existsSync('/sys/class/net/podman0')) throw new Error('podman0 exists already: not starting Podman with networking');
  const dir = mkdtempSync(join(tmpdir(), 'peti-bench-podman-'));
  const conf = join(dir, 'containers.conf');
  const global = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run')];
  const existedBefore = new Set(PODMAN_LEFTOVERS.filter((p) => existsSync(p)));
  // Always: Podman sets up netavark's iptables chains even for runs and builds that asked for no network.
  const before = snapshotHostNet();
  const stop = async (): Promise<void> => {
    try {
      // Daemonless: nothing to stop; let podman unmount its storage, then make sure.
      await runTimed('podman', [...global, 'system', 'reset', '-f'], { CONTAINERS_CONF: conf }, { check: false, timeoutMs: 60_000 });
    } catch {
      // best effort
    } finally {
      const removed: string[] = [];
      for (const p of PODMAN_LEFTOVERS) {
        if (existedBefore.has(p) || !existsSync(p)) continue;
        removeTree(p);
        removed.push(p);
      }
      if (removed.length) console.log(`podman: removed what it left outside its roots: ${removed.join(', ')}`);
      try {
        undoHostNet('podman', before, PODMAN_NET);
      } finally {
        removeTree(dir);
      }
    }
  };
  try {
    const confText = [
      '[containers]',
      // This host refuses rlimits above its hard limits (DESIGN.md §8); Podman's default asks for 1048576.
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      // No bridge unless asked for: netavark adds iptables rules and a podman0 link (undone at stop), and its default
      // subnet 10.88.0.0/16 is Peti's default too: networked, it gets a free /24 instead.
      ...(opts.network ? [] : ['netns = "none"']),
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${join(dir, 'tmp')}"`,
      '[network]',
      `network_config_dir = "${join(dir, 'networks')}"`,
      ...(opts.network ? ['network_backend = "netavark"', `default_subnet = "${freeSubnet24(process.pid + 8009)}.0/24"`] : []),
      '',
    ].join('\n');
    writeFileSync(conf, confText);
    const e = makeEngine('podman', dir, 'podman', global, { CONTAINERS_CONF: conf }, undefined, () => [], 'no daemon', 'conmon', stop);
    e.version = (await e.cli(['--version'])).stdout.trim();
    const runtime = (await e.cli(['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Version}}'])).stdout.trim().split('\n')[0] ?? '';
    e.setup = [
      `podman: ${debianPackageOf(which('podman'))} (apt-get install podman); conmon: ${debianPackageOf(which('conmon'))}; runtime ${runtime}`,
      `run as: ${showCommand('podman', global, { CONTAINERS_CONF: conf })} ...   (no daemon)`,
      `containers.conf: ${confText.trim().split('\n').join('; ')}`,
    ];
    if (opts.network) e.netOwner = PODMAN_NET;
    return e;
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface EngineOptions {
  /**
   * Real bridge networking for Docker and Podman (default off: the other benches keep the host's network out of
   * their numbers and alone). Peti always has its own bridge and subnet. What an engine changes is undone at stop.
   */
  network?: boolean;
}

export async function startEngine(name: EngineName, opts: EngineOptions = {}): Promise<Engine> {
  switch (name) {
    case 'peti': return startPeti();
    case 'docker': return startDocker(opts);
    case 'podman': return startPodman(opts);
  }
}

/** Only one engine runs at a time in this process: starting a second while one runs is a bug in the bench. */
let running: EngineName | undefined;

/** Start an engine, run fn, and always stop and clean it, also on error or Ctrl-C. */
export async function withEngine<T>(name: EngineName, fn: (e: Engine) => Promise<T>, opts: EngineOptions = {}): Promise<T> {
  if (running) throw new Error(`bench bug: ${name} started while ${running} still runs`);
  running = name;
  let e: Engine | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    void (e?.stop() ?? Promise.resolve()).finally(() => process.kill(process.pid, sig));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    e = await startEngine(name, opts);
    return await fn(e);
  } catch (err) {
    const tail = e?.logTail(20);
    if (tail) console.error(`--- ${name} daemon log (tail) ---\n${tail}`);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      await e?.stop();
    } finally {
      running = undefined;
    }
  }
}

/** "12.3" MiB from KiB, or "n/a". */
export function mib(kib: number | undefined): string {
  return kib === undefined ? 'n/a' : (kib / 1024).toFixed(1);
}
