/**
 * The real docker CLI (28.2) doing what users do with containers against petid: run with its common flags, exit
 * codes, create/start, stop/kill/restart/rm, ps, logs, exec, attach, wait, inspect, prune, and the TTY paths through
 * a real pty (size, Ctrl-P Ctrl-Q detach, Ctrl-C, window resize).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, makeBusybox, waitFor, type TestDaemon, type RunResult } from '../helpers/daemon.js';
import { removeAll } from '../helpers/containers.js';

/** Runs a command in a pty it owns: sets the size, waits for text, sends bytes, resizes (TIOCSWINSZ + SIGWINCH). */
const PTY_DRIVER = String.raw`
import fcntl, json, os, pty, select, signal, struct, sys, termios, time
cmd, steps, env = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
rows, cols = steps.pop(0)["size"]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    os.environ.update(env)
    os.execvp(cmd[0], cmd)
out = b""
closed = False
def pump(until):
    global out, closed
    while not closed and time.time() < until:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 65536)
            except OSError:
                d = b""
            if not d:
                closed = True
                return
            out += d
err = None
for s in steps:
    if "wait" in s:
        end = time.time() + 20
        while s["wait"].encode() not in out and not closed and time.time() < end:
            pump(time.time() + 0.05)
        if s["wait"].encode() not in out:
            err = "timed out waiting for %r" % s["wait"]
            break
    elif "send" in s:
        os.write(fd, bytes.fromhex(s["send"]))
    elif "resize" in s:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", s["resize"][0], s["resize"][1], 0, 0))
        os.kill(pid, signal.SIGWINCH)
    elif "sleep" in s:
        pump(time.time() + s["sleep"])
end = time.time() + 20
code = None
while time.time() < end:
    pump(time.time() + 0.05)
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        code = os.waitstatus_to_exitcode(st)
        pump(time.time() + 0.2)
        break
if code is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(json.dumps({"code": code, "out": out.decode("utf-8", "replace"), "error": err}))
`;

type PtyStep = { size: [number, number] } | { wait: string } | { send: string } | { resize: [number, number] } | { sleep: number };

describe('docker CLI containers against petid', () => {
  let d: TestDaemon;
  let env: Record<string, string>;
  let bindDir: string;
  const docker = (args: string[], input?: string): RunResult => d.docker(args, input === undefined ? {} : { input });
  const ok = (args: string[], input?: string): string => {
    const r = docker(args, input);
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  };
  const fmt = (ref: string, f: string): string => ok(['inspect', '--format', f, ref]).trim();
  /** docker in a pty driven by steps; resolves with its exit code and raw terminal output. */
  const inPty = (args: string[], steps: PtyStep[]): { code: number | null; out: string; error: string | null } => {
    const r = spawnSync('python3', [join(d.dir, 'pty-drive.py'), JSON.stringify(['docker', ...args]), JSON.stringify(steps), JSON.stringify(env)], { timeout: 90_000 });
    assert.equal(r.status, 0, `pty driver failed: ${r.stderr?.toString()}`);
    return JSON.parse(r.stdout.toString()) as { code: number | null; out: string; error: string | null };
  };
  /** A long-lived docker client process (attach, logs -f). */
  const background = (args: string[]): { out: () => string; exited: Promise<number | null>; kill: (s: NodeJS.Signals) => void } => {
    const p = spawn('docker', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    clients.add(p);
    p.on('exit', () => clients.delete(p));
    let out = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    p.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    return { out: () => out, exited, kill: (s) => p.kill(s) };
  };
  const clients = new Set<ChildProcess>();
  const gone = (name: string): boolean => ok(['ps', '-aq', '--filter', `name=^${name}$`]).trim() === '';

  before(async () => {
    d = await startDaemon();
    makeBusybox(d);
    env = { DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') };
    writeFileSync(join(d.dir, 'pty-drive.py'), PTY_DRIVER);
    bindDir = join(d.dir, 'bind');
    mkdirSync(bindDir);
    writeFileSync(join(bindDir, 'f'), 'bound\n');
    chmodSync(bindDir, 0o777);
  });
  after(async () => {
    for (const p of clients) p.kill('SIGKILL');
    if (d) await removeAll(d);
    await d?.cleanup();
  });

  it('run: --rm, -d, -i with piped stdin, -e, --env-file, -w, -u, --name, --entrypoint', () => {
    assert.equal(ok(['run', '--rm', '--name', 'rm1', 'busybox', 'echo', 'hi']), 'hi\n');
    assert.ok(gone('rm1'), '--rm removed the container');
    const id = ok(['run', '-d', '--name', 'det1', 'busybox', 'sh', '-c', 'echo detached; sleep 30']).trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    assert.equal(fmt('det1', '{{.Id}} {{.Name}} {{.State.Status}}'), `${id} /det1 running`);
    assert.equal(ok(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], 'piped in\nline 2\n'), 'piped in\nline 2\ndone\n');
    assert.equal(ok(['run', '--rm', '-e', 'FOO=bar baz', 'busybox', 'sh', '-c', 'echo "$FOO"']), 'bar baz\n');
    const envFile = join(d.dir, 'env.list');
    writeFileSync(envFile, '# comment\nA=1\nB=two\n');
    assert.equal(ok(['run', '--rm', '--env-file', envFile, 'busybox', 'sh', '-c', 'echo $A-$B']), '1-two\n');
    assert.equal(ok(['run', '--rm', '-w', '/tmp/work', 'busybox', 'pwd']), '/tmp/work\n');
    assert.equal(ok(['run', '--rm', '-u', '1000:1001', 'busybox', 'sh', '-c', 'id -u; id -g']), '1000\n1001\n');
    assert.equal(ok(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'from', 'entrypoint']), 'from entrypoint\n');
    assert.equal(ok(['run', '--rm', '--hostname', 'myhost', '--add-host', 'foo.test:10.1.2.3', 'busybox', 'sh', '-c', 'hostname; grep foo.test /etc/hosts']), 'myhost\n10.1.2.3\tfoo.test\n');
    // -a stdout: only stdout is attached (a stderr frame would crash the CLI, which has no stderr writer).
    const a = docker(['run', '--rm', '-a', 'stdout', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, 'out\n');
    assert.doesNotMatch(a.stderr, /err|panic/);
    const both = docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.deepEqual([both.stdout, both.stderr], ['out\n', 'err\n']);
    assert.equal(ok(['run', '--rm', '--sig-proxy=false', 'busybox', 'echo', 'sp']), 'sp\n');
  });

  it('run: resources, read-only, caps, privileged, init, mounts, ulimit, security-opt', () => {
    // cgroup v1 or v2, whichever the host has.
    const cg = ok(['run', '--rm', '-m', '64m', '--cpus', '0.5', '--pids-limit', '50', 'busybox', 'sh', '-c',
      'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max; cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us']).trim().split('\n');
    assert.equal(cg[0], '67108864');
    assert.equal(cg[1], '50');
    assert.match(cg[2]!, /^50000( 100000)?$/);
    const ro = docker(['run', '--rm', '--read-only', 'busybox', 'touch', '/x']);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Read-only file system/);
    const caps = ok(['run', '--rm', '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
    assert.match(caps, /CapEff:\s+0000000000001000/);
    const dflt = ok(['run', '--rm', '--cap-drop', 'CHOWN', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
    assert.equal(BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(dflt)![1]}`) & 1n, 0n, 'CAP_CHOWN dropped');
    const priv = ok(['run', '--rm', '--privileged', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
    assert.ok(BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(priv)![1]}`) & (1n << 21n), 'privileged has CAP_SYS_ADMIN');
    const init = ok(['run', '--rm', '--init', 'busybox', 'ps', '-o', 'pid,args']);
    assert.match(init, /^\s*1 \S*init/m, init);
    assert.match(init, /^\s*\d+ ps -o pid,args$/m);
    assert.equal(ok(['run', '--rm', '-v', `${bindDir}:/b`, 'busybox', 'sh', '-c', 'cat /b/f; echo w > /b/new']), 'bound\n');
    assert.equal(readFileSync(join(bindDir, 'new'), 'utf8'), 'w\n');
    const m = docker(['run', '--rm', '--mount', `type=bind,src=${bindDir},dst=/m,readonly`, 'busybox', 'sh', '-c', 'cat /m/f; touch /m/g']);
    assert.equal(m.stdout, 'bound\n');
    assert.match(m.stderr, /Read-only file system/);
    assert.match(ok(['run', '--rm', '--tmpfs', '/t:size=1m', 'busybox', 'grep', ' /t ', '/proc/mounts']), /^tmpfs \/t tmpfs .*size=1024k/m);
    assert.match(ok(['run', '--rm', '--mount', 'type=tmpfs,dst=/mt', 'busybox', 'grep', ' /mt ', '/proc/mounts']), /^tmpfs \/mt tmpfs /m);
    assert.equal(ok(['run', '--rm', '--ulimit', 'nofile=123:456', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']), '123\n456\n');
    assert.match(ok(['run', '--rm', '--security-opt', 'no-new-privileges', 'busybox', 'grep', 'NoNewPrivs', '/proc/self/status']), /NoNewPrivs:\s+1/);
    ok(['run', '-d', '--name', 'cfg', '-l', 'team=a', '-l', 'tier=b', '-m', '32m', '--stop-signal', 'SIGUSR1', '--stop-timeout', '3', '--restart', 'unless-stopped', '-e', 'K=V', 'busybox', 'sleep', '30']);
    assert.equal(fmt('cfg', '{{.Config.StopSignal}} {{.Config.StopTimeout}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.Memory}} {{index .Config.Labels "team"}}'),
      'SIGUSR1 3 unless-stopped 33554432 a');
    assert.ok((JSON.parse(fmt('cfg', '{{json .Config.Env}}')) as string[]).includes('K=V'));
  });

  it('exit codes: the container\'s, 125 daemon error, 126 not executable, 127 not found', () => {
    assert.equal(docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).code, 3);
    const missing = docker(['run', '--rm', 'nope:1', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /Unable to find image 'nope:1' locally/);
    assert.match(missing.stderr, /Error response from daemon/);
    const noexec = docker(['run', '--rm', '--name', 'noexec', 'busybox', '/etc/passwd']);
    assert.equal(noexec.code, 126, noexec.stderr);
    assert.match(noexec.stderr, /permission denied/i);
    const notfound = docker(['run', '--rm', '--name', 'notfound', 'busybox', 'nosuchbin']);
    assert.equal(notfound.code, 127, notfound.stderr);
    assert.match(notfound.stderr, /not found/);
    assert.ok(gone('noexec') && gone('notfound'), '--rm removes containers whose start failed');
  });

  it('restart policies: on-failure:2 gives up after two restarts', async () => {
    ok(['run', '-d', '--name', 'onfail', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 1']);
    await waitFor(() => fmt('onfail', '{{.RestartCount}} {{.State.Status}}') === '2 exited', 'two restarts then exited', 20_000);
    assert.equal(ok(['logs', 'onfail']), 'run\nrun\nrun\n');
    assert.equal(fmt('onfail', '{{.State.ExitCode}}'), '1');
  });

  it('create + start -a / start -ai', () => {
    ok(['create', '--name', 'c1', 'busybox', 'sh', '-c', 'echo created-out; echo created-err >&2; exit 4']);
    assert.equal(fmt('c1', '{{.State.Status}}'), 'created');
    const s = docker(['start', '-a', 'c1']);
    assert.equal(s.code, 4);
    assert.equal(s.stdout, 'created-out\n');
    assert.equal(s.stderr, 'created-err\n');
    ok(['create', '-i', '--name', 'c2', 'busybox', 'sh', '-c', 'cat; exit 6']);
    const si = docker(['start', '-ai', 'c2'], 'through stdin\n');
    assert.equal(si.code, 6);
    assert.equal(si.stdout, 'through stdin\n');
  });

  it('stop, kill -s, restart, wait, rm -f / -v', () => {
    ok(['run', '-d', '--name', 'trap', 'busybox', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done']);
    ok(['run', '-d', '--name', 'usr1', 'busybox', 'sh', '-c', 'trap "echo got-usr1" USR1; echo ready; while true; do sleep 0.1; done']);
    const ready = (n: string): boolean => ok(['logs', n]).includes('ready');
    const until = (f: () => boolean): void => { const end = Date.now() + 10_000; while (!f()) { assert.ok(Date.now() < end); spawnSync('sleep', ['0.05']); } };
    until(() => ready('trap') && ready('usr1'));
    assert.equal(ok(['stop', 'trap']), 'trap\n');
    assert.equal(fmt('trap', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 7');
    assert.equal(ok(['logs', 'trap']), 'ready\ngot-term\n');
    // Stopping a stopped container is fine.
    assert.equal(ok(['stop', 'trap']), 'trap\n');

    assert.equal(ok(['kill', '-s', 'USR1', 'usr1']), 'usr1\n');
    until(() => ok(['logs', 'usr1']).includes('got-usr1'));
    assert.equal(fmt('usr1', '{{.State.Status}}'), 'running');
    ok(['kill', '-s', 'SIGKILL', 'usr1']);
    assert.equal(ok(['wait', 'usr1']), '137\n');
    const k = docker(['kill', 'usr1']);
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /is not running/);

    ok(['run', '-d', '--name', 'rs', 'busybox', 'sh', '-c', 'echo start; sleep 30']);
    until(() => ok(['logs', 'rs']) === 'start\n');
    const pid1 = fmt('rs', '{{.State.Pid}}');
    assert.equal(ok(['restart', '-t', '1', 'rs']), 'rs\n');
    assert.equal(fmt('rs', '{{.State.Status}}'), 'running');
    assert.notEqual(fmt('rs', '{{.State.Pid}}'), pid1);
    until(() => ok(['logs', 'rs']) === 'start\nstart\n');

    const rm = docker(['rm', 'rs']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /stop the container before removing or force remove/i);
    assert.equal(ok(['rm', '-f', 'rs']), 'rs\n');
    assert.equal(ok(['rm', '-v', 'trap', 'usr1']), 'trap\nusr1\n');
    assert.ok(gone('rs') && gone('trap') && gone('usr1'));
    const none = docker(['rm', 'no-such-container']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /No such container: no-such-container/);
  });

  it('ps: -a -q -n -l -s --filter --format --no-trunc', () => {
    ok(['run', '-d', '--name', 'ps-run', '-l', 'ps=yes', 'busybox', 'sleep', '30']);
    assert.equal(docker(['run', '--name', 'ps-exit', 'busybox', 'sh', '-c', 'exit 4']).code, 4);
    ok(['create', '--name', 'ps-created', 'busybox', 'echo', 'two words']);
    const table = ok(['ps', '-a']);
    assert.match(table.split('\n')[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    assert.match(table, /^[a-f0-9]{12}\s+busybox\s+"sleep 30"\s+.*\s+Up .*\s+ps-run$/m);
    assert.match(table, /Exited \(4\) .* ago\s+ps-exit$/m);
    assert.match(table, /Created\s+ps-created$/m);
    const running = ok(['ps', '--format', '{{.Names}}']).trim().split('\n');
    assert.ok(running.includes('ps-run') && !running.includes('ps-exit'));
    const q = ok(['ps', '-aq']).trim().split('\n');
    for (const id of q) assert.match(id, /^[a-f0-9]{12}$/);
    assert.equal(ok(['ps', '-a', '-n', '2', '--format', '{{.Names}}']), 'ps-created\nps-exit\n');
    assert.equal(ok(['ps', '-l', '--format', '{{.Names}}']), 'ps-created\n');
    assert.match(ok(['ps', '-s', '--filter', 'name=ps-run', '--format', '{{.Size}}']), /^\d+(\.\d+)?k?B \(virtual \d+(\.\d+)?[kM]?B\)\n$/);
    // SizeRootFs is the writable layer plus the image's layers, as Docker counts it.
    const [rw, rootFs] = ok(['inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'ps-run']).trim().split(' ').map(Number);
    assert.equal(rootFs, rw! + Number(ok(['image', 'inspect', '-f', '{{.Size}}', 'busybox']).trim()));
    const full = ok(['ps', '-a', '--no-trunc', '--filter', 'name=ps-created', '--format', '{{.ID}} {{.Command}}']);
    assert.match(full, /^[a-f0-9]{64} "echo 'two words'"\n$/);
    assert.equal(ok(['ps', '-a', '--filter', 'label=ps=yes', '--format', '{{.Names}}']), 'ps-run\n');
    assert.equal(ok(['ps', '-a', '--filter', 'exited=4', '--filter', 'name=ps-', '--format', '{{.Names}}']), 'ps-exit\n');
    assert.equal(ok(['ps', '-a', '--filter', 'status=created', '--format', '{{.Names}} {{.State}}']), 'ps-created created\n');
    assert.equal(ok(['ps', '--filter', 'name=ps-run', '--format', '{{.Image}} {{.Label "ps"}} {{.State}}']), 'busybox yes running\n');
    const json = JSON.parse(ok(['ps', '--filter', 'name=ps-run', '--format', 'json']).trim()) as Record<string, string>;
    assert.equal(json.Names, 'ps-run');
    assert.equal(json.State, 'running');
    ok(['rm', '-f', 'ps-run', 'ps-exit', 'ps-created']);
  });

  it('logs: -f ends when the container exits, -t, --tail, --since, --until', async () => {
    ok(['run', '-d', '--name', 'lg', 'busybox', 'sh', '-c', 'for i in 1 2 3 4; do echo line$i; echo err$i >&2; sleep 0.3; done']);
    const t0 = Date.now();
    const f = background(['logs', '-f', 'lg']);
    const code = await f.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 10_000);
    for (const l of ['line1', 'line4', 'err1', 'err4']) assert.ok(f.out().includes(`${l}\n`), f.out());
    const plain = docker(['logs', 'lg']);
    assert.equal(plain.stdout, 'line1\nline2\nline3\nline4\n');
    assert.equal(plain.stderr, 'err1\nerr2\nerr3\nerr4\n');
    const ts = ok(['logs', '-t', 'lg']).trim().split('\n');
    assert.equal(ts.length, 4);
    for (const l of ts) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line\d$/);
    // --tail counts lines of both streams together: the last two are line4 and err4.
    const tail = docker(['logs', '--tail', '2', 'lg']);
    assert.deepEqual([tail.stdout, tail.stderr], ['line4\n', 'err4\n']);
    assert.equal(docker(['logs', '--tail', '0', 'lg']).stdout, '');
    // --since/--until with the CLI's RFC 3339 timestamps, taken from the log itself.
    const times = ts.map((l) => l.split(' ')[0]!);
    assert.equal(docker(['logs', '--since', times[2]!, 'lg']).stdout, 'line3\nline4\n');
    assert.equal(docker(['logs', '--until', times[1]!, 'lg']).stdout, 'line1\nline2\n');
    assert.equal(docker(['logs', '--since', '1h', 'lg']).stdout, plain.stdout);
    assert.equal(docker(['logs', '--since', '2099-01-01T00:00:00Z', 'lg']).stdout, '');
    assert.equal(docker(['logs', '--until', '2000-01-01T00:00:00Z', 'lg']).stdout, '');
    ok(['rm', 'lg']);
  });

  it('logs: --log-opt max-size caps the log file; -f follows across the restart of the file; bad values refused', async () => {
    const r = docker(['run', '-d', '--name', 'lcap', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c',
      'sleep 0.3; i=0; while [ $i -lt 120 ]; do echo row-$i-........................................; i=$((i+1)); sleep 0.01; done; echo END']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /max-file=2: this engine keeps one log file/);
    const f = background(['logs', '-f', 'lcap']);
    assert.equal(await f.exited, 0);
    // What came after the file started over is there, ending with END; the file itself stays under the cap.
    assert.ok(f.out().includes('row-119-') && f.out().endsWith('END\n'), f.out().slice(-300));
    const id = ok(['inspect', '-f', '{{.Id}}', 'lcap']).trim();
    const size = readFileSync(join(d.dataRoot, 'containers', id, 'ctr.log')).length;
    assert.ok(size <= 2048, `log file ${size} bytes`);
    assert.match(ok(['logs', 'lcap']), /END\n$/);
    ok(['rm', 'lcap']);
    assert.match(docker(['run', '--rm', '--log-opt', 'max-size=lots', 'busybox', 'true']).stderr, /invalid value for log option max-size: lots/);
    assert.match(docker(['run', '--rm', '--log-opt', 'max-file=3', 'busybox', 'true']).stderr, /max-file is only valid with max-size/);
    assert.match(docker(['run', '--rm', '--log-opt', 'compress=true', 'busybox', 'true']).stderr, /unsupported log option\(s\) compress/);
  });

  it('exec: -i, -d, -e, -w, -u, --privileged, exit codes', () => {
    ok(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '60']);
    assert.equal(ok(['exec', '-i', 'ex', 'sh', '-c', 'cat; echo end'], 'exec stdin\n'), 'exec stdin\nend\n');
    assert.equal(ok(['exec', '-d', 'ex', 'sh', '-c', 'echo detached > /tmp/d']), '');
    const end = Date.now() + 10_000;
    while (docker(['exec', 'ex', 'cat', '/tmp/d']).stdout !== 'detached\n') assert.ok(Date.now() < end, 'exec -d ran');
    assert.equal(ok(['exec', '-e', 'X=1', '-w', '/tmp', '-u', '1000', 'ex', 'sh', '-c', 'echo $X; pwd; id -u']), '1\n/tmp\n1000\n');
    const priv = ok(['exec', '--privileged', 'ex', 'grep', 'CapEff', '/proc/self/status']);
    assert.ok(BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(priv)![1]}`) & (1n << 21n), 'privileged exec has CAP_SYS_ADMIN');
    const e = docker(['exec', 'ex', 'sh', '-c', 'echo o; echo e >&2; exit 9']);
    assert.deepEqual([e.code, e.stdout, e.stderr], [9, 'o\n', 'e\n']);
    const nf = docker(['exec', 'ex', 'nosuch']);
    assert.equal(nf.code, 127, nf.stderr + nf.stdout);
    assert.match(nf.stdout + nf.stderr, /not found/);
    const ne = docker(['exec', 'ex', '/etc/passwd']);
    assert.equal(ne.code, 126, ne.stderr + ne.stdout);
    // With a terminal too (through a real pty: script): 127 and Docker's words for a command that is nowhere.
    const tty = spawnSync('script', ['-qec', 'docker exec -t ex nosuch', '/dev/null'], { env: { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') } });
    assert.equal(tty.status, 127, tty.stdout.toString());
    assert.match(tty.stdout.toString(), /exec: "nosuch": executable file not found in \$PATH/);
    ok(['kill', 'ex']);
    assert.equal(ok(['wait', 'ex']), '137\n');
    const stopped = docker(['exec', 'ex', 'true']);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /is not running/);
    ok(['rm', 'ex']);
  });

  it('attach to a running container prints its lines; --sig-proxy=false leaves it running on Ctrl-C', async () => {
    ok(['run', '-d', '--name', 'at', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.1; done']);
    const a = background(['attach', '--sig-proxy=false', 'at']);
    await waitFor(() => (a.out().match(/tick\d+\n/g)?.length ?? 0) >= 3, 'attached output');
    // With --sig-proxy=false the CLI does not forward signals; it gives up the attachment on its third SIGINT.
    for (let i = 0; i < 3; i++) {
      a.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 150));
    }
    await a.exited;
    assert.equal(fmt('at', '{{.State.Status}}'), 'running');
    // attach is over when the container exits, with its exit code.
    const b = background(['attach', 'at']);
    await waitFor(() => /tick\d+\n/.test(b.out()), 'second attach output');
    ok(['kill', 'at']);
    assert.equal(await b.exited, 137);
    ok(['rm', 'at']);
  });

  it('wait, inspect fields, container prune -f', () => {
    ok(['run', '-d', '--name', 'w1', '-m', '16m', '-e', 'E1=x', 'busybox', 'sh', '-c', 'sleep 0.3; exit 12']);
    assert.equal(ok(['wait', 'w1']), '12\n');
    assert.equal(fmt('w1', '{{.State.ExitCode}}'), '12');
    const j = (JSON.parse(ok(['inspect', 'w1'])) as Record<string, unknown>[])[0] as {
      Id: string; Name: string; State: { Status: string; ExitCode: number; Running: boolean }; Config: { Env: string[]; Image: string }; HostConfig: { Memory: number };
    };
    assert.equal(j.Name, '/w1');
    assert.match(j.Id, /^[a-f0-9]{64}$/);
    assert.equal(j.State.Status, 'exited');
    assert.equal(j.State.Running, false);
    assert.equal(j.HostConfig.Memory, 16 * 1024 * 1024);
    assert.ok(j.Config.Env.includes('E1=x'));
    assert.equal(j.Config.Image, 'busybox');
    assert.equal(fmt('w1', '{{.State.Status}} {{.HostConfig.Memory}} {{.Name}}'), 'exited 16777216 /w1');
    ok(['run', '-d', '--name', 'keep', 'busybox', 'sleep', '30']);
    ok(['create', '--name', 'pr-created', 'busybox', 'true']);
    const p = ok(['container', 'prune', '-f']);
    assert.match(p, /^Deleted Containers:\n/);
    assert.ok(p.includes(fmt('keep', '{{.Id}}')) === false);
    assert.match(p, /Total reclaimed space: /);
    assert.ok(gone('w1') && gone('pr-created'));
    assert.equal(fmt('keep', '{{.State.Status}}'), 'running');
    ok(['rm', '-f', 'keep']);
  });

  it('tty: run -it and exec -it through script(1) and a pty', () => {
    // script's pty has no size (busybox stty size then fails), but it is a tty: /dev/pts/0 in the container.
    const s = spawnSync('script', ['-qec', 'docker run -it --rm busybox sh -c \'stty size; tty; echo ok\'', '/dev/null'], { env: { ...process.env, ...env }, timeout: 60_000, input: '' });
    const raw = s.stdout.toString();
    assert.equal(s.status, 0, raw + s.stderr.toString());
    assert.match(raw, /\/dev\/pts\/0\r\n/);
    assert.match(raw, /ok\r\n/);
    const r = inPty(['run', '-it', '--rm', 'busybox', 'sh', '-c', 'stty size; tty; echo ok'], [{ size: [33, 101] }]);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out, '33 101\r\n/dev/pts/0\r\nok\r\n');
    ok(['run', '-d', '--name', 'tty-ex', 'busybox', 'sleep', '60']);
    // crun sets an exec's ConsoleSize only after its child may have exec'd: the CLI's resize right after start settles it.
    const e = inPty(['exec', '-it', 'tty-ex', 'sh', '-c', 'sleep 0.3; stty size; tty'], [{ size: [34, 102] }]);
    assert.equal(e.code, 0, e.out);
    assert.match(e.out, /^34 102\r\n\/dev\/pts\/\d+\r\n$/);
    const ex = inPty(['exec', '-it', 'tty-ex', 'sh', '-c', 'exit 3'], [{ size: [24, 80] }]);
    assert.equal(ex.code, 3);
    ok(['rm', '-f', 'tty-ex']);
  });

  it('tty: window resize, Ctrl-P Ctrl-Q detach, attach and detach again', () => {
    const r = inPty(['run', '-it', '--name', 'tty-d', 'busybox', 'sh'], [
      { size: [30, 90] }, { wait: '# ' },
      { send: Buffer.from('stty size\r').toString('hex') }, { wait: '30 90' },
      { resize: [41, 123] }, { sleep: 0.5 },
      { send: Buffer.from('stty size\r').toString('hex') }, { wait: '41 123' },
      { send: '1011' },
    ]);
    assert.equal(r.error, null, r.out);
    assert.equal(r.code, 0, r.out);
    assert.equal(fmt('tty-d', '{{.State.Status}}'), 'running');
    const a = inPty(['attach', 'tty-d'], [
      { size: [25, 70] }, { sleep: 0.5 },
      { send: Buffer.from('echo again; stty size\r').toString('hex') }, { wait: '25 70' },
      { send: '1011' },
    ]);
    assert.equal(a.error, null, a.out);
    // `docker attach` reports the detach as "read escape sequence" (exit 1), as it does against dockerd.
    assert.match(a.out, /read escape sequence/);
    assert.match(a.out, /again\r\n25 70/);
    assert.equal(fmt('tty-d', '{{.State.Status}}'), 'running');
    ok(['rm', '-f', 'tty-d']);
  });

  it('tty: Ctrl-C reaches the container\'s foreground process', () => {
    const r = inPty(['run', '-it', '--rm', 'busybox', 'sh', '-c', 'trap "echo got-int; exit 5" INT; echo ready; sleep 100'], [
      { size: [24, 80] }, { wait: 'ready' }, { sleep: 0.3 }, { send: '03' },
    ]);
    assert.equal(r.error, null, r.out);
    assert.equal(r.code, 5, r.out);
    assert.match(r.out, /got-int/);
  });
});
