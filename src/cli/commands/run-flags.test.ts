/**
 * Create bodies compared with what the real docker CLI sends for the same flags: each case runs `docker create`
 * against a logging unix-socket server (skipped when docker is not on PATH), plus fixed expectations that hold
 * without docker.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../args.js';
import { CONTAINER_FLAGS, RUN_ONLY_FLAGS, buildCreate, parseMount, parsePortSpec, parseKeyValueFile } from './run-flags.js';

const dir = mkdtempSync(join(tmpdir(), 'peti-runflags-'));
const ENV: Record<string, string> = { HOME: '/root', B: 'bee', PATH: process.env.PATH ?? '/usr/bin:/bin' };
writeFileSync(join(dir, 'envf'), 'A=1\n# comment\nB\n\n  C=x y\nUNSET_VAR\n');
writeFileSync(join(dir, 'lblf'), 'l1=v1\nl2\n');

function ours(args: string[], detach = false): { body: unknown; query: Record<string, string | undefined> } {
  const p = parseFlags(args, [...CONTAINER_FLAGS, ...RUN_ONLY_FLAGS], false);
  const r = buildCreate(p, { env: (n) => ENV[n], readFile: (f) => readFileSync(join(dir, f), 'utf8'), cwd: dir, detach });
  return { body: r.body, query: { name: r.query.name, platform: r.query.platform } };
}

after(() => rmSync(dir, { recursive: true, force: true }));

const haveDocker = spawnSync('docker', ['--version']).status === 0;

describe('run flags → create body, compared with docker 28', { skip: !haveDocker && 'docker CLI not on PATH' }, () => {
  let server: Server;
  const sock = join(dir, 'docker.sock');
  const seen: { last?: { url: string; body: string } } = {};
  before(async () => {
    server = createServer((req, res) => {
      let b = '';
      req.on('data', (d: Buffer) => { b += d.toString(); });
      req.on('end', () => {
        res.setHeader('Api-Version', '1.50');
        res.setHeader('Ostype', 'linux');
        if (req.url?.includes('/containers/create')) {
          seen.last = { url: req.url, body: b };
          res.writeHead(201, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ Id: 'a'.repeat(64), Warnings: [] }));
          return;
        }
        if (req.url === '/_ping') return void res.end('OK');
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"message":"not here"}');
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
  });
  after(() => {
    server.close();
  });

  async function docker(args: string[]): Promise<{ body: unknown; query: Record<string, string | undefined> }> {
    seen.last = undefined;
    const child = spawn('docker', args, { cwd: dir, env: { ...ENV, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, 'cfg') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    await new Promise((r) => child.on('close', r));
    const last = seen.last as { url: string; body: string } | undefined;
    assert.ok(last, `docker sent no create request: ${err}`);
    const u = new URL(last.url, 'http://x');
    return { body: JSON.parse(last.body) as unknown, query: { name: u.searchParams.get('name') ?? undefined, platform: u.searchParams.get('platform') ?? undefined } };
  }

  const cases: string[][] = [
    ['busybox'],
    ['busybox', 'echo', 'hi'],
    ['-i', '-t', 'busybox', 'sh'],
    ['-e', 'A=1', '-e', 'HOME', '-e', 'NOPE', '-w', '/tmp', '-u', '1:2', '--name', 'foo', '--entrypoint', '', 'busybox'],
    ['--entrypoint', '/bin/sh -c', '--restart', 'on-failure:3', 'busybox', 'sh', '-c', 'exit 3'],
    ['-m', '512m', '--memory-swap', '1g', '--memory-reservation', '256m', '--cpus', '1.5', '-c', '512', '--cpu-quota', '5000', '--cpu-period', '100000', '--cpuset-cpus', '0-1', '--cpuset-mems', '0', '--pids-limit', '100', 'busybox'],
    ['--memory-swap', '-1', '--pids-limit', '-1', '--cpus', '0.001', '--shm-size', '64m', 'busybox'],
    ['--read-only', '--cap-add', 'NET_ADMIN', '--cap-add', 'sys_admin', '--cap-drop', 'ALL', '--privileged', '--init', 'busybox'],
    ['--cap-add', 'all', '--cap-drop', 'chown', '--cap-add', 'CHOWN', 'busybox'],
    ['--init=false', '--oom-kill-disable', '--oom-score-adj', '5', 'busybox'],
    ['-v', '/a:/b:ro', 'busybox'],
    ['-v', '/c', 'busybox'],
    ['-v', './rel:/d', 'busybox'],
    ['--tmpfs', '/run:size=1m', '--tmpfs', '/x', 'busybox'],
    ['--mount', 'type=bind,src=/x,dst=/y,readonly,bind-propagation=rshared', '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777', '--mount', 'type=volume,source=v,target=/v', 'busybox'],
    ['--mount', 'type=bind,source=/s,target=/d,ro=true', '--mount', 'type=tmpfs,dst=/q', '--mount', 'target=/anon,volume-nocopy', 'busybox'],
    ['-l', 'a=b', '-l', 'x', '--label-file', 'lblf', '--env-file', 'envf', '-e', 'A=2', 'busybox'],
    ['-h', 'host', '--domainname', 'dom', '--add-host', 'h:1.2.3.4', '--ulimit', 'nofile=1024:2048', '--security-opt', 'no-new-privileges', 'busybox'],
    ['--stop-signal', 'SIGKILL', '--stop-timeout', '5', '--network', 'none', '--device', '/dev/null:/dev/mynull:rw', '--device', '/dev/fuse', '--device', '/dev/zero:r', 'busybox'],
    ['--stop-timeout', '0', '--net', 'host', '--sysctl', 'net.ipv4.ip_forward=1', '--group-add', '10', '--group-add', 'audio', 'busybox'],
    ['--platform', 'linux/amd64', '--runtime', 'crun', '--pid', 'host', '--ipc', 'host', '--uts', 'host', '--cidfile', 'cid', 'busybox'],
    ['-p', '8080:80', '-p', '127.0.0.1:53:53/udp', '-P', '--expose', '90', '--expose', '7000-7001/udp', 'busybox'],
    ['-p', '80', '-p', '1000-1001:2000-2001', '-p', '9000-9005:443', 'busybox'],
    ['--rm', '-a', 'stdout', '-a', 'stdin', 'busybox'],
    ['--rm', '-i', 'busybox', 'cat'],
    ['-a', 'stderr', '--ulimit', 'nproc=10', 'busybox'],
    ['--health-cmd', 'true', '--health-interval', '1m30s', '--health-retries', '3', '--health-timeout', '500ms', '--health-start-period', '2s', 'busybox'],
    ['--no-healthcheck', '--log-driver', 'json-file', '--log-opt', 'max-size=1m', '--dns', '1.1.1.1', '--dns-search', 'x', '--dns-option', 'ndots:1', 'busybox'],
    ['--network', 'mynet', '--network-alias', 'web', '--ip', '10.0.0.5', 'busybox'],
    ['--userns', 'host', '--cgroupns', 'private', '--cgroup-parent', '/p', '--memory-swappiness', '10', '--blkio-weight', '300', 'busybox'],
  ];
  // docker sends the -e values after the --env-file lines but in Go map order (it varies run to run): compare sorted.
  const sortEnv = (r: { body: unknown; query: unknown }): { body: unknown; query: unknown } => {
    const b = r.body as { Env?: string[] | null };
    return { ...r, body: { ...b, Env: b.Env ? [...b.Env].sort() : b.Env } };
  };
  for (const args of cases) {
    it(`create ${args.join(' ')}`, async () => {
      rmSync(join(dir, 'cid'), { force: true });
      const theirs = await docker(['create', ...args]);
      assert.deepStrictEqual(sortEnv(ours(args)), sortEnv(theirs));
    });
  }
  it('run -d detaches every stream', async () => {
    const theirs = await docker(['run', '-d', '-i', 'busybox']);
    assert.deepStrictEqual(ours(['-d', '-i', 'busybox'], true), theirs);
  });
});

describe('run flag parsers', () => {
  it('port specs', () => {
    assert.deepStrictEqual(parsePortSpec('80'), [{ port: '80/tcp', binding: { HostIp: '', HostPort: '' } }]);
    assert.deepStrictEqual(parsePortSpec('[::1]:8080:80/udp'), [{ port: '80/udp', binding: { HostIp: '::1', HostPort: '8080' } }]);
    assert.throws(() => parsePortSpec('1-3:5-6'), /invalid ranges/);
  });
  it('mounts', () => {
    assert.deepStrictEqual(parseMount('type=tmpfs,dst=/t,tmpfs-mode=0700'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { Mode: 0o700 } });
    assert.throws(() => parseMount('type=bind,src=/a'), /target is required/);
    assert.throws(() => parseMount('type=volume,target=/a,bind-propagation=shared'), /cannot mix/);
  });
  it('env files', () => {
    assert.deepStrictEqual(parseKeyValueFile('A=1\n#x\nB\nC\n', 'f', (n) => (n === 'B' ? 'b' : undefined)), ['A=1', 'B=b']);
    assert.throws(() => parseKeyValueFile('A B=1\n', 'f'), /whitespaces/);
  });
  it('env files come before -e, in order', () => {
    const b = ours(['--env-file', 'envf', '-e', 'A=2', '-e', 'Z', 'busybox']).body as { Env: string[] };
    assert.deepStrictEqual(b.Env, ['A=1', 'B=bee', 'C=x y', 'A=2', 'Z']);
  });
  it('health flags: durations in ns, --no-healthcheck alone', () => {
    const b = ours(['--health-cmd', 'true', '--health-interval', '200ms', '--health-start-interval', '1s', '--health-retries', '2', 'busybox']).body as { Healthcheck: Record<string, unknown> };
    assert.deepStrictEqual(b.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 200_000_000, StartInterval: 1_000_000_000, Retries: 2 });
    assert.deepStrictEqual((ours(['--no-healthcheck', 'busybox']).body as { Healthcheck: unknown }).Healthcheck, { Test: ['NONE'] });
    assert.throws(() => ours(['--no-healthcheck', '--health-cmd', 'true', 'busybox']), /--no-healthcheck conflicts with --health-\* options/);
    assert.throws(() => ours(['--health-retries', '-1', 'busybox']), /--health-retries cannot be negative/);
  });
  it('restart with --rm conflicts', () => {
    assert.throws(() => ours(['--rm', '--restart', 'always', 'busybox']), /Conflicting options/);
    assert.throws(() => ours(['-d', '-a', 'stdout', 'busybox'], true), /Conflicting options: -a and -d/);
  });
});
