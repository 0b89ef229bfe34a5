import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildSpec, mergeTmpfsOptions, ALL_CAPS, DEFAULT_CAPS, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS,
  STOP_SIGNAL_ANNOTATION, type HostFacts, type SpecInput, type SpecResult,
} from './spec.js';
import { InvalidArgument } from '../../lib/errors.js';
import type { OciMount, OciSpec } from './types.js';

const ID = 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789';
const HOST: HostFacts = {
  cgroupV2: false, swapLimit: true, cpus: 2, boundingCaps: [...ALL_CAPS], hostname: 'thehost',
  pingGroupRange: true, unprivilegedPortStart: true, arch: 'x64', kernel: '6.1.0',
};

interface Fixture { dir: string; rootfs: string; base: SpecInput }

function fixture(t: { after(fn: () => void): void }): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'peti-spec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nwheel:x:10:root\napp:x:1000:\nvideo:x:44:app\n');
  const files = { hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname'), resolvConf: join(dir, 'resolv.conf') };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const base: SpecInput = {
    id: ID, rootfs, image: { Cmd: ['sh'], Env: ['PATH=/image/bin', 'LANG=C.UTF-8'] }, config: {}, hostConfig: {}, files,
    cgroupsPath: `/peti/${ID}`, hostRlimits: { nofile: 20000, nproc: 32768 }, network: { mode: 'none' }, host: HOST,
  };
  return { dir, rootfs, base };
}

async function build(f: Fixture, over: Partial<SpecInput> = {}): Promise<SpecResult> {
  return buildSpec({ ...f.base, ...over });
}
async function spec(f: Fixture, over: Partial<SpecInput> = {}): Promise<OciSpec> {
  return (await build(f, over)).spec;
}
function mount(s: OciSpec, dest: string): OciMount | undefined {
  return s.mounts.find((m) => m.destination === dest);
}
async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InvalidArgument, `expected InvalidArgument, got ${String(err)}`);
    assert.match(err.message, re);
    return true;
  });
}

// ---- process ------------------------------------------------------------------------------------------------

test('defaults: root user, cwd /, hostname from id, image command', async (t) => {
  const f = fixture(t);
  const s = await spec(f);
  assert.equal(s.ociVersion, '1.0.2');
  assert.deepEqual(s.process.args, ['sh']);
  assert.deepEqual(s.process.user, { uid: 0, gid: 0, additionalGids: [0, 10] });
  assert.equal(s.process.cwd, '/');
  assert.equal(s.process.terminal, false);
  assert.equal(s.process.consoleSize, undefined);
  assert.equal(s.hostname, ID.slice(0, 12));
  assert.equal(s.root.path, f.rootfs);
  assert.equal(s.root.readonly, false);
  assert.equal(s.linux.cgroupsPath, `/peti/${ID}`);
  assert.equal(s.process.oomScoreAdj, 0);
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.annotations?.[STOP_SIGNAL_ANNOTATION], 'SIGTERM');
});

test('args: Entrypoint + Cmd with Docker\'s override rules', async (t) => {
  const f = fixture(t);
  const image = { Entrypoint: ['/entry.sh'], Cmd: ['serve', '--port=80'] };
  const args = async (config: SpecInput['config'], img: SpecInput['image'] = image): Promise<string[]> =>
    (await spec(f, { image: img, config })).process.args;
  assert.deepEqual(await args({}), ['/entry.sh', 'serve', '--port=80']);
  assert.deepEqual(await args({ Cmd: ['debug'] }), ['/entry.sh', 'debug']);
  // An explicit entrypoint drops the image's Cmd.
  assert.deepEqual(await args({ Entrypoint: ['/bin/echo'] }), ['/bin/echo']);
  assert.deepEqual(await args({ Entrypoint: ['/bin/echo'], Cmd: ['hi'] }), ['/bin/echo', 'hi']);
  // --entrypoint "" sends [""]: no entrypoint at all, and the image Cmd is gone too.
  assert.deepEqual(await args({ Entrypoint: [''], Cmd: ['ls'] }), ['ls']);
  // null means "not given": the image's entrypoint stays.
  assert.deepEqual(await args({ Entrypoint: null, Cmd: null }), ['/entry.sh', 'serve', '--port=80']);
  // [] clears the image entrypoint but keeps its Cmd.
  assert.deepEqual(await args({ Entrypoint: [] }), ['serve', '--port=80']);
  // strslice: a string is one element.
  assert.deepEqual(await args({ Cmd: 'top' }, {}), ['top']);
  await rejects(args({}, {}), /^no command specified$/);
  await rejects(args({ Entrypoint: [''] }, {}), /^no command specified$/);
});

test('env: image env overridden by create env, PATH default, HOSTNAME, TERM, HOME', async (t) => {
  const f = fixture(t);
  let s = await spec(f, { config: { Env: ['LANG=de_DE.UTF-8', 'FOO=bar'] } });
  assert.deepEqual(s.process.env, ['PATH=/image/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'LANG=de_DE.UTF-8', 'FOO=bar', 'HOME=/root']);
  s = await spec(f, { image: { Cmd: ['sh'] }, config: { Tty: true, Hostname: 'box', User: 'app', Env: ['HOME=/x'] } });
  assert.deepEqual(s.process.env, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=box', 'TERM=xterm', 'HOME=/x',
  ]);
  // A variable without '=' unsets it.
  s = await spec(f, { config: { Env: ['LANG'] } });
  assert.ok(!s.process.env.some((e) => e.startsWith('LANG')));
  s = await spec(f, { config: { User: 'app' } });
  assert.ok(s.process.env.includes('HOME=/home/app'));
});

test('user: names, groups, GroupAdd and unknown users', async (t) => {
  const f = fixture(t);
  assert.deepEqual((await spec(f, { config: { User: 'app' }, hostConfig: { GroupAdd: ['wheel', '500'] } })).process.user,
    { uid: 1000, gid: 1000, additionalGids: [1000, 44, 10, 500] });
  assert.deepEqual((await spec(f, { image: { Cmd: ['sh'], User: '1000:44' } })).process.user, { uid: 1000, gid: 44, additionalGids: [44] });
  // The create body's user wins over the image's.
  assert.equal((await spec(f, { image: { Cmd: ['sh'], User: 'app' }, config: { User: '0' } })).process.user.uid, 0);
  await rejects(spec(f, { config: { User: 'ghost' } }), /unable to find user ghost: no matching entries in passwd file/);
});

test('working dir: default /, cleaned, created when missing, must be absolute', async (t) => {
  const f = fixture(t);
  const s = await spec(f, { config: { WorkingDir: '/srv/app/../www/' } });
  assert.equal(s.process.cwd, '/srv/www');
  assert.ok(statSync(join(f.rootfs, 'srv/www')).isDirectory());
  assert.equal((await spec(f, { image: { Cmd: ['sh'], WorkingDir: '/data' } })).process.cwd, '/data');
  await rejects(spec(f, { config: { WorkingDir: 'rel' } }), /the working directory 'rel' is invalid, it needs to be an absolute path/);
  writeFileSync(join(f.rootfs, 'file'), '');
  await rejects(spec(f, { config: { WorkingDir: '/file' } }), /not a directory/);
});

test('tty: terminal and console size', async (t) => {
  const f = fixture(t);
  let s = await spec(f, { config: { Tty: true }, hostConfig: { ConsoleSize: [40, 120] } });
  assert.equal(s.process.terminal, true);
  assert.deepEqual(s.process.consoleSize, { height: 40, width: 120 });
  s = await spec(f, { config: { Tty: true, ConsoleSize: [0, 0] } });
  assert.equal(s.process.consoleSize, undefined);
});

test('hostname and domainname; host network takes the host name; UTS host omits it', async (t) => {
  const f = fixture(t);
  let s = await spec(f, { config: { Hostname: 'web', Domainname: 'example.org' } });
  assert.equal(s.hostname, 'web');
  assert.equal(s.domainname, 'example.org');
  s = await spec(f, { network: { mode: 'host' } });
  assert.equal(s.hostname, 'thehost');
  s = await spec(f, { hostConfig: { UTSMode: 'host' } });
  assert.equal(s.hostname, undefined);
  assert.ok(!s.linux.namespaces.some((n) => n.type === 'uts'));
  await rejects(spec(f, { config: { Hostname: 'x' }, hostConfig: { UTSMode: 'host' } }), /Conflicting options: hostname and the UTS mode/);
  await rejects(spec(f, { config: { Hostname: 'h'.repeat(65) } }), /longer than 64/);
});

test('stop signal and HostConfig annotations', async (t) => {
  const f = fixture(t);
  let s = await spec(f, { image: { Cmd: ['sh'], StopSignal: 'SIGQUIT' } });
  assert.equal(s.annotations?.[STOP_SIGNAL_ANNOTATION], 'SIGQUIT');
  s = await spec(f, { image: { Cmd: ['sh'], StopSignal: 'SIGQUIT' }, config: { StopSignal: 'SIGUSR1' }, hostConfig: { Annotations: { 'a.b': 'c' } } });
  assert.equal(s.annotations?.[STOP_SIGNAL_ANNOTATION], 'SIGUSR1');
  assert.equal(s.annotations?.['a.b'], 'c');
});

test('init: args wrapped, binary bind-mounted read-only', async (t) => {
  const f = fixture(t);
  const s = await spec(f, { hostConfig: { Init: true }, initPath: '/usr/bin/catatonit' });
  assert.deepEqual(s.process.args, ['/sbin/peti-init', '--', 'sh']);
  assert.deepEqual(mount(s, '/sbin/peti-init'), { destination: '/sbin/peti-init', type: 'bind', source: '/usr/bin/catatonit', options: ['bind', 'ro', 'rprivate'] });
  await rejects(spec(f, { hostConfig: { Init: true } }), /no init binary/);
  assert.equal(mount(await spec(f, { initPath: '/usr/bin/tini' }), '/sbin/peti-init'), undefined);
});

test('oom score adj range', async (t) => {
  const f = fixture(t);
  assert.equal((await spec(f, { hostConfig: { OomScoreAdj: 500 } })).process.oomScoreAdj, 500);
  await rejects(spec(f, { hostConfig: { OomScoreAdj: 1001 } }), /range for oom score adj is \[-1000, 1000\]/);
});

// ---- namespaces ---------------------------------------------------------------------------------------------

test('namespaces per mode', async (t) => {
  const f = fixture(t);
  const types = async (over: Partial<SpecInput>): Promise<string[]> => (await spec(f, over)).linux.namespaces.map((n) => n.type);
  assert.deepEqual(await types({}), ['pid', 'ipc', 'uts', 'mount', 'network']);
  assert.deepEqual(await types({ host: { ...HOST, cgroupV2: true } }), ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'network']);
  assert.deepEqual(await types({ hostConfig: { CgroupnsMode: 'private' } }), ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'network']);
  assert.deepEqual(await types({ host: { ...HOST, cgroupV2: true }, hostConfig: { CgroupnsMode: 'host' } }), ['pid', 'ipc', 'uts', 'mount', 'network']);
  assert.deepEqual(await types({ network: { mode: 'host' } }), ['pid', 'ipc', 'uts', 'mount']);
  assert.deepEqual(await types({ hostConfig: { PidMode: 'host', IpcMode: 'host', UTSMode: 'host' } }), ['mount', 'network']);
  const s = await spec(f, { network: { mode: 'netns', netnsPath: '/run/peti/netns/x' } });
  assert.deepEqual(s.linux.namespaces.at(-1), { type: 'network', path: '/run/peti/netns/x' });
  await rejects(spec(f, { network: { mode: 'netns' } }), /namespace path/);
});

// ---- mounts -------------------------------------------------------------------------------------------------

test('default mounts and the three network files', async (t) => {
  const f = fixture(t);
  const s = await spec(f);
  assert.deepEqual(s.mounts.map((m) => m.destination), [
    '/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts',
  ]);
  assert.deepEqual(mount(s, '/dev')?.options, ['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
  assert.deepEqual(mount(s, '/dev/pts')?.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.deepEqual(mount(s, '/dev/shm'), { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] });
  assert.ok(mount(s, '/sys')?.options?.includes('ro'));
  assert.equal(mount(s, '/sys/fs/cgroup')?.type, 'cgroup');
  assert.ok(mount(s, '/sys/fs/cgroup')?.options?.includes('ro'));
  assert.deepEqual(mount(s, '/etc/hosts'), { destination: '/etc/hosts', type: 'bind', source: f.base.files.hosts, options: ['rbind', 'rprivate'] });
  assert.equal(mount(s, '/etc/resolv.conf')?.source, f.base.files.resolvConf);
  assert.equal(mount(s, '/etc/hostname')?.source, f.base.files.hostname);
});

test('ShmSize, ipc host shares /dev/shm, read-only rootfs', async (t) => {
  const f = fixture(t);
  let s = await spec(f, { hostConfig: { ShmSize: 1 << 20 } });
  assert.ok(mount(s, '/dev/shm')?.options?.includes('size=1048576'));
  s = await spec(f, { hostConfig: { IpcMode: 'host' } });
  assert.deepEqual(mount(s, '/dev/shm'), { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
  s = await spec(f, { hostConfig: { ReadonlyRootfs: true } });
  assert.equal(s.root.readonly, true);
  assert.deepEqual(mount(s, '/etc/hosts')?.options, ['rbind', 'rprivate', 'ro']);
  await rejects(spec(f, { hostConfig: { ShmSize: -1 } }), /SHM size can not be less than 0/);
});

test('Binds: modes, propagation, cleaning, creation of missing sources', async (t) => {
  const f = fixture(t);
  const src = join(f.dir, 'data');
  mkdirSync(src);
  const missing = join(f.dir, 'new/dir');
  const s = await spec(f, { hostConfig: { Binds: [`${src}:/data/`, `${src}:/ro:ro`, `${src}:/sh:rshared,rw`, `${missing}:/m:z`, `${src}//:/a/../b:rslave`] } });
  assert.deepEqual(mount(s, '/data'), { destination: '/data', type: 'bind', source: src, options: ['rbind', 'rprivate'] });
  assert.deepEqual(mount(s, '/ro')?.options, ['rbind', 'ro', 'rprivate']);
  assert.deepEqual(mount(s, '/sh')?.options, ['rbind', 'rshared']);
  assert.deepEqual(mount(s, '/b')?.options, ['rbind', 'rslave']);
  assert.equal(mount(s, '/b')?.source, `${src}/`);
  assert.ok(existsSync(missing));
  const fileBind = await spec(f, { hostConfig: { Binds: [`${f.base.files.hosts}:/etc/my.conf:ro`] } });
  assert.deepEqual(mount(fileBind, '/etc/my.conf'), { destination: '/etc/my.conf', type: 'bind', source: f.base.files.hosts, options: ['rbind', 'ro', 'rprivate'] });
  assert.equal(s.linux.rootfsPropagation, 'shared');
  const slave = await spec(f, { hostConfig: { Binds: [`${src}:/x:slave`] } });
  assert.equal(slave.linux.rootfsPropagation, 'rslave');
  assert.equal((await spec(f)).linux.rootfsPropagation, undefined);
});

test('Binds: refusals', async (t) => {
  const f = fixture(t);
  const src = join(f.dir, 'data');
  mkdirSync(src);
  await rejects(spec(f, { hostConfig: { Binds: ['myvol:/data'] } }), /named volumes are not supported yet; the source must be an absolute host path/);
  await rejects(spec(f, { hostConfig: { Binds: ['/data'] } }), /anonymous volumes are not supported yet/);
  await rejects(spec(f, { hostConfig: { Binds: [`${src}:rel`] } }), /mount path must be absolute/);
  await rejects(spec(f, { hostConfig: { Binds: [`${src}:/`] } }), /destination can't be '\/'/);
  await rejects(spec(f, { hostConfig: { Binds: [`${src}:/x:bogus`] } }), /invalid mode: bogus/);
  await rejects(spec(f, { hostConfig: { Binds: [`${src}:/x:ro,rw`] } }), /invalid mode: ro,rw/);
  await rejects(spec(f, { hostConfig: { Binds: [`${src}:/x:a:b`] } }), /invalid volume specification/);
  await rejects(spec(f, { hostConfig: { Binds: [`${src}:/x`, `${src}:/x/`] } }), /Duplicate mount point: \/x/);
  await rejects(spec(f, { hostConfig: { Binds: [`${src}:/x`], Tmpfs: { '/x': '' } } }), /Duplicate mount point: \/x/);
});

test('Mounts API: bind and tmpfs; volume refused', async (t) => {
  const f = fixture(t);
  const src = join(f.dir, 'data');
  mkdirSync(src);
  const s = await spec(f, {
    hostConfig: {
      Mounts: [
        { Type: 'bind', Source: src, Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
        { Type: 'bind', Source: src, Target: '/nr', BindOptions: { NonRecursive: true } },
        { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 } },
        { Type: 'tmpfs', Target: '/u', TmpfsOptions: { SizeBytes: 1000, Options: [['exec']] }, ReadOnly: true },
      ],
    },
  });
  assert.deepEqual(mount(s, '/b'), { destination: '/b', type: 'bind', source: src, options: ['rbind', 'ro', 'rslave'] });
  assert.deepEqual(mount(s, '/nr')?.options, ['bind', 'rprivate']);
  assert.deepEqual(mount(s, '/t'), { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=64m', 'mode=1777'] });
  assert.deepEqual(mount(s, '/u')?.options, ['nosuid', 'nodev', 'rprivate', 'size=1000', 'exec', 'ro']);
  assert.equal(s.linux.rootfsPropagation, 'rslave');

  const created = join(f.dir, 'created');
  await spec(f, { hostConfig: { Mounts: [{ Type: 'bind', Source: created, Target: '/c', BindOptions: { CreateMountpoint: true } }] } });
  assert.ok(existsSync(created));
  await rejects(spec(f, { hostConfig: { Mounts: [{ Type: 'bind', Source: join(f.dir, 'nope'), Target: '/n' }] } }), /bind source path does not exist/);
  await rejects(spec(f, { hostConfig: { Mounts: [{ Type: 'bind', Source: 'rel', Target: '/n' }] } }), /mount path must be absolute/);
  await rejects(spec(f, { hostConfig: { Mounts: [{ Type: 'bind', Source: src, Target: 'n' }] } }), /mount path must be absolute/);
  await rejects(spec(f, { hostConfig: { Mounts: [{ Type: 'bind', Source: src, Target: '/n', BindOptions: { Propagation: 'weird' } }] } }), /invalid propagation mode/);
  await rejects(spec(f, { hostConfig: { Mounts: [{ Type: 'tmpfs', Source: 'x', Target: '/n' }] } }), /Source must not be specified/);
  await rejects(spec(f, { hostConfig: { Mounts: [{ Type: 'volume', Source: 'v', Target: '/n' }] } }), /named volumes are not supported yet/);
  await rejects(spec(f, { hostConfig: { Mounts: [{ Type: 'npipe', Source: 'v', Target: '/n' }] } }), /mount type "npipe" is not supported/);
});

test('Tmpfs map: Docker defaults merged with user options', async (t) => {
  const f = fixture(t);
  const s = await spec(f, { hostConfig: { Tmpfs: { '/run': 'rw,size=64m', '/exec/': 'exec,mode=700' } } });
  assert.deepEqual(mount(s, '/run'), { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'rw', 'size=64m'] });
  assert.deepEqual(mount(s, '/exec')?.options, ['nosuid', 'nodev', 'rprivate', 'exec', 'mode=700']);
  await rejects(spec(f, { hostConfig: { Tmpfs: { 'run': '' } } }), /not an absolute path/);
  await rejects(spec(f, { hostConfig: { Tmpfs: { '/run': 'bogus' } } }), /invalid tmpfs option "bogus"/);
});

test('mergeTmpfsOptions: last of each flag group and data key wins', () => {
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'size=1m', 'exec', 'size=2m', 'defaults', 'private', 'rshared']), ['exec', 'size=2m', 'rshared']);
});

test('user mounts override defaults; /dev replaces everything under it; parents sorted first', async (t) => {
  const f = fixture(t);
  const src = join(f.dir, 'data');
  mkdirSync(src);
  let s = await spec(f, { hostConfig: { Binds: [`${src}:/a/b/c`, `${src}:/a`, `${src}:/dev/shm`, `${src}:/etc/hosts`] } });
  assert.equal(s.mounts.filter((m) => m.destination === '/dev/shm').length, 1);
  assert.equal(mount(s, '/dev/shm')?.type, 'bind');
  assert.equal(mount(s, '/etc/hosts')?.source, src);
  const order = s.mounts.map((m) => m.destination);
  assert.ok(order.indexOf('/a') < order.indexOf('/a/b/c'));
  s = await spec(f, { hostConfig: { Binds: [`${src}:/dev`] } });
  assert.deepEqual(s.mounts.filter((m) => m.destination.startsWith('/dev')).map((m) => m.destination), ['/dev']);
});

// ---- capabilities and security --------------------------------------------------------------------------------

test('capabilities: Docker defaults, add/drop with any spelling, ALL', async (t) => {
  const f = fixture(t);
  const caps = async (hc: SpecInput['hostConfig']): Promise<string[]> => (await spec(f, { hostConfig: hc })).process.capabilities?.bounding ?? [];
  const s = await spec(f);
  assert.deepEqual(s.process.capabilities, { bounding: [...DEFAULT_CAPS], effective: [...DEFAULT_CAPS], permitted: [...DEFAULT_CAPS], inheritable: [], ambient: [] });
  assert.equal(DEFAULT_CAPS.length, 14);
  const added = await caps({ CapAdd: ['net_admin', 'CAP_SYS_PTRACE', 'Sys_Ptrace'], CapDrop: ['cap_chown', 'MKNOD'] });
  assert.ok(added.includes('CAP_NET_ADMIN') && added.includes('CAP_SYS_PTRACE'));
  assert.ok(!added.includes('CAP_CHOWN') && !added.includes('CAP_MKNOD'));
  assert.equal(added.filter((c) => c === 'CAP_SYS_PTRACE').length, 1);
  assert.deepEqual(await caps({ CapDrop: ['ALL'], CapAdd: ['chown'] }), ['CAP_CHOWN']);
  assert.deepEqual(await caps({ CapDrop: ['all'] }), []);
  const all = await caps({ CapAdd: ['ALL'], CapDrop: ['SYS_ADMIN'] });
  assert.equal(all.length, ALL_CAPS.length - 1);
  await rejects(caps({ CapAdd: ['CAP_NOPE'] }), /unknown capability: "CAP_NOPE"/);
});

test('capabilities petid lacks are dropped from ALL and refused when asked by name', async (t) => {
  const f = fixture(t);
  const host = { ...HOST, boundingCaps: ALL_CAPS.filter((c) => c !== 'CAP_SYS_RESOURCE') };
  const s = await spec(f, { host, hostConfig: { Privileged: true } });
  assert.ok(!s.process.capabilities?.bounding.includes('CAP_SYS_RESOURCE'));
  assert.equal(s.process.capabilities?.bounding.length, ALL_CAPS.length - 1);
  await rejects(spec(f, { host, hostConfig: { CapAdd: ['SYS_RESOURCE'] } }), /CAP_SYS_RESOURCE is not available/);
});

test('masked and read-only paths; seccomp follows caps', async (t) => {
  const f = fixture(t);
  let s = await spec(f);
  assert.deepEqual(s.linux.maskedPaths, [...DEFAULT_MASKED_PATHS]);
  assert.deepEqual(s.linux.readonlyPaths, [...DEFAULT_READONLY_PATHS]);
  assert.ok(s.linux.maskedPaths?.includes('/sys/devices/virtual/powercap'));
  assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  assert.ok(!s.linux.seccomp?.syscalls.some((r) => r.names.includes('mount')));
  s = await spec(f, { hostConfig: { CapAdd: ['SYS_ADMIN'] } });
  assert.ok(s.linux.seccomp?.syscalls.some((r) => r.names.includes('mount') && r.action === 'SCMP_ACT_ALLOW'));
  s = await spec(f, { hostConfig: { MaskedPaths: [], ReadonlyPaths: ['/proc/sys/'] } });
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.deepEqual(s.linux.readonlyPaths, ['/proc/sys']);
});

test('privileged: all caps, no seccomp, no masks, all devices, /sys rw', async (t) => {
  const f = fixture(t);
  const s = await spec(f, { hostConfig: { Privileged: true } });
  assert.deepEqual(s.process.capabilities?.bounding, [...ALL_CAPS]);
  assert.equal(s.linux.seccomp, undefined);
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.deepEqual(s.linux.readonlyPaths, []);
  assert.deepEqual(s.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(!mount(s, '/sys')?.options?.includes('ro'));
  assert.ok(!mount(s, '/sys/fs/cgroup')?.options?.includes('ro'));
  const nullDev = s.linux.devices?.find((d) => d.path === '/dev/null');
  assert.deepEqual(nullDev && { type: nullDev.type, major: nullDev.major, minor: nullDev.minor }, { type: 'c', major: 1, minor: 3 });
  assert.ok(!s.linux.devices?.some((d) => d.path === '/dev/console' || d.path.startsWith('/dev/pts/')));
});

test('security options', async (t) => {
  const f = fixture(t);
  const so = (SecurityOpt: string[]): Promise<OciSpec> => spec(f, { hostConfig: { SecurityOpt } });
  assert.equal((await so(['no-new-privileges'])).process.noNewPrivileges, true);
  assert.equal((await so(['no-new-privileges:true'])).process.noNewPrivileges, true);
  assert.equal((await so(['no-new-privileges=false'])).process.noNewPrivileges, false);
  assert.equal((await so(['seccomp=unconfined'])).linux.seccomp, undefined);
  assert.equal((await so(['seccomp:unconfined'])).linux.seccomp, undefined);
  assert.equal((await so(['label=disable', 'label:disable', 'apparmor=unconfined'])).linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  assert.ok(!mount(await so(['writable-cgroups=true']), '/sys/fs/cgroup')?.options?.includes('ro'));
  // The docker CLI sends the profile's content.
  const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }] });
  assert.deepEqual((await so([`seccomp=${profile}`])).linux.seccomp, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }] });
  // A path goes through the loader.
  const seen: string[] = [];
  const s = await spec(f, {
    hostConfig: { SecurityOpt: ['seccomp=/etc/peti/p.json'] },
    seccompProfileLoader: async (p) => { seen.push(p); return profile; },
  });
  assert.deepEqual(seen, ['/etc/peti/p.json']);
  assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ALLOW');
  await rejects(spec(f, { hostConfig: { SecurityOpt: ['seccomp=/x.json'] }, seccompProfileLoader: async () => { throw new Error('ENOENT'); } }), /opening seccomp profile \(\/x.json\) failed/);
  await rejects(so(['seccomp={bad']), /decoding seccomp profile failed/);
  await rejects(so(['label=type:svirt_t']), /SELinux labels are not supported on this host/);
  await rejects(so(['apparmor=docker-default']), /AppArmor is not supported on this host/);
  await rejects(so(['no-new-privileges=maybe']), /invalid --security-opt 2/);
  await rejects(so(['bogus=1']), /invalid --security-opt 2/);
  await rejects(so(['bogus']), /invalid --security-opt 1/);
});

// ---- devices -------------------------------------------------------------------------------------------------

test('default device rules', async (t) => {
  const f = fixture(t);
  const s = await spec(f);
  const rules = s.linux.resources?.devices ?? [];
  assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
  assert.deepEqual(rules.slice(1, 3), [{ allow: true, type: 'c', access: 'm' }, { allow: true, type: 'b', access: 'm' }]);
  const allowed = rules.filter((r) => r.allow && r.access === 'rwm').map((r) => `${r.major}:${r.minor ?? '*'}`);
  assert.deepEqual(allowed, ['1:3', '1:5', '1:7', '1:8', '1:9', '5:0', '5:1', '5:2', '136:*']);
  assert.equal(s.linux.devices, undefined);
});

test('Devices: host device stat, permissions, cgroup rules', async (t) => {
  const f = fixture(t);
  const s = await spec(f, {
    hostConfig: {
      Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }, { PathOnHost: '/dev/zero' }],
      DeviceCgroupRules: ['c 10:200 rwm', 'b *:* r'],
    },
  });
  const mine = s.linux.devices?.find((d) => d.path === '/dev/mynull');
  assert.equal(mine?.type, 'c');
  assert.equal(mine?.major, 1);
  assert.equal(mine?.minor, 3);
  assert.equal(mine?.fileMode, 0o666);
  assert.ok(s.linux.devices?.some((d) => d.path === '/dev/zero' && d.minor === 5));
  const rules = s.linux.resources?.devices ?? [];
  assert.ok(rules.some((r) => r.allow && r.type === 'c' && r.major === 1 && r.minor === 3 && r.access === 'rw'));
  assert.ok(rules.some((r) => r.type === 'c' && r.major === 10 && r.minor === 200 && r.access === 'rwm'));
  assert.ok(rules.some((r) => r.type === 'b' && r.major === undefined && r.access === 'r'));
  await rejects(spec(f, { hostConfig: { Devices: [{ PathOnHost: '/dev/nope-nope' }] } }), /no such file or directory/);
  await rejects(spec(f, { hostConfig: { Devices: [{ PathOnHost: f.base.files.hosts }] } }), /not a device node/);
  await rejects(spec(f, { hostConfig: { Devices: [{ PathOnHost: '/dev/null', CgroupPermissions: 'rwx' }] } }), /invalid device cgroup permissions/);
  await rejects(spec(f, { hostConfig: { DeviceCgroupRules: ['c 1:3'] } }), /invalid device cgroup rule format: 'c 1:3'/);
});

// ---- resources -----------------------------------------------------------------------------------------------

test('memory: limit, swap semantics, reservation, swappiness, oom killer', async (t) => {
  const f = fixture(t);
  const mem = async (hc: SpecInput['hostConfig'], host = HOST): Promise<SpecResult> => build(f, { hostConfig: hc, host });
  const M = 1024 * 1024;
  assert.deepEqual((await mem({ Memory: 64 * M })).spec.linux.resources?.memory, { limit: 64 * M, swap: 128 * M });
  assert.deepEqual((await mem({ Memory: 64 * M, MemorySwap: -1 })).spec.linux.resources?.memory, { limit: 64 * M, swap: -1 });
  assert.deepEqual((await mem({ Memory: 64 * M, MemorySwap: 64 * M })).spec.linux.resources?.memory, { limit: 64 * M, swap: 64 * M });
  assert.deepEqual((await mem({ Memory: 64 * M, MemoryReservation: 32 * M, MemorySwappiness: 10 })).spec.linux.resources?.memory,
    { limit: 64 * M, swap: 128 * M, reservation: 32 * M, swappiness: 10 });
  assert.equal((await mem({})).spec.linux.resources?.memory, undefined);
  const noSwap = await mem({ Memory: 64 * M, MemorySwap: 100 * M }, { ...HOST, swapLimit: false });
  assert.deepEqual(noSwap.spec.linux.resources?.memory, { limit: 64 * M });
  assert.match(noSwap.warnings[0] ?? '', /does not support swap limit/);
  const oom = await mem({ OomKillDisable: true });
  assert.equal(oom.spec.linux.resources?.memory?.disableOOMKiller, true);
  assert.match(oom.warnings[0] ?? '', /OOM killer is disabled/);
  const v2 = await mem({ OomKillDisable: true, Memory: 64 * M, MemorySwappiness: 5 }, { ...HOST, cgroupV2: true });
  assert.equal(v2.spec.linux.resources?.memory?.disableOOMKiller, undefined);
  assert.equal(v2.warnings.length, 2);
  await rejects(mem({ Memory: 1024 }), /Minimum memory limit allowed is 6MB/);
  await rejects(mem({ Memory: 64 * M, MemorySwap: 32 * M }), /Minimum memoryswap limit should be larger than memory limit/);
  await rejects(mem({ MemorySwap: 64 * M }), /You should always set the Memory limit when using Memoryswap limit/);
  await rejects(mem({ Memory: 64 * M, MemoryReservation: 128 * M }), /can not be less than memory reservation/);
  await rejects(mem({ MemorySwappiness: 101 }), /valid memory swappiness range is 0-100/);
});

test('cpu: NanoCpus, quota/period, shares, cpusets', async (t) => {
  const f = fixture(t);
  const cpu = async (hc: SpecInput['hostConfig']): Promise<SpecResult> => build(f, { hostConfig: hc });
  assert.deepEqual((await cpu({ NanoCpus: 1.5e9 })).spec.linux.resources?.cpu, { period: 100000, quota: 150000 });
  assert.deepEqual((await cpu({ CpuQuota: 50000, CpuPeriod: 100000, CpuShares: 512, CpusetCpus: '0-1', CpusetMems: '0' })).spec.linux.resources?.cpu,
    { period: 100000, quota: 50000, shares: 512, cpus: '0-1', mems: '0' });
  const low = await cpu({ CpuShares: 1 });
  assert.equal(low.spec.linux.resources?.cpu?.shares, 2);
  assert.match(low.warnings[0] ?? '', /minimum allowed of 2/);
  await rejects(cpu({ NanoCpus: 1e9, CpuPeriod: 100000 }), /Nano CPUs and CPU Period cannot both be set/);
  await rejects(cpu({ NanoCpus: 1e9, CpuQuota: 100000 }), /Nano CPUs and CPU Quota cannot both be set/);
  await rejects(cpu({ NanoCpus: 3e9 }), /Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available/);
  await rejects(cpu({ CpuPeriod: 10 }), /CPU cfs period can not be less than 1ms/);
  await rejects(cpu({ CpuQuota: 10 }), /CPU cfs quota can not be less than 1ms/);
  await rejects(cpu({ CpusetCpus: '0-a' }), /Invalid value 0-a for cpuset cpus/);
  await rejects(cpu({ CpusetMems: 'x' }), /Invalid value x for cpuset mems/);
});

test('pids and blkio', async (t) => {
  const f = fixture(t);
  assert.deepEqual((await spec(f, { hostConfig: { PidsLimit: 100, BlkioWeight: 300 } })).linux.resources?.pids, { limit: 100 });
  assert.deepEqual((await spec(f, { hostConfig: { BlkioWeight: 300 } })).linux.resources?.blockIO, { weight: 300 });
  assert.equal((await spec(f, { hostConfig: { PidsLimit: 0 } })).linux.resources?.pids, undefined);
  assert.equal((await spec(f, { hostConfig: { PidsLimit: -1 } })).linux.resources?.pids, undefined);
  assert.equal((await spec(f, { hostConfig: { PidsLimit: null } })).linux.resources?.pids, undefined);
  await rejects(spec(f, { hostConfig: { BlkioWeight: 5 } }), /Range of blkio weight is from 10 to 1000/);
});

test('ulimits: default nofile clamped to the host, explicit ones checked', async (t) => {
  const f = fixture(t);
  assert.deepEqual((await spec(f)).process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
  assert.deepEqual((await spec(f, { hostRlimits: { nofile: 2 ** 21, nproc: 1000 } })).process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }]);
  const s = await spec(f, { hostConfig: { Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 4096 }, { Name: 'core', Soft: 0, Hard: 0 }, { Name: 'nproc', Soft: 100, Hard: 200 }] } });
  assert.deepEqual(s.process.rlimits, [
    { type: 'RLIMIT_NOFILE', hard: 4096, soft: 1024 },
    { type: 'RLIMIT_CORE', hard: 0, soft: 0 },
    { type: 'RLIMIT_NPROC', hard: 200, soft: 100 },
  ]);
  await rejects(spec(f, { hostConfig: { Ulimits: [{ Name: 'nofile', Soft: 1048576, Hard: 1048576 }] } }), /ulimit nofile=1048576:1048576 exceeds petid's own hard limit of 20000/);
  await rejects(spec(f, { hostConfig: { Ulimits: [{ Name: 'nproc', Soft: 1, Hard: 40000 }] } }), /hard limit of 32768/);
  await rejects(spec(f, { hostConfig: { Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] } }), /ulimit soft limit must be less than or equal to hard limit: 10 > 5/);
  await rejects(spec(f, { hostConfig: { Ulimits: [{ Name: 'files', Soft: 1, Hard: 1 }] } }), /invalid ulimit type: files/);
  await rejects(spec(f, { hostConfig: { Ulimits: [{ Name: 'core', Soft: -1, Hard: -1 }] } }), /unlimited is not supported yet/);
});

test('cgroup parent', async (t) => {
  const f = fixture(t);
  assert.equal((await spec(f, { hostConfig: { CgroupParent: 'tenants/a' } })).linux.cgroupsPath, `/tenants/a/${ID}`);
  await rejects(spec(f, { hostConfig: { CgroupParent: 'user.slice' } }), /systemd slices/);
});

// ---- sysctls -------------------------------------------------------------------------------------------------

test('sysctls: Docker network defaults and namespaced ones only', async (t) => {
  const f = fixture(t);
  let s = await spec(f, { hostConfig: { Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000', 'kernel.msgmax': '9', 'kernel.sem': '1 2 3 4', 'fs.mqueue.msg_max': '20' } } });
  assert.deepEqual(s.linux.sysctl, {
    'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0',
    'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000', 'kernel.msgmax': '9', 'kernel.sem': '1 2 3 4', 'fs.mqueue.msg_max': '20',
  });
  s = await spec(f, { network: { mode: 'host' } });
  assert.equal(s.linux.sysctl, undefined);
  s = await spec(f, { hostConfig: { Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '1024' } } });
  assert.equal(s.linux.sysctl?.['net.ipv4.ip_unprivileged_port_start'], '1024');
  await rejects(spec(f, { hostConfig: { Sysctls: { 'kernel.panic': '1' } } }), /sysctl 'kernel.panic' is not allowed/);
  await rejects(spec(f, { hostConfig: { Sysctls: { 'vm.swappiness': '1' } } }), /sysctl 'vm.swappiness' is not allowed/);
  await rejects(spec(f, { network: { mode: 'host' }, hostConfig: { Sysctls: { 'net.core.somaxconn': '1' } } }), /not allowed in host network namespace/);
  await rejects(spec(f, { hostConfig: { IpcMode: 'host', Sysctls: { 'kernel.shmmax': '1' } } }), /not allowed in host IPC namespace/);
  await rejects(spec(f, { hostConfig: { Sysctls: { 'net/../../x': '1' } } }), /not a valid name/);
});

// ---- refusals ------------------------------------------------------------------------------------------------

test('unsupported HostConfig fields are refused, naming the field', async (t) => {
  const f = fixture(t);
  const cases: [SpecInput['hostConfig'], RegExp][] = [
    [{ Runtime: 'kata' }, /HostConfig.Runtime "kata"/],
    [{ UsernsMode: 'keep-id' }, /HostConfig.UsernsMode/],
    [{ IpcMode: 'container:abc' }, /HostConfig.IpcMode/],
    [{ PidMode: 'container:abc' }, /HostConfig.PidMode/],
    [{ UTSMode: 'container:x' }, /HostConfig.UTSMode/],
    [{ CgroupnsMode: 'weird' }, /HostConfig.CgroupnsMode/],
    [{ Isolation: 'hyperv' }, /HostConfig.Isolation/],
    [{ DeviceRequests: [{ Driver: 'nvidia', Count: -1 }] }, /HostConfig.DeviceRequests/],
    [{ CpuRealtimeRuntime: 1000 }, /HostConfig.CpuRealtimeRuntime/],
    [{ CpuRealtimePeriod: 1000 }, /HostConfig.CpuRealtimePeriod/],
    [{ Links: ['db:db'] }, /HostConfig.Links/],
    [{ VolumeDriver: 'local' }, /HostConfig.VolumeDriver/],
    [{ VolumesFrom: ['other'] }, /HostConfig.VolumesFrom/],
    [{ BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1 }] }, /HostConfig.BlkioDeviceReadBps/],
    [{ StorageOpt: { size: '10G' } }, /HostConfig.StorageOpt/],
  ];
  for (const [hostConfig, re] of cases) await rejects(spec(f, { hostConfig }), re);
  // Values that mean "default" pass.
  await spec(f, { hostConfig: { Runtime: 'runc', UsernsMode: '', IpcMode: 'shareable', Isolation: 'default', Links: [], DeviceRequests: null, CpuRealtimeRuntime: 0 } });
});
