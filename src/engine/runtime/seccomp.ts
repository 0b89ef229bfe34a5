/**
 * Seccomp: Peti's default profile and Docker-format profile files, both turned into the OCI `linux.seccomp` form.
 *
 * Docker ships its profile in its own format, where a rule may be conditional on the container's capabilities
 * (`includes.caps` / `excludes.caps`), the host architecture and the kernel version. The default profile below is
 * written in that same format so one converter serves both: a rule is kept when all its `includes` hold and none of
 * its `excludes` do, exactly as the Docker daemon decides per container.
 *
 * The syscall lists are those of Docker's default profile (a deny-by-default allowlist, EPERM for the rest): the
 * effect inside a Peti container matches Docker's.
 */
import { release } from 'node:os';
import { InvalidArgument } from '../../lib/errors.js';
import type { OciSeccomp } from './types.js';

export interface SeccompArg { index: number; value: number; valueTwo?: number; op: string }

/** When a Docker-format rule applies. `arches` are Go names (amd64, arm64); `caps` use the CAP_ prefix. */
export interface SeccompFilter { caps?: string[]; arches?: string[]; minKernel?: string }

export interface DockerSeccompRule {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

/** A profile as `docker run --security-opt seccomp=profile.json` takes it. */
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: { architecture: string; subArchitectures: string[] | null }[] | null;
  syscalls?: DockerSeccompRule[] | null;
}

/** Host facts a profile is specialised for; both default to this machine. */
export interface SeccompHost {
  /** Node's `process.arch` (x64, arm64, arm, ia32). */
  arch?: string;
  /** `uname -r`, e.g. 6.1.0-18-amd64. */
  kernel?: string;
}

const EPERM = 1;
const ENOSYS = 38;
const ALLOW = 'SCMP_ACT_ALLOW';

/** The namespace flags of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET = 0x7E020000. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const ACTIONS = new Set([
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
]);
const OPS = new Set([
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
]);

/** Node's process.arch -> Go's GOARCH (the names Docker profiles use in `arches`) and the native seccomp arch. */
const ARCHES: Record<string, { go: string; scmp: string }> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  arm: { go: 'arm', scmp: 'SCMP_ARCH_ARM' },
  ia32: { go: '386', scmp: 'SCMP_ARCH_X86' },
};

function words(s: string): string[] {
  return s.split(/\s+/).filter((w) => w !== '');
}

/** Allowed for every container: what ordinary programs need, nothing that administers the host. */
const BASE_ALLOW = words(`
  accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime
  clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
  clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1
  epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
  exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown
  fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64
  fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd
  getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
  getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
  getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid
  getuid32 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy
  io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter
  io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown
  lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64
  madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2
  mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
  mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
  name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe
  pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64
  process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv
  recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall
  rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
  rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
  sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
  sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
  semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32
  setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32
  setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area
  set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
  sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync
  sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime
  timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
  timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat
  utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
`);

const eq = (index: number, value: number): SeccompArg => ({ index, value, op: 'SCMP_CMP_EQ' });
const withCap = (cap: string): SeccompFilter => ({ caps: [cap] });

/** Docker's default profile, in Docker's format, for the architectures Peti runs on (x86_64, aarch64). */
export const DEFAULT_DOCKER_PROFILE: DockerSeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: BASE_ALLOW, action: ALLOW },
    // ptrace became safe to allow once kernel 4.8 stopped it from bypassing seccomp.
    { names: ['process_vm_readv', 'process_vm_writev', 'ptrace'], action: ALLOW, includes: { minKernel: '4.8' } },
    // AF_VSOCK (40) reaches the hypervisor host; every other socket family is allowed.
    { names: ['socket'], action: ALLOW, args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
    // personality: only PER_LINUX, PER_LINUX32, UNAME26 variants and the query value 0xffffffff.
    ...[0, 8, 0x20000, 0x20008, 0xffffffff].map((v): DockerSeccompRule => ({ names: ['personality'], action: ALLOW, args: [eq(0, v)] })),
    {
      names: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'],
      action: ALLOW, includes: { arches: ['arm', 'arm64'] },
    },
    { names: ['arch_prctl'], action: ALLOW, includes: { arches: ['amd64', 'x32'] } },
    { names: ['modify_ldt'], action: ALLOW, includes: { arches: ['amd64', 'x32', 'x86'] } },
    { names: ['open_by_handle_at'], action: ALLOW, includes: withCap('CAP_DAC_READ_SEARCH') },
    {
      names: words(`bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr
        move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount
        umount2 unshare`),
      action: ALLOW, includes: withCap('CAP_SYS_ADMIN'),
    },
    // Without CAP_SYS_ADMIN, clone may not create namespaces: every namespace flag must be clear.
    {
      names: ['clone'], action: ALLOW, args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    // clone3 passes its flags in memory seccomp cannot read: answer ENOSYS so glibc falls back to clone.
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['reboot'], action: ALLOW, includes: withCap('CAP_SYS_BOOT') },
    { names: ['chroot'], action: ALLOW, includes: withCap('CAP_SYS_CHROOT') },
    { names: ['delete_module', 'init_module', 'finit_module'], action: ALLOW, includes: withCap('CAP_SYS_MODULE') },
    { names: ['acct'], action: ALLOW, includes: withCap('CAP_SYS_PACCT') },
    {
      names: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
      action: ALLOW, includes: withCap('CAP_SYS_PTRACE'),
    },
    { names: ['iopl', 'ioperm'], action: ALLOW, includes: withCap('CAP_SYS_RAWIO') },
    { names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'], action: ALLOW, includes: withCap('CAP_SYS_TIME') },
    { names: ['vhangup'], action: ALLOW, includes: withCap('CAP_SYS_TTY_CONFIG') },
    { names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'], action: ALLOW, includes: withCap('CAP_SYS_NICE') },
    { names: ['syslog'], action: ALLOW, includes: withCap('CAP_SYSLOG') },
    { names: ['bpf'], action: ALLOW, includes: withCap('CAP_BPF') },
    { names: ['perf_event_open'], action: ALLOW, includes: withCap('CAP_PERFMON') },
  ],
};

/** Peti's default seccomp profile for a container whose bounding set is `caps`. */
export function defaultSeccompProfile(caps: string[], host: SeccompHost = {}): OciSeccomp {
  return convertDockerProfile(DEFAULT_DOCKER_PROFILE, caps, host);
}

/**
 * Parse a Docker-format seccomp profile (the content of `--security-opt seccomp=file.json`) and specialise it for
 * a container with bounding set `caps`. Throws InvalidArgument on malformed JSON or unknown actions/operators.
 */
export function loadSeccompProfile(json: string, caps: string[] = [], host: SeccompHost = {}): OciSeccomp {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new InvalidArgument(`decoding seccomp profile failed: ${(err as Error).message}`, { cause: err });
  }
  return convertDockerProfile(validateProfile(raw), caps, host);
}

/** Turn a Docker-format profile into OCI form for one container (caps = its bounding set). */
export function convertDockerProfile(profile: DockerSeccompProfile, caps: string[], host: SeccompHost = {}): OciSeccomp {
  const arch = ARCHES[host.arch ?? process.arch];
  const kernel = host.kernel ?? release();
  const capSet = new Set(caps.map(normalizeCap));
  const out: OciSeccomp = { defaultAction: profile.defaultAction, syscalls: [] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;

  if (profile.architectures && profile.architectures.length > 0) {
    out.architectures = [...profile.architectures];
  } else if (profile.archMap && arch) {
    const entry = profile.archMap.find((a) => a.architecture === arch.scmp);
    if (entry) out.architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  }

  for (const rule of profile.syscalls ?? []) {
    if (!applies(rule, capSet, arch?.go, kernel)) continue;
    const names = rule.names && rule.names.length > 0 ? rule.names : rule.name !== undefined ? [rule.name] : [];
    if (names.length === 0) continue;
    const entry: OciSeccomp['syscalls'][number] = { names: [...names], action: rule.action };
    if (rule.errnoRet !== undefined) entry.errnoRet = rule.errnoRet;
    if (rule.args && rule.args.length > 0) entry.args = rule.args.map((a) => ({ ...a }));
    out.syscalls.push(entry);
  }
  return out;
}

function applies(rule: DockerSeccompRule, caps: Set<string>, goArch: string | undefined, kernel: string): boolean {
  const inc = rule.includes ?? {};
  const exc = rule.excludes ?? {};
  if (exc.arches?.length && goArch !== undefined && exc.arches.includes(goArch)) return false;
  if (exc.caps?.some((c) => caps.has(normalizeCap(c)))) return false;
  if (exc.minKernel && kernelAtLeast(kernel, exc.minKernel)) return false;
  if (inc.arches?.length && (goArch === undefined || !inc.arches.includes(goArch))) return false;
  if (inc.caps?.length && !inc.caps.every((c) => caps.has(normalizeCap(c)))) return false;
  if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
  return true;
}

function normalizeCap(c: string): string {
  const up = c.toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/** Compare `major.minor[.patch]` prefixes of kernel release strings. */
export function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (s: string): number[] => (/^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(s) ?? []).slice(1).map((n) => Number(n ?? 0));
  const have = parse(kernel);
  const want = parse(min);
  for (let i = 0; i < 3; i++) {
    const h = have[i] ?? 0;
    const w = want[i] ?? 0;
    if (h !== w) return h > w;
  }
  return true;
}

// ---- validation of untrusted profile JSON ----

function bad(msg: string): InvalidArgument {
  return new InvalidArgument(`invalid seccomp profile: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw bad(`${what} must be a list of strings`);
  return v as string[];
}

function uint(v: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw bad(`${what} must be an integer from 0 to ${max}`);
  return v;
}

function action(v: unknown, what: string): string {
  if (typeof v !== 'string' || !ACTIONS.has(v)) throw bad(`${what}: unknown action ${JSON.stringify(v)}`);
  return v;
}

function filter(v: unknown, what: string): SeccompFilter | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw bad(`${what} must be an object`);
  const f: SeccompFilter = {};
  const caps = stringList(v.caps, `${what}.caps`);
  const arches = stringList(v.arches, `${what}.arches`);
  if (caps) f.caps = caps;
  if (arches) f.arches = arches;
  if (v.minKernel !== undefined && v.minKernel !== null && v.minKernel !== '') {
    if (typeof v.minKernel !== 'string' || !/^\d+\.\d+(\.\d+)?$/.test(v.minKernel)) throw bad(`${what}.minKernel must look like 4.8`);
    f.minKernel = v.minKernel;
  }
  return f;
}

function validateProfile(raw: unknown): DockerSeccompProfile {
  if (!isObject(raw)) throw bad('the profile must be a JSON object');
  const profile: DockerSeccompProfile = { defaultAction: action(raw.defaultAction, 'defaultAction') };
  const errno = uint(raw.defaultErrnoRet, 'defaultErrnoRet', 4095);
  if (errno !== undefined) profile.defaultErrnoRet = errno;

  const architectures = stringList(raw.architectures, 'architectures');
  const hasArchMap = Array.isArray(raw.archMap) && raw.archMap.length > 0;
  if (architectures && architectures.length > 0 && hasArchMap) {
    throw bad("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  for (const a of architectures ?? []) if (!a.startsWith('SCMP_ARCH_')) throw bad(`unknown architecture ${a}`);
  if (architectures) profile.architectures = architectures;
  if (raw.archMap !== undefined && raw.archMap !== null) {
    if (!Array.isArray(raw.archMap)) throw bad('archMap must be a list');
    profile.archMap = raw.archMap.map((m: unknown, i: number) => {
      if (!isObject(m) || typeof m.architecture !== 'string') throw bad(`archMap[${i}].architecture must be a string`);
      return { architecture: m.architecture, subArchitectures: stringList(m.subArchitectures, `archMap[${i}].subArchitectures`) ?? null };
    });
  }

  if (raw.syscalls !== undefined && raw.syscalls !== null) {
    if (!Array.isArray(raw.syscalls)) throw bad('syscalls must be a list');
    profile.syscalls = raw.syscalls.map((r: unknown, i: number) => validateRule(r, `syscalls[${i}]`));
  }
  return profile;
}

function validateRule(r: unknown, where: string): DockerSeccompRule {
  if (!isObject(r)) throw bad(`${where} must be an object`);
  const names = stringList(r.names, `${where}.names`);
  const hasName = typeof r.name === 'string' && r.name !== '';
  if (hasName && names && names.length > 0) {
    throw bad(`${where}: 'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'`);
  }
  if (r.name !== undefined && typeof r.name !== 'string') throw bad(`${where}.name must be a string`);
  const rule: DockerSeccompRule = { action: action(r.action, `${where}.action`) };
  if (names) rule.names = names;
  if (hasName) rule.name = r.name as string;
  const errno = uint(r.errnoRet, `${where}.errnoRet`, 4095);
  if (errno !== undefined) rule.errnoRet = errno;
  if (r.args !== undefined && r.args !== null) {
    if (!Array.isArray(r.args)) throw bad(`${where}.args must be a list`);
    if (r.args.length > 6) throw bad(`${where}.args: a syscall has at most 6 arguments`);
    rule.args = r.args.map((a: unknown, j: number) => {
      const at = `${where}.args[${j}]`;
      if (!isObject(a)) throw bad(`${at} must be an object`);
      const index = uint(a.index, `${at}.index`, 5);
      const value = uint(a.value, `${at}.value`) ?? 0;
      if (index === undefined) throw bad(`${at}.index is required`);
      if (typeof a.op !== 'string' || !OPS.has(a.op)) throw bad(`${at}: unknown operator ${JSON.stringify(a.op)}`);
      const arg: SeccompArg = { index, value, op: a.op };
      const two = uint(a.valueTwo, `${at}.valueTwo`);
      if (two !== undefined) arg.valueTwo = two;
      return arg;
    });
  }
  const inc = filter(r.includes, `${where}.includes`);
  const exc = filter(r.excludes, `${where}.excludes`);
  if (inc) rule.includes = inc;
  if (exc) rule.excludes = exc;
  if (typeof r.comment === 'string') rule.comment = r.comment;
  return rule;
}
