import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSeccompProfile, loadSeccompProfile, kernelAtLeast, DEFAULT_DOCKER_PROFILE } from './seccomp.js';
import type { OciSeccomp } from './types.js';
import { InvalidArgument } from '../../lib/errors.js';

const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const X64 = { arch: 'x64', kernel: '6.1.0-18-amd64' };

/** Every rule that mentions `name`, with its action and args. */
function rulesFor(p: OciSeccomp, name: string): OciSeccomp['syscalls'] {
  return p.syscalls.filter((s) => s.names.includes(name));
}
function allowed(p: OciSeccomp, name: string): boolean {
  return rulesFor(p, name).some((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args);
}

test('default profile: EPERM by default, native archs for x86_64 and aarch64', () => {
  const p = defaultSeccompProfile(DEFAULT_CAPS, X64);
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const arm = defaultSeccompProfile(DEFAULT_CAPS, { arch: 'arm64', kernel: '6.1.0' });
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
});

test('default profile allows ordinary syscalls and denies admin ones with default caps', () => {
  const p = defaultSeccompProfile(DEFAULT_CAPS, X64);
  for (const s of ['read', 'write', 'openat', 'execve', 'futex']) assert.ok(allowed(p, s), s);
  for (const s of ['ptrace', 'process_vm_readv']) assert.ok(allowed(p, s), `${s} (kernel >= 4.8)`);
  assert.ok(allowed(p, 'chroot'), 'CAP_SYS_CHROOT is a default cap');
  assert.ok(allowed(p, 'arch_prctl'), 'amd64 only');
  assert.ok(!allowed(p, 'set_tls'), 'arm only');
  for (const s of ['mount', 'umount2', 'unshare', 'setns', 'reboot', 'init_module', 'finit_module', 'delete_module',
    'acct', 'settimeofday', 'clock_settime', 'iopl', 'ioperm', 'kcmp', 'syslog', 'bpf', 'perf_event_open', 'mbind',
    'open_by_handle_at', 'vhangup', 'kexec_load', 'swapon', 'keyctl', 'add_key', 'request_key', 'userfaultfd']) {
    assert.equal(rulesFor(p, s).length, 0, `${s} must not be allowed`);
  }
});

test('clone: namespace flags masked without CAP_SYS_ADMIN, clone3 -> ENOSYS', () => {
  const p = defaultSeccompProfile(DEFAULT_CAPS, X64);
  const clone = rulesFor(p, 'clone');
  assert.equal(clone.length, 1);
  assert.equal(clone[0]?.action, 'SCMP_ACT_ALLOW');
  assert.deepEqual(clone[0]?.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  const clone3 = rulesFor(p, 'clone3');
  assert.deepEqual(clone3, [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
});

test('capability-gated groups follow the effective caps', () => {
  const admin = defaultSeccompProfile([...DEFAULT_CAPS, 'CAP_SYS_ADMIN'], X64);
  for (const s of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'sethostname']) assert.ok(allowed(admin, s), s);
  assert.ok(!rulesFor(admin, 'clone3').some((r) => r.action === 'SCMP_ACT_ERRNO'));
  assert.ok(!rulesFor(admin, 'clone').some((r) => r.args), 'no masked clone rule with CAP_SYS_ADMIN');

  const cases: [string, string[]][] = [
    ['CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise']],
    ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
    ['CAP_SYS_BOOT', ['reboot']],
    ['CAP_SYS_TIME', ['settimeofday', 'clock_settime', 'clock_settime64', 'stime']],
    ['CAP_SYS_NICE', ['mbind', 'set_mempolicy', 'get_mempolicy']],
    ['CAP_SYS_PACCT', ['acct']],
    ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
    ['CAP_SYSLOG', ['syslog']],
    ['CAP_SYS_TTY_CONFIG', ['vhangup']],
    ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
    ['CAP_BPF', ['bpf']],
    ['CAP_PERFMON', ['perf_event_open']],
  ];
  for (const [cap, calls] of cases) {
    const p = defaultSeccompProfile([...DEFAULT_CAPS, cap], X64);
    for (const s of calls) assert.ok(allowed(p, s), `${s} with ${cap}`);
  }
  // Without CAP_SYS_CHROOT, chroot goes.
  const noChroot = defaultSeccompProfile(DEFAULT_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT'), X64);
  assert.ok(!allowed(noChroot, 'chroot'));
  // Cap names are matched case-insensitively, with or without the prefix.
  assert.ok(allowed(defaultSeccompProfile(['sys_admin'], X64), 'mount'));
});

test('personality only with the allowed personas; socket without AF_VSOCK', () => {
  const p = defaultSeccompProfile(DEFAULT_CAPS, X64);
  const values = rulesFor(p, 'personality').map((r) => {
    assert.equal(r.args?.length, 1);
    assert.equal(r.args?.[0]?.op, 'SCMP_CMP_EQ');
    return r.args?.[0]?.value;
  });
  assert.deepEqual(values, [0, 8, 131072, 131080, 4294967295]);
  assert.deepEqual(rulesFor(p, 'socket')[0]?.args, [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }]);
});

test('old kernels lose ptrace unless CAP_SYS_PTRACE', () => {
  const old = defaultSeccompProfile(DEFAULT_CAPS, { arch: 'x64', kernel: '4.4.0' });
  assert.ok(!allowed(old, 'ptrace'));
  assert.ok(allowed(defaultSeccompProfile([...DEFAULT_CAPS, 'CAP_SYS_PTRACE'], { arch: 'x64', kernel: '4.4.0' }), 'ptrace'));
});

test('kernelAtLeast', () => {
  assert.ok(kernelAtLeast('6.18.0-peti', '4.8'));
  assert.ok(kernelAtLeast('4.8.0', '4.8'));
  assert.ok(!kernelAtLeast('4.7.10', '4.8'));
  assert.ok(kernelAtLeast('5.10', '5.4.2'));
  assert.ok(!kernelAtLeast('5.4.1', '5.4.2'));
});

test('the default profile round-trips through the loader', () => {
  const viaJson = loadSeccompProfile(JSON.stringify(DEFAULT_DOCKER_PROFILE), DEFAULT_CAPS, X64);
  assert.deepEqual(viaJson, defaultSeccompProfile(DEFAULT_CAPS, X64));
});

test('loader: Docker format with archMap, includes/excludes caps and arches', () => {
  const json = JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] },
      { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null },
    ],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { name: 'getpid', action: 'SCMP_ACT_ALLOW' },
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, excludes: { caps: ['CAP_KILL'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
      { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['futex'], action: 'SCMP_ACT_LOG', excludes: { arches: ['amd64'] } },
      { names: ['newthing'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '99.0' } },
    ],
  });
  const p = loadSeccompProfile(json, ['CAP_KILL'], X64);
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, undefined);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  assert.deepEqual(p.syscalls, [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
    { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW' },
  ]);
  const admin = loadSeccompProfile(json, ['SYS_ADMIN'], X64);
  assert.ok(allowed(admin, 'mount'));
  assert.deepEqual(rulesFor(admin, 'kill'), [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }]);
});

test('loader: plain OCI-like profile with architectures and args', () => {
  const p = loadSeccompProfile(JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }],
  }));
  assert.deepEqual(p, {
    defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
    ],
  });
});

test('loader rejects bad input with InvalidArgument', () => {
  const cases: [string, RegExp][] = [
    ['not json', /decoding seccomp profile failed/],
    ['[]', /must be a JSON object/],
    ['{}', /unknown action/],
    ['{"defaultAction":"SCMP_ACT_NOPE"}', /unknown action "SCMP_ACT_NOPE"/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":-1}', /defaultErrnoRet/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":{}}', /syscalls must be a list/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"ALLOW"}]}', /unknown action/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":"read","action":"SCMP_ACT_ALLOW"}]}', /names must be a list/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"}]}', /either 'name' or 'names'/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}', /index/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_LIKE"}]}]}', /unknown operator/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":[]}]}', /either 'architectures' or 'archMap'/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","architectures":["x86_64"]}', /unknown architecture/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"caps":"CAP_X"}}]}', /caps must be a list/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"new"}}]}', /minKernel/],
  ];
  for (const [json, re] of cases) {
    assert.throws(() => loadSeccompProfile(json), (err: unknown) => err instanceof InvalidArgument && re.test(err.message), json);
  }
});
