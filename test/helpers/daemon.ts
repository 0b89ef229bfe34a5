/**
 * A real petid for one test file: its own data root, exec root and socket under a fresh temp dir, stopped and
 * cleaned (mounts under its roots, then the dirs) even when the test fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineClient } from '../../src/client/index.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const PETI = join(REPO, 'bin/peti');
export const PETID = join(REPO, 'bin/petid');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestDaemon {
  dir: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  host: string;
  /** The default network's bridge and nft table of this daemon (each test daemon has its own, and its own subnet). */
  bridge: string;
  nftTable: string;
  subnet: string;
  client: EngineClient;
  proc: ChildProcess;
  logs(): string;
  /** Run the peti CLI against this daemon. */
  peti(args: string[], opts?: { input?: string | Buffer; env?: Record<string, string> }): RunResult;
  /** Run the real docker CLI against this daemon. */
  docker(args: string[], opts?: { input?: string | Buffer }): RunResult;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  cleanup(): Promise<void>;
}

export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function run(cmd: string, args: string[], env: Record<string, string>, input?: string | Buffer): RunResult {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, input, maxBuffer: 512 * 1024 * 1024, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '' };
}

/** Unmount everything mounted under dir, deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')));
  for (const m of mounts.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
}

/**
 * A bridge name and /24 of 10.100-249.x.0 derived from the test dir, so a restarted daemon (same dir) finds its
 * network again and concurrent test daemons (and the host's peti0) never share one.
 */
export function testNetwork(dir: string): { bridge: string; bip: string; subnet: string } {
  const h = createHash('sha256').update(dir).digest();
  const a = 100 + (h[0]! % 150);
  const b = h[1]!;
  return { bridge: `pt${h.subarray(2, 5).toString('hex')}`, bip: `10.${a}.${b}.1/24`, subnet: `10.${a}.${b}.0/24` };
}

/** Remove what a test daemon made on the host: its bridges (default and user networks) and its nft table. */
export function cleanupNetwork(dataRoot: string, bridge: string, table: string): void {
  const bridges = new Set([bridge]);
  try {
    for (const f of readdirSync(join(dataRoot, 'networks'))) {
      if (!f.endsWith('.json')) continue;
      const b = (JSON.parse(readFileSync(join(dataRoot, 'networks', f), 'utf8')) as { bridge?: string }).bridge;
      if (b) bridges.add(b);
    }
  } catch {
    // no network state
  }
  for (const b of bridges) if (existsSync(`/sys/class/net/${b}`)) spawnSync('ip', ['link', 'del', b]);
  spawnSync('nft', ['delete', 'table', 'ip', table]);
}

export async function startDaemon(opts: { dir?: string; args?: string[] } = {}): Promise<TestDaemon> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'peti-test-'));
  const given = opts.args ?? [];
  const net = testNetwork(dir);
  const bridge = given.includes('--bridge') ? given[given.indexOf('--bridge') + 1]! : net.bridge;
  const netArgs = [...(given.includes('--bridge') ? [] : ['--bridge', net.bridge]), ...(given.includes('--bip') ? [] : ['--bip', net.bip])];
  const nftTable = bridge === 'peti0' ? 'peti' : `peti_${bridge.replace(/[^a-zA-Z0-9_]/g, '_')}`;
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'exec');
  const socket = join(dir, 'peti.sock');
  const host = `unix://${socket}`;
  let log = '';
  const proc = spawn(process.execPath, [PETID, '--data-root', dataRoot, '--exec-root', execRoot, '-H', host, '--log-level', 'debug', ...netArgs, ...given], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  let exited: number | null | undefined;
  proc.on('exit', (c) => { exited = c; });
  const client = new EngineClient(host);
  const d: TestDaemon = {
    dir, dataRoot, execRoot, socket, host, client, proc, bridge, nftTable, subnet: net.subnet,
    logs: () => log,
    peti: (args, o = {}) => run(process.execPath, [PETI, ...args], { PETI_HOST: host, ...o.env }, o.input),
    docker: (args, o = {}) => run('docker', args, { DOCKER_HOST: host, DOCKER_CONFIG: join(dir, 'docker-config') }, o.input),
    stop: async (signal = 'SIGTERM') => {
      if (exited !== undefined) return exited;
      const done = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
      proc.kill(signal);
      return done;
    },
    cleanup: async () => {
      await d.stop();
      unmountUnder(dir);
      cleanupNetwork(dataRoot, bridge, nftTable);
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(async () => {
      if (exited !== undefined) throw new Error(`petid exited early (${exited}):\n${log}`);
      if (!existsSync(socket)) return false;
      try {
        (await client.send('GET', '/_ping')).resume();
        return true;
      } catch {
        return false;
      }
    }, 'petid to answer');
  } catch (e) {
    await d.cleanup();
    throw e;
  }
  return d;
}

/** Import the built-in busybox image into this daemon (the same script the quick start uses). */
export function makeBusybox(d: TestDaemon, tag = 'busybox:latest'): void {
  const r = spawnSync('bash', [join(REPO, 'scripts/make-busybox.sh')], { env: { ...process.env, PETI_HOST: d.host, PETI_BUSYBOX_TAG: tag } });
  if (r.status !== 0) throw new Error(`make-busybox failed: ${r.stderr.toString()}`);
}

/**
 * The sandboxes petid keeps ready on its default bridge (network namespaces under `<exec-root>/netns` with a veth on
 * the bridge, not containers), read from its network records: `ids` name the namespace files, `veths` the bridge
 * ports. What a leak check must allow for, and nothing else.
 */
export function pooledSandboxes(d: TestDaemon): { ids: string[]; veths: string[] } {
  const dir = join(d.dataRoot, 'networks');
  const ids: string[] = [];
  const veths: string[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { endpoints: Record<string, { pool?: boolean; hostIf: string }> };
    for (const [id, ep] of Object.entries(rec.endpoints)) {
      if (ep.pool !== true) continue;
      ids.push(id);
      veths.push(ep.hostIf);
    }
  }
  return { ids: ids.sort(), veths: veths.sort() };
}
