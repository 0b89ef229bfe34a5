/** Starting and stopping registry servers for the tests: ours from dist/, Debian's docker-registry. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../helpers/net.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const REGISTRY_BUNDLE = join(REPO, 'dist/peti-registry.js');

export interface RunningServer {
  url: string;
  proc: ChildProcess;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function track(proc: ChildProcess): { logs: () => string; stop: (s?: NodeJS.Signals) => Promise<void> } {
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
  return {
    logs: () => out,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** Builds dist/ when the bundle is missing (the test runner builds before e2e tests). */
export function ensureBundle(): void {
  if (existsSync(REGISTRY_BUNDLE)) return;
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
}

/** `peti registry serve` on 127.0.0.1 with a free port; resolves with the URL it prints. */
export async function startPetiRegistry(root: string, args: string[] = []): Promise<RunningServer> {
  ensureBundle();
  const proc = spawn(process.execPath, [REGISTRY_BUNDLE, 'serve', '--addr', '127.0.0.1:0', '--root', root, '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const t = track(proc);
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`registry did not start:\n${t.logs()}`)), 10000);
    proc.stdout!.on('data', () => {
      const m = /listening on (\S+)/.exec(t.logs());
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`registry exited with ${code}:\n${t.logs()}`));
    });
  });
  return { url, proc, ...t };
}

export { freePort };

/** Installs Debian's docker-registry when missing; returns a reason string when it cannot. */
export function ensureDockerRegistry(): string | undefined {
  const has = (): boolean => spawnSync('sh', ['-c', 'command -v docker-registry'], { stdio: 'ignore' }).status === 0;
  if (has()) return undefined;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 120_000 });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'docker-registry'], { encoding: 'utf8', env, timeout: 300_000 });
  if (has()) return undefined;
  return `docker-registry is not installed and apt-get failed (${r.status}): ${(r.stderr ?? '').trim().split('\n').pop() ?? ''}`;
}

/** Debian's docker-registry (distribution 2.8) on 127.0.0.1 with filesystem storage in a temp dir. */
export async function startDockerRegistry(dir: string, htpasswd?: string): Promise<RunningServer> {
  const port = await freePort();
  const auth = htpasswd ? `auth:\n  htpasswd:\n    realm: docker-registry\n    path: ${htpasswd}\n` : '';
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
${auth}`);
  const proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const t = track(proc);
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited:\n${t.logs()}`);
    const ok = await fetch(`${url}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (ok) break;
    if (Date.now() > end) throw new Error(`docker-registry did not start:\n${t.logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, proc, ...t };
}
