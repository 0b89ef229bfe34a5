/**
 * Build the OCI runtime spec (config.json) of a container from its Docker create body and its image config, with
 * Docker's defaults and semantics. Inputs are hostile until checked: every refusal is an InvalidArgument naming
 * the field, in Docker's words where clients or users know them.
 *
 * buildSpec touches the filesystem in the two places Docker does: it creates a missing working directory inside
 * the rootfs and a missing host directory for a `Binds` source.
 */
import { constants as fsc, existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { availableParallelism, hostname as osHostname, release } from 'node:os';
import { posix } from 'node:path';
import { InvalidArgument } from '../../lib/errors.js';
import type { ContainerConfig } from '../../lib/oci/types.js';
import { secureJoin } from '../../lib/safe-path.js';
import { defaultSeccompProfile, loadSeccompProfile } from './seccomp.js';
import type { OciLinuxResources, OciMount, OciSeccomp, OciSpec } from './types.js';
import { resolveUser } from './user.js';

// ---------------------------------------------------------------------------------------------------------------
// Docker's create body, the fields the spec depends on (Docker's JSON names)

/** Top-level fields of Docker's `POST /containers/create` body that shape the process. */
export interface CreateConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  Env?: string[] | null;
  /** Docker's strslice: a JSON string is a one-element list. */
  Cmd?: string[] | string | null;
  Entrypoint?: string[] | string | null;
  WorkingDir?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  StopSignal?: string;
  Labels?: Record<string, string> | null;
  /** Not a Docker Config field (Docker has it in HostConfig); accepted here too. [height, width]. */
  ConsoleSize?: [number, number] | null;
}

export interface DockerMount {
  Type?: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image' | string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: {
    Propagation?: string;
    NonRecursive?: boolean;
    CreateMountpoint?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> }; Subpath?: string } | null;
  ImageOptions?: { Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
}

export interface DockerUlimit { Name: string; Soft: number; Hard: number }
export interface DockerDeviceMapping { PathOnHost: string; PathInContainer?: string; CgroupPermissions?: string }
export interface DockerThrottleDevice { Path: string; Rate: number }
export interface DockerWeightDevice { Path: string; Weight: number }
export interface DockerDeviceRequest { Driver?: string; Count?: number; DeviceIDs?: string[]; Capabilities?: string[][]; Options?: Record<string, string> }

/** Docker's HostConfig, every field of API v1.50 (Resources inlined, as Docker's JSON has them). */
export interface HostConfig {
  // Resources
  CpuShares?: number;
  Memory?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  BlkioWeightDevice?: DockerWeightDevice[] | null;
  BlkioDeviceReadBps?: DockerThrottleDevice[] | null;
  BlkioDeviceWriteBps?: DockerThrottleDevice[] | null;
  BlkioDeviceReadIOps?: DockerThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: DockerThrottleDevice[] | null;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: DockerDeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
  DeviceRequests?: DockerDeviceRequest[] | null;
  KernelMemory?: number;
  KernelMemoryTCP?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  NanoCpus?: number;
  OomKillDisable?: boolean | null;
  Init?: boolean | null;
  PidsLimit?: number | null;
  Ulimits?: DockerUlimit[] | null;
  CpuCount?: number;
  CpuPercent?: number;
  IOMaximumIOps?: number;
  IOMaximumBandwidth?: number;
  // Everything else
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: { Type?: string; Config?: Record<string, string> };
  NetworkMode?: string;
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  Mounts?: DockerMount[] | null;
  ConsoleSize?: [number, number] | null;
  Annotations?: Record<string, string> | null;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: string;
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string> | null;
  Tmpfs?: Record<string, string> | null;
  UTSMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  Runtime?: string;
  Isolation?: string;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
}

/** Facts about the host that change the spec. detectHostFacts() reads them; tests pass their own. */
export interface HostFacts {
  /** Unified cgroup hierarchy at /sys/fs/cgroup. */
  cgroupV2: boolean;
  /** The kernel accounts swap (cgroup v1: memory.memsw.*). */
  swapLimit: boolean;
  cpus: number;
  /** petid's own bounding set: a container can never hold more. */
  boundingCaps: string[];
  hostname: string;
  /** Which of Docker's default network sysctls this kernel has. */
  pingGroupRange: boolean;
  unprivilegedPortStart: boolean;
  /** Node's process.arch and `uname -r`, for the seccomp profile. */
  arch: string;
  kernel: string;
}

export interface SpecInput {
  id: string;
  /** Host path where the container's rootfs is mounted (spec.root.path). */
  rootfs: string;
  /** The image config's `config`. */
  image: ContainerConfig;
  config: CreateConfig;
  hostConfig: HostConfig;
  /** Host files bind-mounted at /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  files: { hosts: string; hostname: string; resolvConf: string };
  /** e.g. "/peti/<id>" (cgroupfs). HostConfig.CgroupParent, when set, replaces the parent. */
  cgroupsPath: string;
  /** petid's own hard limits: the spec never asks for more. */
  hostRlimits: { nofile: number; nproc: number };
  network: { mode: 'none' | 'host' | 'netns'; netnsPath?: string };
  /** Host path of catatonit/tini, used when HostConfig.Init is true. */
  initPath?: string;
  /** Reads a seccomp profile file named in SecurityOpt (`seccomp=/path`). */
  seccompProfileLoader?: (path: string) => Promise<string>;
  /** Host facts; detected when absent. */
  host?: HostFacts;
  /** Where privileged containers take their devices from (default /dev). */
  hostDevDir?: string;
  /**
   * Mounts the volume service resolved (named and anonymous volumes, VolumesFrom), targets already resolved inside
   * the rootfs. When given, volume entries of Binds/Mounts and VolumesFrom are taken from here; when absent they
   * are refused.
   */
  volumes?: ResolvedVolumeMount[];
}

/** A volume (or inherited bind) the volume service resolved to a host path. */
export interface ResolvedVolumeMount { destination: string; source: string; readonly: boolean; propagation?: string }

export interface SpecResult { spec: OciSpec; warnings: string[] }

// ---------------------------------------------------------------------------------------------------------------
// Facts carried over from Docker

/** Docker's 14 default capabilities. */
export const DEFAULT_CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every Linux capability, indexed by its number (linux/capability.h). */
export const ALL_CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
export const DEFAULT_NOFILE = 1048576;
export const INIT_PATH_IN_CONTAINER = '/sbin/peti-init';
export const STOP_SIGNAL_ANNOTATION = 'org.opencontainers.image.stopSignal';
const MIN_MEMORY = 6 * 1024 * 1024;

const RLIMITS = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile',
  'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

type DeviceRule = NonNullable<OciLinuxResources['devices']>[number];
type OciDevice = NonNullable<OciSpec['linux']['devices']>[number];
const rwm = (type: string, major?: number, minor?: number): DeviceRule => {
  const r: DeviceRule = { allow: true, type, access: 'rwm' };
  if (major !== undefined) r.major = major;
  if (minor !== undefined) r.minor = minor;
  return r;
};
/** Deny everything, then mknod of any node and the standard character devices (runc's and Docker's defaults). */
const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  rwm('c', 1, 3), // null
  rwm('c', 1, 5), // zero
  rwm('c', 1, 7), // full
  rwm('c', 1, 8), // random
  rwm('c', 1, 9), // urandom
  rwm('c', 5, 0), // tty
  rwm('c', 5, 1), // console
  rwm('c', 5, 2), // ptmx
  rwm('c', 136), // pts/*
];

// ---------------------------------------------------------------------------------------------------------------

/** Read the host facts buildSpec needs; cheap (a few stat calls), callers may cache the result. */
export function detectHostFacts(): HostFacts {
  const cgroupV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const swapLimit = cgroupV2 || existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
  let boundingCaps = [...ALL_CAPS];
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1]) {
      const mask = BigInt(`0x${m[1]}`);
      boundingCaps = ALL_CAPS.filter((_, i) => (mask >> BigInt(i)) & 1n);
    }
  } catch { /* not Linux: keep all */ }
  return {
    cgroupV2,
    swapLimit,
    cpus: availableParallelism(),
    boundingCaps,
    hostname: osHostname(),
    pingGroupRange: existsSync('/proc/sys/net/ipv4/ping_group_range'),
    unprivilegedPortStart: existsSync('/proc/sys/net/ipv4/ip_unprivileged_port_start'),
    arch: process.arch,
    kernel: release(),
  };
}

/** The OCI spec for one container, plus Docker-style warnings for the create response. */
export async function buildSpec(input: SpecInput): Promise<SpecResult> {
  const hc = input.hostConfig;
  const cfg = input.config;
  const host = input.host ?? detectHostFacts();
  const warnings: string[] = [];
  rejectUnsupported(hc, input.volumes !== undefined);

  const privileged = hc.Privileged === true;
  const pidHost = hc.PidMode === 'host';
  const ipcHost = hc.IpcMode === 'host';
  const utsHost = hc.UTSMode === 'host';
  const netHost = input.network.mode === 'host';

  // Process
  const args = commandLine(cfg, input.image);
  let hostname = cfg.Hostname ?? '';
  if (utsHost && hostname !== '') throw new InvalidArgument('Conflicting options: hostname and the UTS mode');
  if (hostname === '') hostname = netHost || utsHost ? host.hostname : input.id.slice(0, 12);
  if (hostname.length > 64) throw new InvalidArgument(`invalid hostname ${JSON.stringify(hostname)}: longer than 64 characters`);
  const user = await resolveUser(input.rootfs, nonEmpty(cfg.User) ?? input.image.User, hc.GroupAdd ?? undefined);
  const cwd = await workingDir(input.rootfs, nonEmpty(cfg.WorkingDir) ?? nonEmpty(input.image.WorkingDir) ?? '/');
  const env = environment(input.image.Env ?? [], cfg.Env ?? [], hostname, cfg.Tty === true, user.home);
  const caps = capabilities(hc, host);
  const security = securityOptions(hc.SecurityOpt ?? []);

  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: cfg.Tty === true,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args,
      env,
      cwd,
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps], inheritable: [], ambient: [] },
      rlimits: rlimits(hc.Ulimits ?? [], input.hostRlimits),
      noNewPrivileges: security.noNewPrivileges,
      oomScoreAdj: oomScoreAdj(hc.OomScoreAdj),
    },
    root: { path: input.rootfs, readonly: hc.ReadonlyRootfs === true },
    mounts: [],
    annotations: { ...(hc.Annotations ?? {}) },
    linux: {
      namespaces: [],
      cgroupsPath: cgroupsPath(input),
      resources: {},
    },
  };
  const consoleSize = hc.ConsoleSize ?? cfg.ConsoleSize;
  if (cfg.Tty === true && consoleSize && consoleSize[0] > 0 && consoleSize[1] > 0) {
    spec.process.consoleSize = { height: consoleSize[0], width: consoleSize[1] };
  }
  if (!utsHost) {
    spec.hostname = hostname;
    if (nonEmpty(cfg.Domainname)) spec.domainname = cfg.Domainname as string;
  }
  const stopSignal = nonEmpty(cfg.StopSignal) ?? nonEmpty(input.image.StopSignal) ?? 'SIGTERM';
  (spec.annotations as Record<string, string>)[STOP_SIGNAL_ANNOTATION] = stopSignal;

  // Namespaces
  const ns = spec.linux.namespaces;
  if (!pidHost) ns.push({ type: 'pid' });
  if (!ipcHost) ns.push({ type: 'ipc' });
  if (!utsHost) ns.push({ type: 'uts' });
  ns.push({ type: 'mount' });
  const cgroupns = hc.CgroupnsMode === 'private' || ((hc.CgroupnsMode ?? '') === '' && host.cgroupV2);
  if (cgroupns) ns.push({ type: 'cgroup' });
  if (input.network.mode === 'none') ns.push({ type: 'network' });
  else if (input.network.mode === 'netns') {
    if (!input.network.netnsPath) throw new InvalidArgument('network mode netns needs a namespace path');
    ns.push({ type: 'network', path: input.network.netnsPath });
  }

  // Init
  if (hc.Init === true) {
    if (!input.initPath) throw new InvalidArgument('--init was requested but no init binary (catatonit or tini) is installed on this host');
    spec.process.args = [INIT_PATH_IN_CONTAINER, '--', ...args];
  }

  // Mounts
  const mounts = await userMounts(input);
  spec.mounts = assembleMounts(input, mounts, { privileged, ipcHost, cgroupns, writableCgroups: security.writableCgroups });
  const propagation = rootPropagation(mounts);
  if (propagation) spec.linux.rootfsPropagation = propagation;

  // Security
  if (privileged) {
    spec.linux.maskedPaths = [];
    spec.linux.readonlyPaths = [];
  } else {
    spec.linux.maskedPaths = hc.MaskedPaths ? hc.MaskedPaths.map((p) => containerPath(p, 'MaskedPaths')) : [...DEFAULT_MASKED_PATHS];
    spec.linux.readonlyPaths = hc.ReadonlyPaths ? hc.ReadonlyPaths.map((p) => containerPath(p, 'ReadonlyPaths')) : [...DEFAULT_READONLY_PATHS];
    const seccomp = await seccompProfile(security.seccomp, caps, host, input.seccompProfileLoader);
    if (seccomp) spec.linux.seccomp = seccomp;
  }

  // Devices and resources
  const devices = await deviceSetup(hc, privileged, input.hostDevDir ?? '/dev');
  if (devices.devices.length > 0) spec.linux.devices = devices.devices;
  spec.linux.resources = { devices: devices.rules, ...resources(hc, host, warnings) };

  // Sysctls
  const sysctl = sysctls(hc.Sysctls ?? {}, { netPrivate: !netHost, ipcPrivate: !ipcHost, host });
  if (Object.keys(sysctl).length > 0) spec.linux.sysctl = sysctl;

  return { spec, warnings };
}

// ---------------------------------------------------------------------------------------------------------------
// Refusals

function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '' || v === 0) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Fields that would change behaviour and that Peti cannot honour yet: refusing beats silently ignoring. */
function rejectUnsupported(hc: HostConfig, volumesResolved: boolean): void {
  const refuse = (field: string, value: unknown): never => {
    throw new InvalidArgument(`HostConfig.${field} ${JSON.stringify(value)} is not supported by Peti yet`);
  };
  const runtime = hc.Runtime ?? '';
  if (!['', 'crun', 'runc'].includes(runtime)) refuse('Runtime', runtime);
  if (!['', 'host'].includes(hc.UsernsMode ?? '')) refuse('UsernsMode', hc.UsernsMode);
  if (!['', 'private', 'shareable', 'host'].includes(hc.IpcMode ?? '')) refuse('IpcMode', hc.IpcMode);
  if (!['', 'host'].includes(hc.PidMode ?? '')) refuse('PidMode', hc.PidMode);
  if (!['', 'host'].includes(hc.UTSMode ?? '')) refuse('UTSMode', hc.UTSMode);
  if (!['', 'private', 'host'].includes(hc.CgroupnsMode ?? '')) refuse('CgroupnsMode', hc.CgroupnsMode);
  if (!['', 'default'].includes(hc.Isolation ?? '')) refuse('Isolation', hc.Isolation);
  // Output always goes to conmon's log file; `none` only stores more than asked. Other drivers would lose it.
  const logType = hc.LogConfig?.Type ?? '';
  if (!['', 'json-file', 'local', 'k8s-file', 'none'].includes(logType)) refuse('LogConfig.Type', logType);
  const unset: (keyof HostConfig)[] = [
    'DeviceRequests', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'Links', 'VolumeDriver', 'VolumesFrom', 'Cgroup',
    'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps',
    'StorageOpt', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth',
  ];
  for (const field of unset) if (isSet(hc[field]) && !(field === 'VolumesFrom' && volumesResolved)) refuse(field, hc[field]);
}

// ---------------------------------------------------------------------------------------------------------------
// Process

function nonEmpty(s: string | undefined | null): string | undefined {
  return s === undefined || s === null || s === '' ? undefined : s;
}

function strslice(v: string[] | string | null | undefined): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? [v] : v;
}

/**
 * Docker's merge: an Entrypoint given at create (even `[]`) replaces the image's and drops the image's Cmd;
 * otherwise the create Cmd, else the image's, follows the image Entrypoint. `[""]` means no entrypoint.
 */
function commandLine(cfg: CreateConfig, image: ContainerConfig): string[] {
  let entrypoint = strslice(cfg.Entrypoint);
  let cmd = strslice(cfg.Cmd);
  if (!entrypoint || entrypoint.length === 0) {
    if (!cmd || cmd.length === 0) cmd = strslice(image.Cmd);
    if (entrypoint === undefined) entrypoint = strslice(image.Entrypoint);
  }
  if (entrypoint?.length === 1 && entrypoint[0] === '') entrypoint = undefined;
  const args = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (args.length === 0) throw new InvalidArgument('no command specified');
  return args;
}

/** Replace by key or append; an entry without `=` removes the key (Docker's ReplaceOrAppendEnvValues). */
function replaceOrAppend(base: string[], overrides: string[]): string[] {
  const out = [...base];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(envKey(e), i));
  const removed = new Set<number>();
  for (const e of overrides) {
    const key = envKey(e);
    const at = index.get(key);
    if (!e.includes('=')) {
      if (at !== undefined) { removed.add(at); index.delete(key); }
      continue;
    }
    if (at !== undefined) out[at] = e;
    else { index.set(key, out.length); out.push(e); }
  }
  return out.filter((_, i) => !removed.has(i));
}

function envKey(e: string): string {
  const eq = e.indexOf('=');
  return eq < 0 ? e : e.slice(0, eq);
}

function environment(imageEnv: string[], createEnv: string[], hostname: string, tty: boolean, home: string): string[] {
  // The create body's variables win over the image's (Docker's merge keeps the create ones first).
  const keys = new Set(createEnv.map(envKey));
  const merged = [...createEnv, ...imageEnv.filter((e) => !keys.has(envKey(e)))];
  const daemon = [`PATH=${DEFAULT_PATH_ENV}`, `HOSTNAME=${hostname}`];
  if (tty) daemon.push('TERM=xterm');
  const env = replaceOrAppend(daemon, merged);
  // runc and crun set HOME from passwd when it is missing; doing it here makes config.json tell the whole story.
  if (!env.some((e) => envKey(e) === 'HOME')) env.push(`HOME=${home}`);
  return env;
}

/** Clean an absolute container path; `what` names the field in the error. */
export function containerPath(p: string, what: string): string {
  if (!p.startsWith('/')) throw new InvalidArgument(`${what}: ${JSON.stringify(p)} is not an absolute path`);
  const clean = posix.normalize(p);
  return clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean;
}

/** The working directory, created inside the rootfs when missing (root-owned, 0755) as Docker does at start. */
async function workingDir(rootfs: string, dir: string): Promise<string> {
  if (!dir.startsWith('/')) {
    throw new InvalidArgument(`the working directory '${dir}' is invalid, it needs to be an absolute path`);
  }
  const cwd = containerPath(dir, 'WorkingDir');
  const hostPath = await secureJoin(rootfs, cwd);
  try {
    const st = await stat(hostPath);
    if (!st.isDirectory()) throw new InvalidArgument(`the working directory ${cwd} is not a directory in the container`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(hostPath, { recursive: true, mode: 0o755 });
  }
  return cwd;
}

function oomScoreAdj(v: number | undefined): number {
  const n = v ?? 0;
  if (!Number.isInteger(n) || n < -1000 || n > 1000) {
    throw new InvalidArgument(`Invalid value ${n}, range for oom score adj is [-1000, 1000]`);
  }
  return n;
}

function rlimits(ulimits: DockerUlimit[], hostLimits: SpecInput['hostRlimits']): NonNullable<OciSpec['process']['rlimits']> {
  const out = new Map<string, { type: string; hard: number; soft: number }>();
  const nofile = Math.min(DEFAULT_NOFILE, hostLimits.nofile);
  out.set('nofile', { type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile });
  for (const u of ulimits) {
    const name = String(u.Name ?? '').toLowerCase();
    if (!RLIMITS.has(name)) throw new InvalidArgument(`invalid ulimit type: ${u.Name}`);
    const { Soft: soft, Hard: hard } = u;
    if (!Number.isSafeInteger(soft) || !Number.isSafeInteger(hard) || soft < 0 || hard < 0) {
      throw new InvalidArgument(`ulimit ${name}: limits must be non-negative integers (unlimited is not supported yet)`);
    }
    if (soft > hard) throw new InvalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    const cap = name === 'nofile' ? hostLimits.nofile : name === 'nproc' ? hostLimits.nproc : undefined;
    if (cap !== undefined && hard > cap) {
      throw new InvalidArgument(`ulimit ${name}=${soft}:${hard} exceeds petid's own hard limit of ${cap} on this host; ask for ${cap} or less`);
    }
    out.set(name, { type: `RLIMIT_${name.toUpperCase()}`, hard, soft });
  }
  return [...out.values()];
}

function cgroupsPath(input: SpecInput): string {
  const parent = nonEmpty(input.hostConfig.CgroupParent);
  if (!parent) return input.cgroupsPath;
  if (parent.endsWith('.slice')) throw new InvalidArgument('HostConfig.CgroupParent: systemd slices are not supported (Peti uses cgroupfs)');
  const clean = posix.normalize(`/${parent}`);
  return posix.join(clean, input.id);
}

// ---------------------------------------------------------------------------------------------------------------
// Capabilities and security options

function normalizeCap(c: string): string {
  const up = c.trim().toUpperCase();
  if (up === 'ALL') return up;
  const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!ALL_CAPS.includes(name)) throw new InvalidArgument(`unknown capability: ${JSON.stringify(c)}`);
  return name;
}

/** Docker's TweakCapabilities, limited to what petid itself holds. */
function capabilities(hc: HostConfig, host: HostFacts): string[] {
  const available = ALL_CAPS.filter((c) => host.boundingCaps.includes(c));
  if (hc.Privileged) return available;
  const add = [...new Set((hc.CapAdd ?? []).map(normalizeCap))];
  const drop = [...new Set((hc.CapDrop ?? []).map(normalizeCap))];
  let caps: string[];
  if (add.includes('ALL')) caps = available.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) caps = add;
  else caps = [...DEFAULT_CAPS.filter((c) => !drop.includes(c)), ...add.filter((c) => !DEFAULT_CAPS.includes(c))];
  for (const c of caps) {
    if (!available.includes(c)) {
      throw new InvalidArgument(`capability ${c} is not available: petid itself does not hold it on this host`);
    }
  }
  return caps;
}

interface SecurityChoices {
  noNewPrivileges: boolean;
  /** undefined = default profile, 'unconfined', or a profile (JSON text or a path). */
  seccomp: string | undefined;
  writableCgroups: boolean;
}

function parseBool(v: string, opt: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new InvalidArgument(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
}

function securityOptions(opts: string[]): SecurityChoices {
  const out: SecurityChoices = { noNewPrivileges: false, seccomp: undefined, writableCgroups: false };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') { out.noNewPrivileges = true; continue; }
    if (opt === 'disable') continue; // legacy spelling of label=disable
    // Docker accepts `key=value` and the deprecated `key:value`; a JSON profile contains ':' so `=` is tried first.
    const sep = opt.includes('=') ? '=' : ':';
    const at = opt.indexOf(sep);
    if (at < 0) throw new InvalidArgument(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'no-new-privileges': out.noNewPrivileges = parseBool(value, opt); break;
      case 'seccomp': out.seccomp = value === '' || value === 'builtin' ? undefined : value; break;
      case 'writable-cgroups': out.writableCgroups = parseBool(value, opt); break;
      case 'label':
        if (value !== 'disable') throw new InvalidArgument(`--security-opt ${opt}: SELinux labels are not supported on this host`);
        break;
      case 'apparmor':
        if (value !== 'unconfined') throw new InvalidArgument(`--security-opt ${opt}: AppArmor is not supported on this host`);
        break;
      default: throw new InvalidArgument(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}

async function seccompProfile(choice: string | undefined, caps: string[], host: HostFacts,
  loader: SpecInput['seccompProfileLoader']): Promise<OciSeccomp | undefined> {
  const facts = { arch: host.arch, kernel: host.kernel };
  if (choice === undefined) return defaultSeccompProfile(caps, facts);
  if (choice === 'unconfined') return undefined;
  // The docker CLI reads `seccomp=file.json` itself and sends the file's content.
  if (choice.trimStart().startsWith('{')) return loadSeccompProfile(choice, caps, facts);
  if (!choice.startsWith('/')) throw new InvalidArgument(`seccomp profile ${JSON.stringify(choice)} must be an absolute path or JSON`);
  if (!loader) throw new InvalidArgument('seccomp profile files cannot be read here; send the profile JSON instead');
  let text: string;
  try {
    text = await loader(choice);
  } catch (err) {
    throw new InvalidArgument(`opening seccomp profile (${choice}) failed: ${(err as Error).message}`, { cause: err });
  }
  return loadSeccompProfile(text, caps, facts);
}

// ---------------------------------------------------------------------------------------------------------------
// Mounts

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

interface UserMount extends OciMount {
  destination: string;
  /** Propagation asked for (bind mounts only), to choose the rootfs propagation. */
  propagation?: string;
}

async function userMounts(input: SpecInput): Promise<UserMount[]> {
  const hc = input.hostConfig;
  const out: UserMount[] = [];
  const seen = new Set<string>();
  const add = (m: UserMount): void => {
    if (seen.has(m.destination)) throw new InvalidArgument(`Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
    out.push(m);
  };
  const resolved = input.volumes !== undefined;
  for (const b of hc.Binds ?? []) {
    // Volume entries (`name:/dst`, a lone `/dst`) come resolved in input.volumes.
    if (resolved && (!b.startsWith('/') || !b.includes(':'))) continue;
    add(await parseBind(b));
  }
  for (const m of hc.Mounts ?? []) {
    if (resolved && m.Type === 'volume') continue;
    add(await parseMountApi(m));
  }
  for (const v of input.volumes ?? []) {
    const propagation = v.propagation ?? 'rprivate';
    add({ destination: v.destination, type: 'bind', source: v.source, options: ['rbind', ...(v.readonly ? ['ro'] : []), propagation], ...(v.propagation ? { propagation } : {}) });
  }
  for (const [dest, data] of Object.entries(hc.Tmpfs ?? {})) {
    const destination = containerPath(dest, 'Tmpfs');
    add({ destination, type: 'tmpfs', source: 'tmpfs', options: mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...splitOpts(data)]) });
  }
  const ro = hc.ReadonlyRootfs === true ? ['ro'] : [];
  const files: [string, string][] = [['/etc/resolv.conf', input.files.resolvConf], ['/etc/hostname', input.files.hostname], ['/etc/hosts', input.files.hosts]];
  for (const [destination, source] of files) {
    // A user mount on the same path wins, as in Docker.
    if (!seen.has(destination)) out.push({ destination, type: 'bind', source, options: ['rbind', 'rprivate', ...ro] });
  }
  if (hc.Init === true && input.initPath) {
    out.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: input.initPath, options: ['bind', 'ro', 'rprivate'] });
  }
  return out;
}

function splitOpts(s: string): string[] {
  return s.split(',').map((o) => o.trim()).filter((o) => o !== '');
}

async function parseBind(spec: string): Promise<UserMount> {
  const bad = (why: string): InvalidArgument => new InvalidArgument(`invalid volume specification: '${spec}'${why ? `: ${why}` : ''}`);
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || parts.some((p, i) => p === '' && i < 2)) {
    if (parts.length === 1 && spec.startsWith('/')) {
      throw new InvalidArgument(`HostConfig.Binds '${spec}': anonymous volumes are not supported yet`);
    }
    throw bad('');
  }
  const [source = '', target = '', mode = ''] = parts;
  if (!source.startsWith('/')) {
    throw new InvalidArgument(`HostConfig.Binds '${spec}': named volumes are not supported yet; the source must be an absolute host path`);
  }
  if (!target.startsWith('/')) {
    throw bad(`invalid mount config for type "bind": invalid mount path: '${target}' mount path must be absolute`);
  }
  const destination = containerPath(target, 'Binds');
  if (destination === '/') throw new InvalidArgument(`invalid specification: destination can't be '/' in '${spec}'`);
  let readonly = false;
  let propagation = 'rprivate';
  const counts = { rw: 0, label: 0, prop: 0, copy: 0, consistency: 0 };
  for (const m of splitOpts(mode)) {
    if (m === 'ro' || m === 'rw') { counts.rw++; readonly = m === 'ro'; }
    else if (m === 'z' || m === 'Z') counts.label++; // SELinux relabel: no SELinux here, nothing to do
    else if (PROPAGATIONS.has(m)) { counts.prop++; propagation = m; }
    else if (m === 'nocopy') counts.copy++;
    else if (m === 'consistent' || m === 'cached' || m === 'delegated') counts.consistency++;
    else throw bad(`invalid mode: ${mode}`);
  }
  if (Object.values(counts).some((n) => n > 1)) throw bad(`invalid mode: ${mode}`);
  const hostPath = posix.normalize(source);
  // Docker creates a missing bind source directory for -v (an existing file is bound as it is).
  if (!existsSync(hostPath)) await mkdir(hostPath, { recursive: true });
  return {
    destination, type: 'bind', source: hostPath, propagation,
    options: ['rbind', ...(readonly ? ['ro'] : []), propagation],
  };
}

async function parseMountApi(m: DockerMount): Promise<UserMount> {
  const type = m.Type ?? '';
  const bad = (why: string): InvalidArgument => new InvalidArgument(`invalid mount config for type "${type}": ${why}`);
  const target = m.Target ?? '';
  if (target === '') throw bad('field Target must not be empty');
  if (!target.startsWith('/')) throw bad(`invalid mount path: '${target}' mount path must be absolute`);
  const destination = containerPath(target, 'Mounts');
  switch (type) {
    case 'bind': {
      const source = m.Source ?? '';
      if (source === '') throw bad('field Source must not be empty');
      if (!source.startsWith('/')) throw bad(`invalid mount path: '${source}' mount path must be absolute`);
      if (m.TmpfsOptions) throw bad('TmpfsOptions must not be specified');
      if (m.VolumeOptions) throw bad('VolumeOptions must not be specified');
      const hostPath = posix.normalize(source);
      if (!existsSync(hostPath)) {
        if (m.BindOptions?.CreateMountpoint) await mkdir(hostPath, { recursive: true });
        else throw bad(`bind source path does not exist: ${hostPath}`);
      }
      const propagation = m.BindOptions?.Propagation || 'rprivate';
      if (!PROPAGATIONS.has(propagation)) throw bad(`invalid propagation mode: ${propagation}`);
      const options = [m.BindOptions?.NonRecursive ? 'bind' : 'rbind'];
      if (m.ReadOnly) options.push('ro');
      options.push(propagation);
      return { destination, type: 'bind', source: hostPath, options, propagation };
    }
    case 'tmpfs': {
      if (nonEmpty(m.Source)) throw bad('Source must not be specified');
      if (m.BindOptions) throw bad('BindOptions must not be specified');
      const t = m.TmpfsOptions ?? {};
      const data: string[] = [];
      if (t.SizeBytes !== undefined && t.SizeBytes !== 0) {
        if (!Number.isSafeInteger(t.SizeBytes) || t.SizeBytes < 0) throw bad(`invalid tmpfs size ${t.SizeBytes}`);
        data.push(`size=${sizeWithSuffix(t.SizeBytes)}`);
      }
      if (t.Mode !== undefined && t.Mode !== 0) data.push(`mode=${(t.Mode & 0o7777).toString(8)}`);
      for (const o of t.Options ?? []) data.push(o.join('='));
      if (m.ReadOnly) data.push('ro');
      return { destination, type: 'tmpfs', source: 'tmpfs', options: mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...data]) };
    }
    case 'volume':
      throw new InvalidArgument(`HostConfig.Mounts ${destination}: named volumes are not supported yet`);
    default:
      throw new InvalidArgument(`HostConfig.Mounts ${destination}: mount type ${JSON.stringify(type)} is not supported`);
  }
}

/** Docker writes tmpfs sizes with the largest unit that divides them exactly. */
function sizeWithSuffix(bytes: number): string {
  for (const [suffix, div] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
    if (bytes % div === 0) return `${bytes / div}${suffix}`;
  }
  return String(bytes);
}

/** Mount flags that cancel each other share a group; the last one given wins (Docker's MergeTmpfsOptions). */
const FLAG_GROUPS: Record<string, string> = {
  ro: 'rdonly', rw: 'rdonly', suid: 'suid', nosuid: 'suid', dev: 'dev', nodev: 'dev', exec: 'exec', noexec: 'exec',
  sync: 'sync', async: 'sync', dirsync: 'dirsync', remount: 'remount', mand: 'mand', nomand: 'mand',
  atime: 'atime', noatime: 'atime', diratime: 'diratime', nodiratime: 'diratime', bind: 'bind', rbind: 'bind',
  relatime: 'relatime', norelatime: 'relatime', strictatime: 'strictatime', nostrictatime: 'strictatime',
  shared: 'propagation', rshared: 'propagation', slave: 'propagation', rslave: 'propagation',
  private: 'propagation', rprivate: 'propagation', unbindable: 'propagation', runbindable: 'propagation',
};
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

export function mergeTmpfsOptions(options: string[]): string[] {
  const flags = new Set<string>();
  const data = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i] as string;
    if (o === 'defaults') continue;
    const group = FLAG_GROUPS[o];
    if (group !== undefined) {
      if (!flags.has(group)) { flags.add(group); out.unshift(o); }
      continue;
    }
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    if (eq < 0 || !TMPFS_DATA.has(key)) throw new InvalidArgument(`invalid tmpfs option ${JSON.stringify(o)}`);
    if (!data.has(key)) { data.add(key); out.unshift(o); }
  }
  return out;
}

/** A shared or slave bind needs the rootfs to propagate too (Docker's rule). */
function rootPropagation(mounts: UserMount[]): string | undefined {
  let result: string | undefined;
  for (const m of mounts) {
    if (m.propagation === 'shared' || m.propagation === 'rshared') return 'shared';
    if (m.propagation === 'slave' || m.propagation === 'rslave') result = 'rslave';
  }
  return result;
}

function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}

function assembleMounts(input: SpecInput, user: UserMount[],
  o: { privileged: boolean; ipcHost: boolean; cgroupns: boolean; writableCgroups: boolean }): OciMount[] {
  const hc = input.hostConfig;
  const shmSize = hc.ShmSize ?? 0;
  if (!Number.isSafeInteger(shmSize) || shmSize < 0) throw new InvalidArgument('SHM size can not be less than 0');
  const sysRo = o.privileged ? [] : ['ro'];
  const cgroupRo = o.privileged || o.writableCgroups ? [] : ['ro'];
  const shm: OciMount = o.ipcHost
    ? { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] }
    : { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize || DEFAULT_SHM_SIZE}`] };
  const defaults: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    shm,
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...sysRo] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', ...cgroupRo] },
  ];
  const userDest = new Set(user.map((m) => m.destination));
  const userDev = userDest.has('/dev');
  const kept = defaults.filter((m) => !userDest.has(m.destination) && !(userDev && m.destination.startsWith('/dev/')));
  // Parents before children: a bind at /a/b must land after the one at /a (stable for equal depth).
  const sorted = [...user].sort((a, b) => depth(a.destination) - depth(b.destination));
  return [...kept, ...sorted.map(({ destination, type, source, options }) => {
    const m: OciMount = { destination };
    if (type !== undefined) m.type = type;
    if (source !== undefined) m.source = source;
    if (options !== undefined) m.options = options;
    return m;
  })];
}

// ---------------------------------------------------------------------------------------------------------------
// Devices

/** Linux's dev_t encoding, as glibc's major()/minor(). */
function devMajor(rdev: bigint): number { return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)); }
function devMinor(rdev: bigint): number { return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)); }

async function deviceAt(hostPath: string, ctrPath: string): Promise<OciDevice | undefined> {
  const st = await stat(hostPath, { bigint: true });
  const kind = Number(st.mode) & fsc.S_IFMT;
  if (kind !== fsc.S_IFCHR && kind !== fsc.S_IFBLK) return undefined;
  return {
    path: ctrPath, type: kind === fsc.S_IFCHR ? 'c' : 'b', major: devMajor(st.rdev), minor: devMinor(st.rdev),
    fileMode: Number(st.mode) & 0o777, uid: Number(st.uid), gid: Number(st.gid),
  };
}

/** Device nodes under a host directory, as runc's HostDevices walks /dev (skipping pts, shm, mqueue...). */
async function devicesUnder(dir: string, ctrDir: string, depthLeft = 8): Promise<OciDevice[]> {
  const skip = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);
  const out: OciDevice[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!skip.has(e.name) && depthLeft > 0) out.push(...await devicesUnder(`${dir}/${e.name}`, `${ctrDir}/${e.name}`, depthLeft - 1));
      continue;
    }
    if (e.name === 'console' || !(e.isCharacterDevice() || e.isBlockDevice())) continue;
    try {
      const d = await deviceAt(`${dir}/${e.name}`, `${ctrDir}/${e.name}`);
      if (d) out.push(d);
    } catch { /* vanished while walking */ }
  }
  return out;
}

const CGROUP_RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

async function deviceSetup(hc: HostConfig, privileged: boolean, devDir: string): Promise<{ devices: OciDevice[]; rules: DeviceRule[] }> {
  if (privileged) {
    const devices = await devicesUnder(devDir, '/dev');
    for (const d of hc.Devices ?? []) {
      const ctr = d.PathInContainer || d.PathOnHost;
      if (ctr === d.PathOnHost) continue; // already there: privileged containers get all of /dev
      devices.push(...await mappedDevices(d.PathOnHost, ctr));
    }
    return { devices, rules: [{ allow: true, access: 'rwm' }] };
  }
  const devices: OciDevice[] = [];
  const rules: DeviceRule[] = DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  for (const d of hc.Devices ?? []) {
    const perms = d.CgroupPermissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(perms)) throw new InvalidArgument(`invalid device cgroup permissions ${JSON.stringify(perms)} for ${d.PathOnHost}`);
    const found = await mappedDevices(d.PathOnHost, d.PathInContainer || d.PathOnHost);
    for (const dev of found) {
      devices.push(dev);
      rules.push({ allow: true, type: dev.type, major: dev.major, minor: dev.minor, access: perms });
    }
  }
  for (const rule of hc.DeviceCgroupRules ?? []) {
    const m = CGROUP_RULE.exec(rule);
    if (!m) throw new InvalidArgument(`invalid device cgroup rule format: '${rule}'`);
    const r: DeviceRule = { allow: true, type: m[1] as string, access: m[4] as string };
    if (m[2] !== '*') r.major = Number(m[2]);
    if (m[3] !== '*') r.minor = Number(m[3]);
    rules.push(r);
  }
  return { devices, rules };
}

async function mappedDevices(pathOnHost: string, pathInContainer: string): Promise<OciDevice[]> {
  const fail = (why: string): InvalidArgument =>
    new InvalidArgument(`error gathering device information while adding custom device ${JSON.stringify(pathOnHost)}: ${why}`);
  if (!pathOnHost?.startsWith('/')) throw fail('not an absolute path');
  const ctr = containerPath(pathInContainer, 'Devices');
  let real: string;
  try {
    real = await realpath(pathOnHost);
  } catch {
    throw fail('no such file or directory');
  }
  const st = await stat(real);
  if (st.isDirectory()) {
    const found = await devicesUnder(real, ctr);
    if (found.length === 0) throw fail('no device nodes in directory');
    return found;
  }
  const d = await deviceAt(real, ctr);
  if (!d) throw fail('not a device node');
  return [d];
}

// ---------------------------------------------------------------------------------------------------------------
// Resources

const CPUSET = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function int(v: number | undefined | null, field: string): number {
  const n = v ?? 0;
  if (!Number.isSafeInteger(n)) throw new InvalidArgument(`${field} must be an integer`);
  return n;
}

function resources(hc: HostConfig, host: HostFacts, warnings: string[]): Omit<OciLinuxResources, 'devices'> {
  const out: Omit<OciLinuxResources, 'devices'> = {};
  const memory: NonNullable<OciLinuxResources['memory']> = {};
  const mem = int(hc.Memory, 'Memory');
  let swap = int(hc.MemorySwap, 'MemorySwap');
  const reservation = int(hc.MemoryReservation, 'MemoryReservation');
  if (mem < 0) throw new InvalidArgument('Memory must not be negative');
  if (mem > 0 && mem < MIN_MEMORY) throw new InvalidArgument('Minimum memory limit allowed is 6MB');
  if (mem > 0) {
    memory.limit = mem;
    // Docker: MemorySwap 0 means twice the memory (memory + as much swap), -1 unlimited swap.
    if (swap === 0) swap = mem * 2;
    if (swap > 0 && swap < mem) throw new InvalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
    if (swap < -1) throw new InvalidArgument('MemorySwap must be -1 (unlimited) or a size');
    if (host.swapLimit) memory.swap = swap;
    else if (hc.MemorySwap !== undefined && hc.MemorySwap !== 0) {
      warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    }
  } else if (swap > 0) {
    throw new InvalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (reservation < 0) throw new InvalidArgument('MemoryReservation must not be negative');
  if (reservation > 0) {
    if (reservation < MIN_MEMORY) throw new InvalidArgument('Minimum memory reservation allowed is 6MB');
    if (mem > 0 && reservation > mem) throw new InvalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
    memory.reservation = reservation;
  }
  const swappiness = hc.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1) {
    if (!Number.isInteger(swappiness) || swappiness < 0 || swappiness > 100) {
      throw new InvalidArgument(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
    }
    if (host.cgroupV2) warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
    else memory.swappiness = swappiness;
  }
  if (hc.OomKillDisable === true) {
    if (host.cgroupV2) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    else {
      memory.disableOOMKiller = true;
      if (mem === 0) warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
    }
  }
  if (Object.keys(memory).length > 0) out.memory = memory;

  const cpu: NonNullable<OciLinuxResources['cpu']> = {};
  const nano = int(hc.NanoCpus, 'NanoCpus');
  const quota = int(hc.CpuQuota, 'CpuQuota');
  const period = int(hc.CpuPeriod, 'CpuPeriod');
  if (nano !== 0) {
    if (period !== 0) throw new InvalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    if (quota !== 0) throw new InvalidArgument('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    if (nano < 1e7 || nano > host.cpus * 1e9) {
      throw new InvalidArgument(`Range of CPUs is from 0.01 to ${host.cpus}.00, as there are only ${host.cpus} CPUs available`);
    }
    cpu.period = 100000;
    cpu.quota = Math.round((nano * 100000) / 1e9);
  }
  if (period !== 0) {
    if (period < 1000 || period > 1000000) throw new InvalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    cpu.period = period;
  }
  if (quota !== 0 && quota !== -1) {
    if (quota < 1000) throw new InvalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');
    cpu.quota = quota;
  }
  const shares = int(hc.CpuShares, 'CpuShares');
  if (shares < 0) throw new InvalidArgument('shares: invalid argument');
  if (shares > 0) {
    if (shares < 2) { warnings.push(`Changing requested CPUShares of ${shares} to minimum allowed of 2`); cpu.shares = 2; }
    else if (shares > 262144) { warnings.push(`Changing requested CPUShares of ${shares} to maximum allowed of 262144`); cpu.shares = 262144; }
    else cpu.shares = shares;
  }
  if (nonEmpty(hc.CpusetCpus)) {
    if (!CPUSET.test(hc.CpusetCpus as string)) throw new InvalidArgument(`Invalid value ${hc.CpusetCpus} for cpuset cpus`);
    cpu.cpus = hc.CpusetCpus as string;
  }
  if (nonEmpty(hc.CpusetMems)) {
    if (!CPUSET.test(hc.CpusetMems as string)) throw new InvalidArgument(`Invalid value ${hc.CpusetMems} for cpuset mems`);
    cpu.mems = hc.CpusetMems as string;
  }
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  const pids = int(hc.PidsLimit, 'PidsLimit');
  if (pids > 0) out.pids = { limit: pids };

  const weight = int(hc.BlkioWeight, 'BlkioWeight');
  if (weight !== 0) {
    if (weight < 10 || weight > 1000) throw new InvalidArgument('Range of blkio weight is from 10 to 1000');
    out.blockIO = { weight };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Sysctls

/** Only sysctls the kernel scopes to a namespace the container owns may be set (Docker's list). */
function sysctls(requested: Record<string, string>, o: { netPrivate: boolean; ipcPrivate: boolean; host: HostFacts }): Record<string, string> {
  const out: Record<string, string> = {};
  if (o.netPrivate) {
    // Docker's defaults for a container with its own network namespace: ping without CAP_NET_RAW, any port.
    if (o.host.pingGroupRange) out['net.ipv4.ping_group_range'] = '0 2147483647';
    if (o.host.unprivilegedPortStart) out['net.ipv4.ip_unprivileged_port_start'] = '0';
  }
  for (const [key, value] of Object.entries(requested)) {
    const ipc = key === 'kernel.sem' || key.startsWith('kernel.shm') || key.startsWith('kernel.msg') || key.startsWith('fs.mqueue.');
    const net = key.startsWith('net.');
    if (!/^[a-z0-9_.\-/]+$/.test(key) || key.includes('..')) throw new InvalidArgument(`sysctl '${key}' is not a valid name`);
    if (!ipc && !net) {
      throw new InvalidArgument(`sysctl '${key}' is not allowed: only namespaced sysctls (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*) can be set`);
    }
    if (net && !o.netPrivate) throw new InvalidArgument(`sysctl '${key}' is not allowed in host network namespace`);
    if (ipc && !o.ipcPrivate) throw new InvalidArgument(`sysctl '${key}' is not allowed in host IPC namespace`);
    out[key] = String(value);
  }
  return out;
}
