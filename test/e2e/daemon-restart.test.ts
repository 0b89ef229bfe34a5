/**
 * Live restore: containers run under their own conmon, so they survive petid being killed or stopped; the next
 * petid on the same roots re-adopts them, records exits that happened meanwhile, applies restart policies and
 * AutoRemove, and keeps emitting Docker's events. Everything goes through a real daemon and the docker CLI.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, makeBusybox, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { inspect as inspectBase, removeAll } from '../helpers/containers.js';
import { readAll } from '../../src/client/index.js';

interface Ev { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; time: number; timeNano: number; status?: string; id?: string; from?: string }

type Inspect = Awaited<ReturnType<typeof inspectBase>> & { State: { StartedAt: string; FinishedAt: string } };
const inspect = (d: TestDaemon, id: string): Promise<Inspect> => inspectBase(d, id) as Promise<Inspect>;
const COUNTER = 'i=0; while true; do echo $i; i=$((i+1)); sleep 0.05; done';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const nsParam = (ns: bigint): string => `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('daemon restart: live restore, exits while away, restart policies, events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peti-restart-'));
  let d: TestDaemon;
  /** Every conmon pid we saw, so none outlives the test even if removal fails. */
  const conmons = new Set<number>();

  const remember = (): void => {
    const root = join(dir, 'data', 'containers');
    for (const id of existsSync(root) ? readdirSync(root) : []) {
      try {
        const rec = JSON.parse(readFileSync(join(root, id, 'container.json'), 'utf8')) as { state: { conmonPid: number } };
        if (rec.state.conmonPid) conmons.add(rec.state.conmonPid);
      } catch { /* being written or removed */ }
    }
  };
  /** Kill petid (SIGKILL: a crash; SIGTERM: a clean stop) and start a new one on the same roots. */
  const restart = async (signal: NodeJS.Signals, pauseMs = 0): Promise<number> => {
    remember();
    await d.stop(signal);
    if (pauseMs) await sleep(pauseMs);
    d = await startDaemon({ dir });
    return Date.now();
  };
  const docker = (...args: string[]): string => {
    const r = d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const events = async (since: bigint, filters: Record<string, string[]> = {}): Promise<Ev[]> => {
    const res = await d.client.send('GET', '/events', { query: { since: nsParam(since), until: nsParam(nowNs()), filters: JSON.stringify(filters) } });
    return (await readAll(res)).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
  };

  before(async () => {
    d = await startDaemon({ dir });
    makeBusybox(d);
  });

  after(async () => {
    try {
      if (d.proc.exitCode !== null || d.proc.signalCode !== null) d = await startDaemon({ dir });
      remember();
      await removeAll(d);
      await d.stop('SIGTERM');
    } finally {
      for (const pid of conmons) {
        if (alive(pid) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'conmon') process.kill(pid, 'SIGKILL');
      }
      await d.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGKILL of petid: running containers are re-adopted, manageable, and their logs have no gap', async () => {
    const counter = docker('run', '-d', '--name', 'counter', 'busybox', 'sh', '-c', COUNTER);
    const sleeper = docker('run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '1000');
    const victim = docker('run', '-d', '--name', 'victim', 'busybox', 'sleep', '1000');
    await waitFor(() => docker('logs', 'counter').split('\n').length >= 5, 'counter output');
    const before = await Promise.all([counter, sleeper, victim].map((id) => inspect(d, id)));
    const downFrom = Date.now();
    await restart('SIGKILL', 600);
    for (const [i, id] of [counter, sleeper, victim].entries()) {
      const st = await inspect(d, id);
      assert.equal(st.State.Running, true, st.Name);
      assert.equal(st.State.Pid, before[i]!.State.Pid, `${st.Name} keeps its pid`);
      assert.ok(alive(st.State.Pid));
    }
    // The log kept growing while petid was away, without a gap.
    const nums = docker('logs', 'counter').split('\n').map(Number);
    assert.deepEqual(nums, nums.map((_, i) => i), 'consecutive counter values');
    assert.ok(nums.length - 1 >= Math.floor((Date.now() - downFrom) / 50 / 3), `counter ran on while petid was down (${nums.length})`);
    // logs -f follows new output.
    const follow = spawn('docker', ['logs', '-f', '--tail', '1', 'counter'], { env: { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(dir, 'docker-config') } });
    let out = '';
    follow.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    try {
      const last = nums[nums.length - 1]!;
      await waitFor(() => out.split('\n').some((l) => Number(l) > last + 3), 'logs -f to follow new lines', 5000);
    } finally {
      follow.kill('SIGKILL');
    }
    assert.equal(docker('exec', 'counter', 'echo', 'exec-ok'), 'exec-ok');
    docker('stop', '-t', '1', 'sleeper');
    assert.equal((await inspect(d, sleeper)).State.ExitCode, 137);
    assert.equal(alive(before[1]!.State.Pid), false);
    docker('kill', 'counter');
    await waitFor(async () => (await inspect(d, counter)).State.Status === 'exited', 'counter killed');
    assert.equal((await inspect(d, counter)).State.ExitCode, 137);
    docker('rm', '-f', 'victim', 'counter', 'sleeper');
    assert.equal(alive(before[2]!.State.Pid), false);
    assert.equal(docker('ps', '-aq'), '');
  });

  it('a container that exits while petid is down: its code, FinishedAt, wait, and --rm', async () => {
    const id = docker('run', '-d', '--name', 'away', 'busybox', 'sh', '-c', 'sleep 1; exit 42');
    const rmId = docker('run', '-d', '--rm', '--name', 'away-rm', 'busybox', 'sh', '-c', 'sleep 1; exit 3');
    const rmRec = JSON.parse(readFileSync(join(d.dataRoot, 'containers', rmId, 'container.json'), 'utf8')) as { snapshotKey: string };
    const rootfs = join(d.execRoot, 'containers', rmId, 'rootfs');
    assert.ok(readFileSync('/proc/self/mounts', 'utf8').includes(` ${rootfs} `));
    const started = Date.parse((await inspect(d, id)).State.StartedAt);
    remember();
    await d.stop('SIGKILL');
    await sleep(1500);
    const back = Date.now();
    d = await startDaemon({ dir });
    const t0 = Date.now();
    const w = d.docker(['wait', 'away']);
    assert.equal(w.stdout.trim(), '42');
    assert.ok(Date.now() - t0 < 2000, 'wait answers at once');
    const st = await inspect(d, id);
    assert.equal(st.State.Status, 'exited');
    assert.equal(st.State.ExitCode, 42);
    const fin = Date.parse(st.State.FinishedAt);
    assert.ok(fin >= started + 900 && fin <= back, `FinishedAt is the real exit time, not petid's return (${st.State.FinishedAt})`);
    assert.match(docker('ps', '-a', '--filter', 'name=away', '--format', '{{.Status}}'), /^Exited \(42\) /);
    // The --rm container is gone, with its mount and snapshot.
    await waitFor(async () => (await d.client.send('GET', `/containers/${rmId}/json`).then(() => false, () => true)), '--rm container removed');
    assert.ok(!readFileSync('/proc/self/mounts', 'utf8').includes(` ${rootfs} `), 'rootfs unmounted');
    assert.ok(!readFileSync(join(d.dataRoot, 'snapshots', 'metadata.json'), 'utf8').includes(rmRec.snapshotKey), 'snapshot removed');
    assert.ok(!existsSync(join(d.execRoot, 'containers', rmId)));
    docker('rm', 'away');
  });

  it('restart policies: always backs off 100, 200, 400 ms...; on-failure:2; no; resumes after a crash of petid', async () => {
    const since = nowNs();
    const always = docker('run', '-d', '--name', 'flappy', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1');
    const onFail = docker('run', '-d', '--name', 'twice', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3');
    const no = docker('run', '-d', '--name', 'never', '--restart', 'no', 'busybox', 'sh', '-c', 'exit 1');
    const evs = await waitFor(async () => {
      const e = await events(since, { container: [always], event: ['start', 'die'] });
      return e.filter((x) => x.Action === 'start').length >= 6 ? e : undefined;
    }, 'five restarts', 10_000);
    assert.ok((await inspect(d, always)).RestartCount >= 5);
    const starts = evs.filter((e) => e.Action === 'start').map((e) => e.timeNano / 1e6);
    const dies = evs.filter((e) => e.Action === 'die').map((e) => e.timeNano / 1e6);
    assert.ok(starts.length >= 5 && dies.length >= 5, JSON.stringify(evs.map((e) => e.Action)));
    for (let i = 0; i < 5; i++) {
      const gap = starts[i + 1]! - dies[i]!;
      const want = 100 * 2 ** i;
      assert.ok(gap >= want * 0.9 && gap < want + 250, `back-off ${i}: ${gap.toFixed(0)} ms, want ~${want}`);
    }
    assert.ok(evs.filter((e) => e.Action === 'die').every((e) => e.Actor.Attributes.exitCode === '1'));
    // on-failure:2: two restarts, then it stays down with its last exit code.
    await waitFor(async () => (await inspect(d, onFail)).State.Status === 'exited' && (await inspect(d, onFail)).RestartCount === 2, 'on-failure done', 5000);
    await sleep(500);
    const of = await inspect(d, onFail);
    assert.equal(of.State.Status, 'exited');
    assert.equal(of.RestartCount, 2);
    assert.equal(of.State.ExitCode, 3);
    const nst = await inspect(d, no);
    assert.equal(nst.State.Status, 'exited');
    assert.equal(nst.RestartCount, 0);
    // A crash of petid while `always` waits out its back-off: the restart resumes once petid is back.
    const die = await waitFor(async () => {
      const s = await inspect(d, always);
      return s.State.Status === 'restarting' ? s : undefined;
    }, 'restarting', 5000);
    await restart('SIGKILL');
    await waitFor(async () => (await inspect(d, always)).RestartCount > die.RestartCount, 'restart resumed after petid is back', 10_000);
    assert.equal((await inspect(d, onFail)).RestartCount, 2, 'on-failure stays done across restarts');
    assert.equal((await inspect(d, no)).State.Status, 'exited');
    docker('rm', '-f', 'flappy', 'twice', 'never');
  });

  it('docker stop: always and unless-stopped stay down; a daemon restart brings back always only (SIGTERM keeps others running)', async () => {
    const always = docker('run', '-d', '--name', 'st-always', '--restart', 'always', 'busybox', 'sleep', '1000');
    const unless = docker('run', '-d', '--name', 'st-unless', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000');
    const live = docker('run', '-d', '--name', 'st-live', 'busybox', 'sleep', '1000');
    docker('stop', '-t', '0', 'st-always', 'st-unless');
    await sleep(700);
    assert.equal((await inspect(d, always)).State.Status, 'exited');
    assert.equal((await inspect(d, unless)).State.Status, 'exited');
    const livePid = (await inspect(d, live)).State.Pid;
    // A clean stop of petid leaves containers running (live restore)...
    remember();
    await d.stop('SIGTERM');
    assert.ok(alive(livePid), 'container survives a clean petid stop');
    await sleep(300);
    assert.ok(alive(livePid));
    d = await startDaemon({ dir });
    // ...and the new petid re-adopts them.
    const ls = await inspect(d, live);
    assert.equal(ls.State.Running, true);
    assert.equal(ls.State.Pid, livePid);
    await waitFor(async () => (await inspect(d, always)).State.Running, 'always started again at daemon start', 5000);
    await sleep(300);
    assert.equal((await inspect(d, unless)).State.Status, 'exited', 'unless-stopped stays stopped');
    docker('stop', '-t', '0', 'st-live');
    assert.equal(alive(livePid), false);
    docker('rm', '-f', 'st-always', 'st-unless', 'st-live');
  });

  it('events: Docker shapes for every state change, including after a restart of petid', async () => {
    const since = nowNs();
    const run = d.docker(['run', '--name', 'ev', 'busybox', 'sh', '-c', 'echo hi; exit 2']);
    assert.deepEqual([run.code, run.stdout], [2, 'hi\n'], run.stderr);
    docker('rm', 'ev');
    docker('run', '-d', '--name', 'ev2', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done');
    assert.equal(docker('exec', 'ev2', 'sh', '-c', 'exit 0'), '');
    docker('restart', '-t', '5', 'ev2');
    docker('kill', '-s', 'USR1', 'ev2');
    docker('stop', '-t', '5', 'ev2');
    docker('rm', 'ev2');
    const oom = d.docker(['run', '--name', 'ev-oom', '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'x=$(head -c 64m /dev/zero | tr "\\0" a); echo ${#x}']);
    assert.equal(oom.code, 137, oom.stderr);
    const oomSt = await inspect(d, 'ev-oom');
    assert.equal(oomSt.State.OOMKilled, true);
    docker('rm', 'ev-oom');
    const evs = await events(since, { type: ['container'] });
    const seq = (name: string): string[] => evs.filter((e) => e.Actor.Attributes.name === name).map((e) => e.Action.split(':')[0]!);
    assert.deepEqual(seq('ev'), ['create', 'attach', 'start', 'die', 'destroy']);
    assert.deepEqual(seq('ev2'), ['create', 'start', 'exec_create', 'exec_start', 'exec_die', 'kill', 'die', 'stop', 'start', 'restart', 'kill', 'kill', 'die', 'stop', 'destroy']);
    assert.deepEqual(seq('ev-oom'), ['create', 'attach', 'start', 'oom', 'die', 'destroy']);
    for (const e of evs) {
      assert.equal(e.Type, 'container');
      assert.equal(e.Actor.Attributes.image, 'busybox');
      assert.match(e.Actor.ID, /^[a-f0-9]{64}$/);
      assert.equal(e.id, e.Actor.ID);
      assert.equal(e.from, 'busybox');
      assert.equal(e.time, Math.floor(e.timeNano / 1e9));
    }
    const pick = (name: string, action: string): Ev[] => evs.filter((e) => e.Actor.Attributes.name === name && e.Action.split(':')[0] === action);
    assert.equal(pick('ev', 'die')[0]!.Actor.Attributes.exitCode, '2');
    assert.equal(pick('ev-oom', 'die')[0]!.Actor.Attributes.exitCode, '137');
    assert.deepEqual(pick('ev2', 'kill').map((e) => e.Actor.Attributes.signal), ['15', '10', '15']);
    assert.equal(pick('ev2', 'exec_create')[0]!.Action, 'exec_create: sh -c exit 0');
    assert.equal(pick('ev2', 'exec_die')[0]!.Actor.Attributes.exitCode, '0');
    assert.ok(pick('ev2', 'exec_die')[0]!.Actor.Attributes.execID);
    // After a crash of petid: an exit it missed is reported as die, and later changes as usual.
    const id = docker('run', '-d', '--name', 'ev3', 'busybox', 'sh', '-c', 'sleep 0.5; exit 4');
    await restart('SIGKILL', 800);
    const since2 = nowNs() - 5_000_000_000n;
    docker('rm', 'ev3');
    const after2 = await events(since2, { container: [id] });
    assert.deepEqual(after2.map((e) => e.Action), ['die', 'destroy']);
    assert.equal(after2[0]!.Actor.Attributes.exitCode, '4');
  });
});
