// Runs real containers (crun through conmon) from a tiny busybox rootfs. Needs root, conmon, crun, busybox-static.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Internal, NotFound, Unavailable } from '../../lib/errors.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import { ConmonRuntime, parseK8sLogLine, signalNumber, waitExitFile } from './conmon.js';
import { hostRlimits, parseLimits, prepareHost } from './host.js';
import type { AttachStreams, OciProcess, OciSpec } from './types.js';

const CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
const APPLETS = ['sh', 'echo', 'cat', 'sleep', 'true', 'false', 'stty', 'tty'];
const CGROUP_ROOT = '/sys/fs/cgroup';

const T = { timeout: 30_000 };
const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/conmon') && existsSync('/usr/bin/crun') && existsSync('/bin/busybox');

/** Poll a condition (no fixed sleeps): resolves with the first truthy value. */
async function waitFor<T>(f: () => Promise<T | undefined | false> | T | undefined | false, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function collect(s: AttachStreams): Promise<{ out: string; err: string }> {
  let out = ''; let err = '';
  for await (const f of s.output) {
    if (f.stream === 1) out += f.data.toString('utf8'); else err += f.data.toString('utf8');
  }
  return { out, err };
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** One test world: temp dirs, a cgroup parent, and everything to undo. */
class World {
  readonly dir = mkdtempSync(join(tmpdir(), 'peti-conmon-'));
  readonly execRoot = join(this.dir, 'run');
  readonly rootfs = join(this.dir, 'rootfs');
  readonly exitDir = join(this.dir, 'exits');
  readonly cgroupParent = `peti-test-${randomBytes(4).toString('hex')}`;
  readonly rt = new ConmonRuntime({
    execRoot: this.execRoot, log: process.env['PETI_TEST_DEBUG'] ? createLogger('debug') : silentLogger,
    conmonCgroup: `/${this.cgroupParent}/conmon`,
  });
  private readonly ids: string[] = [];
  private readonly conmons: number[] = [];
  private n = 0;

  constructor() {
    mkdirSync(join(this.rootfs, 'bin'), { recursive: true });
    for (const d of ['proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(this.rootfs, d));
    copyFileSync('/bin/busybox', join(this.rootfs, 'bin/busybox'));
    for (const a of APPLETS) symlinkSync('busybox', join(this.rootfs, 'bin', a));
  }

  /** A bundle whose config runs `args`; the shared rootfs is referenced by absolute path. */
  bundle(args: string[], tty = false): { id: string; bundle: string; persist: string; logPath: string } {
    const id = `t${process.pid}-${this.n++}-${randomBytes(3).toString('hex')}`;
    const bundle = join(this.dir, 'b', id);
    mkdirSync(bundle, { recursive: true });
    const lim = hostRlimits();
    const spec: OciSpec = {
      ociVersion: '1.0.2',
      process: {
        terminal: tty, user: { uid: 0, gid: 0 }, args, env: ['PATH=/bin', 'TERM=xterm'], cwd: '/',
        capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, inheritable: [], ambient: [] },
        rlimits: [{ type: 'RLIMIT_NOFILE', hard: Math.min(1024, lim.nofile), soft: Math.min(1024, lim.nofile) }],
        noNewPrivileges: true,
      },
      root: { path: this.rootfs },
      hostname: 'peti-test',
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
        { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      ],
      linux: {
        namespaces: ['pid', 'ipc', 'uts', 'mount', 'network'].map((type) => ({ type })),
        cgroupsPath: `/${this.cgroupParent}/${id}`,
      },
    };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    this.ids.push(id);
    return { id, bundle, persist: join(this.dir, 'persist', id), logPath: join(this.dir, 'logs', `${id}.log`) };
  }

  async create(args: string[], o: { tty?: boolean; stdin?: boolean } = {}): Promise<{ id: string; bundle: string; persist: string; logPath: string; pid: number; conmonPid: number }> {
    const b = this.bundle(args, o.tty ?? false);
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    const r = await this.rt.create({
      id: b.id, name: b.id, bundle: b.bundle, logPath: b.logPath, exitDir: this.exitDir, persistDir: b.persist,
      tty: o.tty ?? false, stdin: o.stdin ?? false,
    });
    this.conmons.push(r.conmonPid);
    return { ...b, pid: r.pid, conmonPid: r.conmonPid };
  }

  track(conmonPid: number, id?: string): void {
    this.conmons.push(conmonPid);
    if (id !== undefined) this.ids.push(id);
  }

  exitCode(id: string): Promise<number> { return waitExitFile(this.exitDir, id); }

  async cleanup(): Promise<void> {
    for (const id of this.ids) {
      spawnSync('crun', ['--root', this.rt.stateRoot(), 'delete', '-f', id], { stdio: 'ignore' });
    }
    for (const pid of this.conmons) {
      // Only our conmon: the pid may have been reused once it exited.
      let comm = '';
      try { comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { /* gone */ }
      if (comm === 'conmon') { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    for (const ctrl of readdirSync(CGROUP_ROOT)) {
      const p = join(CGROUP_ROOT, ctrl, this.cgroupParent);
      if (existsSync(p)) await waitFor(() => rmCgroup(p), `removal of ${p}`, 5000).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** rmdir a cgroup tree depth-first; false while a member process is still exiting. */
function rmCgroup(p: string): boolean {
  try {
    for (const e of readdirSync(p, { withFileTypes: true })) if (e.isDirectory()) rmCgroup(join(p, e.name));
    rmdirSync(p);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

describe('k8s-file log lines', () => {
  it('parses full and partial records', () => {
    assert.deepEqual(parseK8sLogLine('2024-01-02T03:04:05.123456789+00:00 stdout F hello world'),
      { time: '2024-01-02T03:04:05.123456789+00:00', stream: 'stdout', partial: false, text: 'hello world' });
    assert.equal(parseK8sLogLine('2024-01-02T03:04:05Z stderr P part')?.partial, true);
    assert.equal(parseK8sLogLine('2024-01-02T03:04:05Z stdout F ')?.text, '');
    assert.equal(parseK8sLogLine('garbage'), undefined);
  });
  it('normalises signals', () => {
    assert.equal(signalNumber('SIGTERM'), 15);
    assert.equal(signalNumber('kill'), 9);
    assert.equal(signalNumber(2), 2);
    assert.equal(signalNumber('10'), 10);
    assert.throws(() => signalNumber('SIGNOPE'));
    assert.throws(() => signalNumber(0));
  });
  it('reads hard limits', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max processes             96365                96365                processes \n' +
      'Max open files            1024                 20000                files     \n';
    assert.deepEqual(parseLimits(text), { nofile: 20000, nproc: 96365 });
    const own = hostRlimits();
    assert.ok(own.nofile > 0 && own.nproc > 0);
  });
});

describe('ConmonRuntime with real containers', { skip: !canRun && 'needs root, conmon, crun and busybox' }, () => {
  let w: World;
  before(async () => {
    const host = await prepareHost(silentLogger);
    assert.deepEqual(host.warnings, []);
    const again = await prepareHost(silentLogger);
    assert.equal(again.cgroupVersion, host.cgroupVersion);
    w = new World();
  });
  after(async () => { await w?.cleanup(); });

  it('create + start: exit code via the exit file, stdout/stderr in the k8s-file log', T, async () => {
    const c = await w.create(['sh', '-c', 'echo out1; echo err1 >&2; exit 3']);
    assert.ok(c.pid > 0);
    // conmon leaves petid's cgroups for its own, in every hierarchy (moments after create: the move is not awaited).
    const inOwn = (): string[] | undefined => {
      const cg = readFileSync(`/proc/${c.conmonPid}/cgroup`, 'utf8').trim().split('\n');
      return cg.length > 0 && cg.every((l) => l.endsWith(`:/${w.cgroupParent}/conmon`)) ? cg : undefined;
    };
    await waitFor(inOwn, 'conmon in its cgroup', 2000).catch(() => undefined);
    assert.ok(inOwn(), readFileSync(`/proc/${c.conmonPid}/cgroup`, 'utf8').trim().split('\n').join(' | '));
    await w.rt.start(c.id);
    assert.equal(await w.exitCode(c.id), 3);
    assert.equal(readFileSync(join(c.persist, 'exit'), 'utf8').trim(), '3');
    const recs = await waitFor(() => {
      const lines = readFileSync(c.logPath, 'utf8').split('\n').filter(Boolean).map((l) => parseK8sLogLine(l));
      return lines.length >= 2 ? lines : undefined;
    }, 'log lines');
    assert.ok(recs.some((r) => r?.stream === 'stdout' && r.text === 'out1' && !r.partial));
    assert.ok(recs.some((r) => r?.stream === 'stderr' && r.text === 'err1'));
    await w.rt.delete(c.id);
    assert.equal(await w.rt.state(c.id), undefined);
  });

  it('create fails with the runtime message', T, async () => {
    await assert.rejects(w.create(['/nope']), (e: Error) => /nope|No such file|executable/i.test(e.message));
    const b = w.bundle(['true']);
    const base = { id: b.id, name: b.id, bundle: b.bundle, logPath: b.logPath, exitDir: w.exitDir, persistDir: b.persist, tty: false, stdin: false };
    // A monitor that exits without a word must not hang create (its child handle is unref'd).
    const mute = new ConmonRuntime({ execRoot: w.execRoot, log: silentLogger, conmonPath: '/bin/true' });
    await assert.rejects(mute.create(base), Internal);
    const missing = new ConmonRuntime({ execRoot: w.execRoot, log: silentLogger, conmonPath: '/nonexistent/conmon' });
    await assert.rejects(missing.create(base), Unavailable);
  });

  it('state transitions, pause/resume, delete of the absent', T, async () => {
    const c = await w.create(['sleep', '1000']);
    assert.equal((await w.rt.state(c.id))?.status, 'created');
    await w.rt.start(c.id);
    const st = await w.rt.state(c.id);
    assert.equal(st?.status, 'running');
    assert.equal(st?.pid, c.pid);
    await w.rt.pause(c.id);
    assert.equal((await w.rt.state(c.id))?.status, 'paused');
    await w.rt.resume(c.id);
    assert.equal((await w.rt.state(c.id))?.status, 'running');
    await w.rt.kill(c.id, 9);
    assert.equal(await w.exitCode(c.id), 137);
    await waitFor(async () => (await w.rt.state(c.id))?.status === 'stopped', 'stopped');
    await w.rt.delete(c.id);
    assert.equal(await w.rt.state(c.id), undefined);
    await w.rt.delete(c.id);
    await w.rt.delete('never-existed', true);
    await assert.rejects(w.rt.kill('never-existed', 'SIGTERM'), NotFound);
  });

  it('kill with SIGTERM (trapped) and KILL by name', T, async () => {
    const a = await w.create(['sh', '-c', 'trap "exit 42" TERM; sleep 1000 & wait']);
    const b = await w.create(['sleep', '1000']);
    await w.rt.start(a.id);
    await w.rt.start(b.id);
    // The trap must be installed before the signal: poll for the child sleep.
    await waitFor(() => existsSync(`/proc/${a.pid}/task`) && readFileSync(`/proc/${a.pid}/task/${a.pid}/children`, 'utf8').trim() !== '', 'sleep child');
    await w.rt.kill(a.id, 'SIGTERM');
    await w.rt.kill(b.id, 'KILL');
    assert.equal(await w.exitCode(a.id), 42);
    assert.equal(await w.exitCode(b.id), 137);
    await w.rt.delete(a.id);
    await w.rt.delete(b.id);
  });

  it('attach before start receives all output of a short-lived TTY container', T, async () => {
    for (let i = 0; i < 5; i++) {
      const c = await w.create(['sh', '-c', `echo hello-tty-${i}`], { tty: true });
      const s = await w.rt.attach(c.bundle, { stdin: false });
      await w.rt.start(c.id);
      const { out } = await collect(s);
      assert.match(out, new RegExp(`hello-tty-${i}\\r\\n`));
      assert.equal(await w.exitCode(c.id), 0);
      await w.rt.delete(c.id);
    }
  });

  it('stdin through attach; half-close gives EOF', T, async () => {
    const c = await w.create(['cat'], { stdin: true });
    const s = await w.rt.attach(c.bundle, { stdin: true });
    await w.rt.start(c.id);
    const got = collect(s);
    await s.write(Buffer.from('ping\n'));
    const big = Buffer.alloc(20_000, 'x');
    await s.write(big);
    s.closeStdin();
    const { out, err } = await got;
    assert.equal(out, 'ping\n' + big.toString());
    assert.equal(err, '');
    assert.equal(await w.exitCode(c.id), 0);
    await w.rt.delete(c.id);
  });

  it('resize is visible inside a TTY container', T, async () => {
    const c = await w.create(['sh', '-c', 'read x; stty size'], { tty: true, stdin: true });
    const s = await w.rt.attach(c.bundle, { stdin: true });
    await w.rt.start(c.id);
    const got = collect(s);
    await w.rt.resize(c.bundle, 41, 107);
    await s.write(Buffer.from('go\n'));
    const { out } = await got;
    assert.match(out, /41 107/);
    assert.equal(await w.exitCode(c.id), 0);
    await w.rt.delete(c.id);
    await assert.rejects(w.rt.resize(c.bundle, 1, 1));
  });

  it('exec: exit code and separated output; detached exec; TTY exec', T, async () => {
    const c = await w.create(['sleep', '1000']);
    await w.rt.start(c.id);
    const proc = (args: string[], terminal = false): OciProcess => ({
      terminal, user: { uid: 0, gid: 0 }, args, env: ['PATH=/bin', 'TERM=xterm'], cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, inheritable: [], ambient: [] },
    });
    const execDir = (n: string): string => join(w.dir, 'exec', n);

    const e1 = await w.rt.exec({ containerId: c.id, execId: 'e1', dir: execDir('e1'), process: proc(['sh', '-c', 'echo out; echo err >&2; exit 5']), tty: false, stdin: false });
    assert.ok(e1.pid > 0 && e1.streams);
    const o1 = await collect(e1.streams);
    assert.deepEqual(o1, { out: 'out\n', err: 'err\n' });
    assert.equal(await e1.exited, 5);

    const e2 = await w.rt.exec({ containerId: c.id, execId: 'e2', dir: execDir('e2'), process: proc(['sh', '-c', 'exit 4']), tty: false, stdin: false, attach: false });
    assert.equal(e2.streams, undefined);
    assert.equal(await e2.exited, 4);
    // Conmon names an exec's exit file after the container, not the exec.
    assert.equal(await waitExitFile(join(execDir('e2'), 'exits'), c.id), 4);

    const e3 = await w.rt.exec({ containerId: c.id, execId: 'e3', dir: execDir('e3'), process: proc(['sh', '-c', 'read x; tty; stty size'], true), tty: true, stdin: true });
    assert.ok(e3.streams);
    const o3 = collect(e3.streams);
    await e3.resize(33, 99);
    await e3.streams.write(Buffer.from('go\n'));
    const { out } = await o3;
    assert.match(out, /\/dev\/pts\/\d+\r\n33 99\r\n/);
    assert.equal(await e3.exited, 0);

    const e4 = await w.rt.exec({ containerId: c.id, execId: 'e4', dir: execDir('e4'), process: proc(['cat']), tty: false, stdin: true });
    assert.ok(e4.streams);
    const o4 = collect(e4.streams);
    await e4.streams.write(Buffer.from('via exec\n'));
    e4.streams.closeStdin();
    assert.equal((await o4).out, 'via exec\n');
    assert.equal(await e4.exited, 0);

    await w.rt.kill(c.id, 'SIGKILL');
    assert.equal(await w.exitCode(c.id), 137);
    await w.rt.delete(c.id);
  });

  it('container, exec and their conmons survive SIGKILL of the attached Node process that created them', T, async () => {
    const go = `/tmp/go-${process.pid}`;
    // The container waits for its own file (made after the exec exited): when init exits, the kernel kills every
    // other process of the pid namespace, which would race the exec's own exit.
    const b = w.bundle(['sh', '-c', `while [ ! -e ${go}.ctr ]; do echo tick; sleep 0.02; done; exit 7`]);
    const execDir = join(w.dir, 'exec', 'survivor');
    const script = join(w.dir, 'child.mjs');
    const mod = pathToFileURL(join(import.meta.dirname, 'conmon.ts')).href;
    const caps = { bounding: CAPS, effective: CAPS, permitted: CAPS, inheritable: [], ambient: [] };
    const execProc: OciProcess = {
      user: { uid: 0, gid: 0 }, cwd: '/', env: ['PATH=/bin'], capabilities: caps,
      args: ['sh', '-c', `while [ ! -e ${go} ]; do echo etick; sleep 0.02; done; exit 6`],
    };
    // The child stays attached to both the container and the exec (conmon keeps writing to those sockets and to the
    // exec's sync pipe after the child is gone).
    writeFileSync(script, `
      const { ConmonRuntime } = await import(${JSON.stringify(mod)});
      const log = { debug() {}, info() {}, warn() {}, error() {}, child() { return log; } };
      const rt = new ConmonRuntime({ execRoot: ${JSON.stringify(w.execRoot)}, log });
      const r = await rt.create(${JSON.stringify({ id: b.id, name: b.id, bundle: b.bundle, logPath: b.logPath, exitDir: w.exitDir, persistDir: b.persist, tty: false, stdin: false })});
      const s = await rt.attach(${JSON.stringify(b.bundle)}, { stdin: false });
      await rt.start(${JSON.stringify(b.id)});
      const e = await rt.exec({ containerId: ${JSON.stringify(b.id)}, execId: 'survivor', dir: ${JSON.stringify(execDir)}, process: ${JSON.stringify(execProc)}, tty: false, stdin: false });
      let n = 0;
      for await (const f of s.output) if (++n === 3) process.stdout.write(JSON.stringify(r) + '\\n');
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes('\n')) resolve(buf.split('\n')[0]!); });
        child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      const r = JSON.parse(line) as { pid: number; conmonPid: number };
      w.track(r.conmonPid);
      const execConmon = Number(readFileSync(join(execDir, 'conmon.pid'), 'utf8'));
      w.track(execConmon);
      const gone = new Promise((res) => child.once('exit', res));
      child.kill('SIGKILL');
      await gone;
      const ticks = (): number => readFileSync(b.logPath, 'utf8').split('\n').filter((l) => l.endsWith(' tick')).length;
      const seen = ticks();
      await waitFor(() => ticks() > seen + 5, 'log lines written after the kill');
      assert.ok(alive(r.conmonPid) && alive(execConmon), 'both conmons survive');
      assert.equal((await w.rt.state(b.id))?.status, 'running');
      writeFileSync(join(w.rootfs, go), '');
      assert.equal(await waitExitFile(join(execDir, 'exits'), b.id), 6);
      writeFileSync(join(w.rootfs, `${go}.ctr`), '');
      assert.equal(await w.exitCode(b.id), 7);
      await waitFor(() => !alive(r.conmonPid), 'conmon exit');
      await w.rt.delete(b.id);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('latency: create + start + exit of `true` (median of 20)', T, async (t) => {
    const times: number[] = [];
    const deletes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const b = w.bundle(['true']);
      const t0 = performance.now();
      await w.rt.create({ id: b.id, name: b.id, bundle: b.bundle, logPath: b.logPath, exitDir: w.exitDir, persistDir: b.persist, tty: false, stdin: false })
        .then((r) => w.track(r.conmonPid));
      await w.rt.start(b.id);
      assert.equal(await w.exitCode(b.id), 0);
      times.push(performance.now() - t0);
      const t1 = performance.now();
      await w.rt.delete(b.id);
      deletes.push(performance.now() - t1);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    t.diagnostic(`create+start+exit median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}); delete median ${median(deletes).toFixed(1)} ms`);
  });
});
