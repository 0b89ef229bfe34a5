/**
 * Container security and resource controls, proven from INSIDE busybox containers (DESIGN.md §5): Docker's default
 * capabilities, masked and read-only /proc and /sys, seccomp, no-new-privileges, cgroup limits (memory/OOM, pids,
 * cpu, devices), rlimits, mounts, users, init, sysctls, a cgroup per container on the host, refusals of what Peti
 * cannot honour, and hostile symlinks in an image that must not lead petid or the runtime outside the rootfs.
 * Mostly the real docker CLI (`docker run --rm`) against petid; the peti CLI for a few.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, makeBusybox, type RunResult, type TestDaemon } from '../helpers/daemon.js';
import { inspect, removeAll } from '../helpers/containers.js';
import { makeTar, type Member } from '../helpers/tars.js';
import { InvalidArgument, PetiError } from '../../src/lib/errors.js';

/** Docker's 14 default capabilities as a mask (CHOWN..AUDIT_WRITE). */
const DEFAULT_CAPS = 0xa80425fbn;
const CAP_NET_ADMIN = 12n;
const CAP_CHOWN = 0n;

function statusField(text: string, key: string): string {
  const m = new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(text);
  assert.ok(m, `${key} missing in:\n${text}`);
  return m[1] as string;
}
const capMask = (text: string, key: string): bigint => BigInt(`0x${statusField(text, key)}`);

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** cgroup v1 controller list (or '' for the unified hierarchy) → its mount point on the host. */
function cgroupMounts(): { ctrls: Set<string>; v2: boolean; dir: string }[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').flatMap((l) => {
    const [, dir, type, opts] = l.split(' ');
    if (!dir || (type !== 'cgroup' && type !== 'cgroup2')) return [];
    return [{ ctrls: new Set((opts ?? '').split(',')), v2: type === 'cgroup2', dir }];
  });
}

/** Host directories of every cgroup a process is in, from /proc/<pid>/cgroup. */
function hostCgroupDirs(pid: number): { line: string; path: string; dir: string }[] {
  const mounts = cgroupMounts();
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((line) => {
    const [, , ctrls = '', path = ''] = /^(\d+):([^:]*):(.*)$/.exec(line) ?? [];
    const mount = ctrls === ''
      ? mounts.find((m) => m.v2)
      : mounts.find((m) => !m.v2 && ctrls.split(',').every((c) => m.ctrls.has(c)));
    assert.ok(mount, `no host mount for cgroup line ${line}`);
    return { line, path, dir: join(mount.dir, path) };
  });
}

describe('container security: from inside the container', () => {
  let d: TestDaemon;
  let tmp: string;
  const marker = `peti-hostile-${randomBytes(5).toString('hex')}`;
  const markersOnHost = (): string[] => readdirSync('/tmp').filter((n) => n.startsWith(marker));
  const run = (args: string[]): RunResult => d.docker(['run', '--rm', ...args]);
  const sh = (flags: string[], script: string): RunResult => run([...flags, 'busybox', 'sh', '-c', script]);
  const petidStatus = (): string => readFileSync(`/proc/${d.proc.pid}/status`, 'utf8');
  const apiCreate = async (hostConfig: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<unknown> =>
    d.client.json('POST', '/containers/create', { body: { Image: 'busybox', Cmd: ['true'], HostConfig: hostConfig, ...extra } }).catch((e: unknown) => e);

  before(async () => {
    d = await startDaemon();
    tmp = join(d.dir, 'sec');
    mkdirSync(tmp);
    makeBusybox(d);
  });
  after(async () => {
    try {
      if (d) await removeAll(d);
    } finally {
      if (d) await d.cleanup();
      for (const n of markersOnHost()) rmSync(join('/tmp', n), { recursive: true, force: true });
    }
  });

  it('capabilities: Docker\'s 14 by default, none with --cap-drop ALL, +NET_ADMIN, petid\'s own set when privileged', () => {
    const def = ok(run(['busybox', 'grep', 'Cap', '/proc/self/status']), 'default caps');
    assert.equal(statusField(def, 'CapEff'), '00000000a80425fb');
    assert.equal(capMask(def, 'CapPrm'), DEFAULT_CAPS);
    assert.equal(capMask(def, 'CapBnd'), DEFAULT_CAPS);
    assert.equal(capMask(def, 'CapInh'), 0n);
    assert.equal(capMask(def, 'CapAmb'), 0n);

    const none = ok(run(['--cap-drop', 'ALL', 'busybox', 'grep', 'Cap', '/proc/self/status']), 'cap-drop ALL');
    for (const k of ['CapEff', 'CapPrm', 'CapBnd', 'CapInh']) assert.equal(capMask(none, k), 0n, k);

    const netAdmin = ok(run(['--cap-add', 'NET_ADMIN', 'busybox', 'grep', 'Cap', '/proc/self/status']), 'cap-add');
    assert.equal(capMask(netAdmin, 'CapEff'), DEFAULT_CAPS | (1n << CAP_NET_ADMIN));
    assert.equal(capMask(netAdmin, 'CapBnd'), DEFAULT_CAPS | (1n << CAP_NET_ADMIN));

    const priv = ok(run(['--privileged', 'busybox', 'grep', 'Cap', '/proc/self/status']), 'privileged');
    const own = petidStatus();
    assert.equal(capMask(priv, 'CapEff'), capMask(own, 'CapBnd'), 'privileged = everything petid may hold');
    assert.equal(capMask(priv, 'CapEff'), capMask(own, 'CapEff'));
    assert.equal(capMask(priv, 'CapInh'), 0n);

    // The peti CLI: drop everything, add one back.
    const p = d.peti(['run', '--rm', '--cap-drop', 'ALL', '--cap-add', 'chown', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
    assert.equal(capMask(ok(p, 'peti cap-add chown'), 'CapEff'), 1n << CAP_CHOWN);
    // A capability petid does not hold cannot be granted.
    const missing = capMask(own, 'CapBnd') & (1n << 24n) ? undefined : 'SYS_RESOURCE';
    if (missing) {
      const r = run(['--cap-add', missing, 'busybox', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /CAP_SYS_RESOURCE is not available: petid itself does not hold it/);
    }
  });

  it('mounts need privileges; masked and read-only /proc and /sys; devices cgroup denies other nodes', () => {
    const denied = sh([], 'mkdir -p /mnt && mount -t tmpfs none /mnt; echo rc=$?');
    assert.match(ok(denied, 'mount unprivileged'), /rc=[1-9]/);
    assert.match(denied.stderr, /permission denied|Operation not permitted/i);
    const allowed = ok(sh(['--privileged'], 'mkdir -p /mnt && mount -t tmpfs none /mnt && grep " /mnt " /proc/mounts'), 'mount privileged');
    assert.match(allowed, /^none \/mnt tmpfs rw/m);

    // Masked files are /dev/null bound over them (empty char device 1,3); masked dirs an empty read-only tmpfs.
    const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug'].filter((p) => existsSync(p));
    assert.ok(masked.length > 0, 'no maskable /proc file on this host');
    const m = ok(sh([], masked.map((p) => `stat -c '%n %F %t:%T %s' ${p}; wc -c < ${p}`).join('; ') + '; ls -A /sys/firmware | wc -l'), 'masked');
    const lines = m.trim().split('\n');
    masked.forEach((p, i) => {
      assert.equal(lines[2 * i], `${p} character special file 1:3 0`);
      assert.equal(lines[2 * i + 1]?.trim(), '0');
    });
    assert.equal(lines.at(-1)?.trim(), '0', '/sys/firmware is empty');
    // ...and visible again when privileged.
    if (existsSync('/proc/timer_list')) {
      const pr = ok(sh(['--privileged'], 'stat -c %F /proc/timer_list; wc -c < /proc/timer_list'), 'privileged timer_list');
      assert.match(pr, /^regular (empty )?file\n\s*[1-9]\d*\n$/);
    }

    const ro = ok(sh([], [
      'echo x > /proc/sys/kernel/domainname; echo procsys=$?',
      'echo 1 > /proc/sysrq-trigger; echo sysrq=$?',
      'touch /sys/peti; echo sys=$?',
      'grep -E " /sys sysfs | /proc/sys proc " /proc/mounts',
    ].join('; ')), 'read-only paths');
    assert.match(ro, /procsys=1/);
    assert.match(ro, /sysrq=1/);
    assert.match(ro, /sys=1/);
    assert.match(ro, /^sysfs \/sys sysfs ro,/m);
    assert.match(ro, /^proc \/proc\/sys proc ro,/m);

    // CAP_MKNOD makes the node, the devices cgroup refuses to open it (/dev/mem is c 1:1).
    const mem = sh([], 'mknod /tmp/mem c 1 1 && echo made; head -c 1 /tmp/mem >/dev/null; echo rc=$?');
    assert.match(ok(mem, 'mknod'), /made\nrc=1/);
    assert.match(mem.stderr, /Operation not permitted/);
  });

  it('seccomp: default filter, unconfined, a custom Docker profile (file) blocking mkdir; no-new-privileges', () => {
    const def = ok(sh([], 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'), 'seccomp default');
    assert.equal(statusField(def, 'Seccomp'), '2');
    assert.equal(statusField(def, 'NoNewPrivs'), '0');
    const unconf = ok(sh(['--security-opt', 'seccomp=unconfined'], 'grep ^Seccomp: /proc/self/status'), 'unconfined');
    assert.equal(statusField(unconf, 'Seccomp'), '0');
    const priv = ok(sh(['--privileged'], 'grep ^Seccomp: /proc/self/status'), 'privileged seccomp');
    assert.equal(statusField(priv, 'Seccomp'), '0');
    // The default profile is what refuses a new user namespace (no capability is needed for one): unconfined allows it.
    const userns = sh([], 'unshare -U true; echo rc=$?');
    assert.equal(ok(userns, 'unshare -U'), 'rc=1\n');
    assert.match(userns.stderr, /Operation not permitted/);
    assert.equal(ok(sh(['--security-opt', 'seccomp=unconfined'], 'unshare -U true; echo rc=$?'), 'unshare -U unconfined'), 'rc=0\n');
    const nnp = ok(sh(['--security-opt', 'no-new-privileges'], 'grep ^NoNewPrivs: /proc/self/status'), 'no-new-privileges');
    assert.equal(statusField(nnp, 'NoNewPrivs'), '1');

    const profile = join(tmp, 'no-mkdir.json');
    writeFileSync(profile, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    }));
    const script = 'mkdir /tmp/x; echo rc=$?; touch /tmp/y && echo touched';
    for (const [who, r] of [
      ['docker', sh(['--security-opt', `seccomp=${profile}`], script)],
      ['peti', d.peti(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', script])],
    ] as const) {
      assert.equal(ok(r, `${who} custom seccomp`), 'rc=1\ntouched\n', who);
      assert.match(r.stderr, /can't create directory '\/tmp\/x': Operation not permitted/, who);
    }
    const plain = ok(sh([], 'mkdir /tmp/x && echo made'), 'mkdir without the profile');
    assert.equal(plain, 'made\n');
  });

  it('memory limit: OOM kill is exit 137 and State.OOMKilled; pids limit stops forks; ulimits', async () => {
    const name = `oom-${randomBytes(3).toString('hex')}`;
    try {
      // tr holds the whole 100 MB in the shell's command substitution buffer: a real allocation.
      const r = d.docker(['run', '-m', '32m', '--name', name, 'busybox', 'sh', '-c',
        'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; '
        + 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived ${#x}']);
      assert.equal(r.code, 137, `${r.stdout}\n${r.stderr}`);
      assert.equal(r.stdout, '33554432\n');
      const st = await inspect(d, name);
      assert.equal(st.State.OOMKilled, true);
      assert.equal(st.State.ExitCode, 137);
      assert.equal(st.State.Status, 'exited');
      // conmon also drops an `oom` file in its working directory: that must be the bundle, not petid's cwd.
      assert.equal(existsSync(join(process.cwd(), 'oom')), false, 'conmon wrote ./oom into petid\'s working directory');
    } finally {
      d.docker(['rm', '-f', name]);
    }
    // Under the limit, the same allocation pattern survives (the test above is about the limit, not the script).
    const small = ok(sh(['-m', '64m'], 'x=$(head -c 1000000 /dev/zero | tr "\\0" a); echo survived ${#x}'), 'small allocation');
    assert.equal(small, 'survived 1000000\n');

    const pids = sh(['--pids-limit', '10'], 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; for i in $(seq 20); do sleep 5 & done; echo all-forked');
    assert.notEqual(pids.code, 0);
    assert.equal(pids.stdout, '10\n');
    assert.match(pids.stderr, /can't fork/);

    const ul = ok(run(['--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']), 'ulimit');
    assert.equal(ul, '1024\n2048\n');
    const pul = ok(d.peti(['run', '--rm', '--ulimit', 'nofile=512:1024', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']), 'peti ulimit');
    assert.equal(pul, '512\n1024\n');
    // Above petid's own hard limit: a clear refusal at create, not a crun setrlimit failure at start.
    const hard = Number(/^Max open files\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${d.proc.pid}/limits`, 'utf8'))?.[1]);
    assert.ok(Number.isSafeInteger(hard) && hard > 0);
    const over = run(['--ulimit', `nofile=1024:${hard + 1}`, 'busybox', 'true']);
    assert.equal(over.code, 125);
    assert.match(over.stderr, new RegExp(`ulimit nofile=1024:${hard + 1} exceeds petid's own hard limit of ${hard}`));
    assert.doesNotMatch(over.stderr, /crun|setrlimit|OCI runtime/);
    // Without --ulimit the container gets petid's own limit (clamped from Docker's 1048576).
    const def = ok(run(['busybox', 'sh', '-c', 'ulimit -Hn']), 'default nofile');
    assert.equal(Number(def.trim()), Math.min(1048576, hard));
  });

  it('a cgroup per container under /peti/<id> on the host, with its limits; gone in every controller after rm', async () => {
    const name = `cg-${randomBytes(3).toString('hex')}`;
    try {
      const r = d.docker(['run', '-d', '--name', name, '--cpus', '0.5', '-m', '48m', '--pids-limit', '33', 'busybox', 'sleep', '60']);
      const id = ok(r, 'run -d').trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      const st = await inspect(d, id);
      assert.equal(st.State.Running, true);
      const dirs = hostCgroupDirs(st.State.Pid);
      assert.ok(dirs.length >= 3, dirs.map((x) => x.line).join('\n'));
      for (const c of dirs) {
        assert.equal(c.path, `/peti/${id}`, c.line);
        assert.ok(existsSync(c.dir), `${c.dir} exists`);
        assert.ok(readFileSync(join(c.dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(st.State.Pid)), `pid in ${c.dir}`);
      }
      const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
      const file = (ctrl: string, f: string): string => readFileSync(v2 ? join('/sys/fs/cgroup', `peti/${id}`, f) : join('/sys/fs/cgroup', ctrl, `peti/${id}`, f), 'utf8').trim();
      if (v2) {
        assert.equal(file('cpu', 'cpu.max'), '50000 100000');
        assert.equal(file('memory', 'memory.max'), String(48 * 1024 * 1024));
        assert.equal(file('pids', 'pids.max'), '33');
      } else {
        assert.equal(file('cpu', 'cpu.cfs_quota_us'), '50000');
        assert.equal(file('cpu', 'cpu.cfs_period_us'), '100000');
        assert.equal(file('memory', 'memory.limit_in_bytes'), String(48 * 1024 * 1024));
        assert.equal(file('pids', 'pids.max'), '33');
      }
      // The same numbers seen from inside.
      const inside = ok(d.docker(['exec', name, 'sh', '-c', v2 ? 'cat /sys/fs/cgroup/cpu.max' : 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us']), 'exec cat quota');
      assert.equal(inside.trim(), v2 ? '50000 100000' : '50000');
      // conmon is not in the container's cgroup (it must outlive it and not count against its limits).
      const conmonPid = Number(readFileSync(join(d.execRoot, 'containers', id, 'conmon.pid'), 'utf8').trim());
      assert.ok(conmonPid > 0);
      assert.ok(!readFileSync(`/proc/${conmonPid}/cgroup`, 'utf8').includes(id), 'conmon is outside the container cgroup');

      ok(d.docker(['rm', '-f', name]), 'rm -f');
      const left = dirs.filter((c) => existsSync(c.dir)).map((c) => c.dir);
      assert.deepEqual(left, [], 'cgroup dirs left after rm');
    } finally {
      d.docker(['rm', '-f', name]);
    }
  });

  it('read-only rootfs with a writable --tmpfs; binds rw and ro; --mount tmpfs with a size', () => {
    const ro = sh(['--read-only', '--tmpfs', '/tmp'], 'touch /x; echo root=$?; touch /tmp/y && echo tmp-ok; grep " /tmp " /proc/mounts');
    assert.match(ok(ro, 'read-only'), /^root=1\ntmp-ok\ntmpfs \/tmp tmpfs rw,nosuid,nodev,noexec/);
    assert.match(ro.stderr, /touch: \/x: Read-only file system/);
    const pro = d.peti(['run', '--rm', '--read-only', '--tmpfs', '/tmp', 'busybox', 'sh', '-c', 'touch /x 2>/dev/null; echo root=$?; touch /tmp/y && echo tmp-ok']);
    assert.equal(ok(pro, 'peti read-only'), 'root=1\ntmp-ok\n');

    const hostDir = join(tmp, 'hostdir');
    mkdirSync(hostDir);
    writeFileSync(join(hostDir, 'from-host'), 'hello\n');
    const rw = ok(sh(['-v', `${hostDir}:/data`], 'cat /data/from-host; echo from-ctr > /data/from-ctr && echo wrote'), 'bind rw');
    assert.equal(rw, 'hello\nwrote\n');
    assert.equal(readFileSync(join(hostDir, 'from-ctr'), 'utf8'), 'from-ctr\n');
    const robind = sh(['-v', `${hostDir}:/data:ro`], 'cat /data/from-host; echo x > /data/nope; echo rc=$?');
    assert.equal(ok(robind, 'bind ro'), 'hello\nrc=1\n');
    assert.match(robind.stderr, /Read-only file system/);
    assert.equal(existsSync(join(hostDir, 'nope')), false);

    const t = ok(sh(['--mount', 'type=tmpfs,target=/t,tmpfs-size=1m'], 'grep " /t " /proc/mounts; df -k /t | tail -1; dd if=/dev/zero of=/t/big bs=1k count=2048 2>/dev/null; echo rc=$?'), 'mount tmpfs');
    assert.match(t, /^tmpfs \/t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k /m);
    assert.match(t, /^tmpfs\s+1024\s+0\s+1024\s/m);
    assert.match(t, /rc=1$/m, 'a 2 MiB write does not fit a 1 MiB tmpfs');
  });

  it('users and groups: -u uid:gid, -u name from the image passwd, --group-add', () => {
    assert.equal(ok(run(['-u', '1000:1000', 'busybox', 'id']), 'uid:gid'), 'uid=1000 gid=1000 groups=1000\n');
    assert.equal(ok(run(['-u', 'nobody', 'busybox', 'id']), 'nobody'), 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n');
    assert.equal(ok(d.peti(['run', '--rm', '-u', 'nobody', 'busybox', 'id', '-u']), 'peti nobody'), '65534\n');
    const g = ok(run(['-u', '1000:1000', '--group-add', '10', '--group-add', 'audio', 'busybox', 'id', '-G']), 'group-add');
    assert.deepEqual(g.trim().split(' ').sort(), ['10', '1000', '29']);
    // A non-root user has no capabilities left in its effective set.
    const caps = ok(run(['-u', '1000', 'busybox', 'grep', 'CapEff', '/proc/self/status']), 'user caps');
    assert.equal(capMask(caps, 'CapEff'), 0n);
    const bad = run(['-u', 'nosuchuser', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /nosuchuser/);
  });

  it('--init, --add-host, --hostname, --dns, -e, -w, --entrypoint', () => {
    const init = ok(sh(['--init'], 'tr "\\0" " " < /proc/1/cmdline; echo; echo $$ $PPID; /sbin/peti-init --version'), 'init');
    const [cmdline, pids, version] = init.trim().split('\n');
    assert.match(cmdline ?? '', /^\/sbin\/peti-init -- sh -c /);
    assert.equal(pids, '2 1', 'the command is PID 2, a child of the init');
    assert.match(version ?? '', /tini version|catatonit/);
    const noInit = ok(sh([], 'echo $$'), 'no init');
    assert.equal(noInit, '1\n');

    const h = ok(sh(['--add-host', 'foo:1.2.3.4', '--add-host', 'v6:[2001:db8::1]', '--hostname', 'myhost'], 'cat /etc/hosts; hostname; cat /etc/hostname'), 'hosts');
    assert.match(h, /^1\.2\.3\.4\tfoo$/m);
    assert.match(h, /^2001:db8::1\tv6$/m);
    // Its own address on the default bridge (Docker writes the container IP; 127.0.1.1 without a network).
    assert.match(h, /^(127\.0\.1\.1|\d+\.\d+\.\d+\.\d+)\tmyhost$/m);
    assert.match(h, /myhost\nmyhost\n$/);

    const dns = ok(run(['--dns', '192.0.2.53', '--dns-search', 'example.com', '--dns-option', 'ndots:2', 'busybox', 'cat', '/etc/resolv.conf']), 'dns');
    assert.equal(dns, 'nameserver 192.0.2.53\nsearch example.com\noptions ndots:2\n');

    const epw = ok(run(['-e', 'FOO=bar baz', '-w', '/work/dir', '--entrypoint', 'sh', 'busybox', '-c', 'echo "$FOO"; pwd; echo $0']), 'env/workdir/entrypoint');
    assert.equal(epw, 'bar baz\n/work/dir\nsh\n');
  });

  it('sysctls: namespaced ones apply in the container\'s own netns; others refused with 400', async () => {
    const hostFwd = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const want = hostFwd.trim() === '1' ? '0' : '1';
    const r = ok(run(['--sysctl', `net.ipv4.ip_forward=${want}`, 'busybox', 'cat', '/proc/sys/net/ipv4/ip_forward']), 'sysctl');
    assert.equal(r, `${want}\n`);
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostFwd, 'the host value is untouched');
    const ipc = ok(run(['--sysctl', 'kernel.shmmni=1234', 'busybox', 'cat', '/proc/sys/kernel/shmmni']), 'ipc sysctl');
    assert.equal(ipc, '1234\n');

    const before = (await d.client.json<unknown[]>('GET', '/containers/json', { query: { all: '1' } })).length;
    const e1 = await apiCreate({ Sysctls: { 'kernel.panic': '1' } });
    assert.ok(e1 instanceof InvalidArgument, String(e1));
    assert.match(e1.message, /sysctl 'kernel.panic' is not allowed/);
    const e2 = await apiCreate({ NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } });
    assert.ok(e2 instanceof InvalidArgument, String(e2));
    assert.match(e2.message, /sysctl 'net.ipv4.ip_forward' is not allowed in host network namespace/);
    const e3 = await apiCreate({ Sysctls: { 'net.ipv4/../../kernel/panic': '1' } });
    assert.ok(e3 instanceof InvalidArgument, String(e3));
    assert.equal((await d.client.json<unknown[]>('GET', '/containers/json', { query: { all: '1' } })).length, before);
  });

  it('--device maps a host node; --oom-kill-disable on cgroup v1', () => {
    if (existsSync('/dev/fuse')) {
      const f = ok(sh(['--device', '/dev/fuse'], 'stat -c "%F %t:%T" /dev/fuse; exec 3<>/dev/fuse && echo opened'), 'device');
      assert.equal(f, 'character special file a:e5\nopened\n');
      const without = sh([], 'ls /dev/fuse; mknod /tmp/fuse c 10 229 && exec 3<>/tmp/fuse');
      assert.notEqual(without.code, 0);
      assert.match(without.stderr, /No such file or directory[\s\S]*Operation not permitted/);
    }
    if (existsSync('/sys/fs/cgroup/memory/memory.oom_control')) {
      const o = ok(run(['-m', '32m', '--oom-kill-disable', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.oom_control']), 'oom-kill-disable');
      assert.match(o, /^oom_kill_disable 1$/m);
      const dflt = ok(run(['-m', '32m', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.oom_control']), 'oom control default');
      assert.match(dflt, /^oom_kill_disable 0$/m);
    }
  });

  it('create fields Peti cannot honour are refused with 400 naming the field, leaving nothing behind', async () => {
    const before = (await d.client.json<unknown[]>('GET', '/containers/json', { query: { all: '1' } })).length;
    const cases: [string, Record<string, unknown>][] = [
      ['UsernsMode', { UsernsMode: 'private' }],
      ['PidMode', { PidMode: 'container:abc' }],
      ['IpcMode', { IpcMode: 'container:abc' }],
      ['UTSMode', { UTSMode: 'container:abc' }],
      ['CgroupnsMode', { CgroupnsMode: 'bogus' }],
      ['Isolation', { Isolation: 'hyperv' }],
      ['Links', { Links: ['a:b'] }],
      ['VolumeDriver', { VolumeDriver: 'nfs' }],
      ['DeviceRequests', { DeviceRequests: [{ Count: -1, Capabilities: [['gpu']] }] }],
      ['BlkioDeviceWriteBps', { BlkioDeviceWriteBps: [{ Path: '/dev/sda', Rate: 1024 }] }],
      ['BlkioWeightDevice', { BlkioWeightDevice: [{ Path: '/dev/sda', Weight: 100 }] }],
      ['CpuRealtimeRuntime', { CpuRealtimeRuntime: 1000 }],
      ['StorageOpt', { StorageOpt: { size: '1G' } }],
      ['CpuCount', { CpuCount: 1 }],
      ['Mounts', { Mounts: [{ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { Subpath: 'sub' } }] }],
      ['CgroupParent', { CgroupParent: 'machine.slice' }],
      ['Dns', { Dns: ['not-an-ip'] }],
      ['LogConfig.Type', { LogConfig: { Type: 'syslog', Config: {} } }],
    ];
    for (const [field, hc] of cases) {
      const e = await apiCreate(hc);
      assert.ok(e instanceof PetiError && e.status === 400, `${field}: ${String(e)}`);
      assert.ok(e.message.includes(field), `${field} not named in: ${e.message}`);
    }
    // The same through the docker CLI.
    const r = run(['--device-read-bps', '/dev/sda:1mb', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /HostConfig\.BlkioDeviceReadBps .* is not supported by Peti yet/);
    const lg = run(['--log-driver', 'journald', 'busybox', 'true']);
    assert.equal(lg.code, 125);
    assert.match(lg.stderr, /HostConfig\.LogConfig\.Type "journald" is not supported/);
    assert.equal(ok(run(['--log-driver', 'json-file', 'busybox', 'echo', 'hi']), 'json-file'), 'hi\n');
    const p = run(['--ipc', 'container:other', 'busybox', 'true']);
    assert.equal(p.code, 125);
    assert.match(p.stderr, /HostConfig\.IpcMode "container:other" is not supported/);
    assert.equal((await d.client.json<unknown[]>('GET', '/containers/json', { query: { all: '1' } })).length, before);
  });

  it('hostile image symlinks (WORKDIR, bind and tmpfs targets, /etc/hosts...) stay inside the rootfs', async () => {
    assert.deepEqual(markersOnHost(), []);
    const link = (name: string, linkname: string): Member => ({ name, type: 'symlink', linkname });
    const members: Member[] = [
      { name: 'bin/', type: 'dir' },
      { name: 'bin/busybox', type: 'file', mode: 0o755, body: readFileSync(existsSync('/bin/busybox') ? '/bin/busybox' : '/usr/bin/busybox') },
      ...['sh', 'ls', 'cat', 'touch', 'pwd', 'echo', 'mkdir', 'readlink'].map((a) => link(`bin/${a}`, 'busybox')),
      { name: 'tmp/', type: 'dir', mode: 0o1777 },
      { name: 'etc/', type: 'dir' },
      link('etc/evil', '/'),
      link('etc/up', '../../../../../../../../..'),
      link('etc/hosts', `/tmp/${marker}-hosts`),
      link('etc/hostname', `../../../../../../tmp/${marker}-hostname`),
      link('etc/resolv.conf', `/etc/up/tmp/${marker}-resolv`),
    ];
    const tar = await makeTar(members);
    const imp = d.peti(['import', '-c', `WORKDIR /etc/evil/tmp/${marker}/wd`, '-c', 'CMD ["sh"]', '-', `${marker}:1`], { input: tar });
    ok(imp, 'import hostile image');

    const hostSrc = join(tmp, 'bind-src');
    mkdirSync(hostSrc);
    const script = [
      'pwd', 'touch in-workdir', `echo x > /tmp/${marker}-bind/through-bind`, `touch /tmp/${marker}-tmpfs/in-tmpfs`,
      'cat /etc/hostname', 'ls /tmp',
    ].join(' && ');
    const r = run(['-v', `${hostSrc}:/etc/up/tmp/${marker}-bind`, '--tmpfs', `/etc/evil/tmp/${marker}-tmpfs`, '--hostname', 'hostile',
      `${marker}:1`, 'sh', '-c', script]);
    const out = ok(r, 'run hostile image');
    const lines = out.trim().split('\n');
    // The kernel resolved the link inside the container: the physical cwd is the container's own /tmp/<marker>.
    assert.equal(lines[0], `/tmp/${marker}/wd`);
    assert.equal(lines[1], 'hostile');
    // Everything the symlinks pointed at landed in the container's own /tmp.
    for (const n of [marker, `${marker}-bind`, `${marker}-tmpfs`, `${marker}-hostname`, `${marker}-hosts`, `${marker}-resolv`]) assert.ok(lines.includes(n), `${n} in ${out}`);
    // The bind is the real host dir: the write went there and nowhere else.
    assert.equal(readFileSync(join(hostSrc, 'through-bind'), 'utf8'), 'x\n');
    // A -w through a relative climbing link, and a named user looked up through a hostile /etc/passwd link.
    const w = run(['-w', `/etc/up/tmp/${marker}-w2`, `${marker}:1`, 'sh', '-c', 'pwd; touch here']);
    assert.equal(ok(w, '-w through a link'), `/tmp/${marker}-w2\n`);
    // An /etc/passwd that, followed on the host, would be the host's own (which has `daemon`); inside, a loop.
    const pw = await makeTar([...members, link('etc/passwd', '../../../../../../../../../../etc/passwd')]);
    ok(d.peti(['import', '-c', 'CMD ["sh"]', '-', `${marker}:2`], { input: pw }), 'import passwd image');
    const u = run(['-u', 'daemon', `${marker}:2`, 'id', '-u']);
    assert.equal(u.code, 125, `user resolved through the host's passwd: ${u.stdout}`);
    assert.match(u.stderr, /cannot resolve \/etc\/passwd inside .*: too many levels of symbolic links/);

    assert.deepEqual(markersOnHost(), [], 'petid or the runtime wrote outside the rootfs');
    ok(d.docker(['rmi', `${marker}:1`, `${marker}:2`]), 'rmi');
  });
});
