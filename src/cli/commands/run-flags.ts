/**
 * `run`/`create` flags → Docker's create body (Config + HostConfig + NetworkingConfig), field for field what the
 * docker CLI 28 sends for the same flags (captured against a logging server; see run-flags.test.ts). Defaults are
 * spelled out because the daemon must see the same zero values Docker's Go structs serialise.
 */
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgument } from '../../lib/errors.js';
import type { FlagSpec, Parsed } from '../args.js';
import { bool, list, str } from '../args.js';
import { parseSize } from '../format/index.js';

/** The container options shared by `run` and `create` (docker's containerOptions). */
export const CONTAINER_FLAGS: FlagSpec[] = [
  { name: 'attach', short: 'a', kind: 'list' }, { name: 'device', kind: 'list' }, { name: 'device-cgroup-rule', kind: 'list' },
  { name: 'env', short: 'e', kind: 'list' }, { name: 'env-file', kind: 'list' }, { name: 'entrypoint', kind: 'string' },
  { name: 'group-add', kind: 'list' }, { name: 'hostname', short: 'h', kind: 'string' }, { name: 'domainname', kind: 'string' },
  { name: 'interactive', short: 'i', kind: 'bool' }, { name: 'label', short: 'l', kind: 'list' }, { name: 'label-file', kind: 'list' },
  { name: 'read-only', kind: 'bool' }, { name: 'restart', kind: 'string' }, { name: 'stop-signal', kind: 'string' },
  { name: 'stop-timeout', kind: 'string' }, { name: 'sysctl', kind: 'list' }, { name: 'tty', short: 't', kind: 'bool' },
  { name: 'ulimit', kind: 'list' }, { name: 'user', short: 'u', kind: 'string' }, { name: 'workdir', short: 'w', kind: 'string' },
  { name: 'rm', kind: 'bool' }, { name: 'cap-add', kind: 'list' }, { name: 'cap-drop', kind: 'list' }, { name: 'privileged', kind: 'bool' },
  { name: 'security-opt', kind: 'list' }, { name: 'userns', kind: 'string' }, { name: 'cgroupns', kind: 'string' },
  { name: 'add-host', kind: 'list' }, { name: 'dns', kind: 'list' }, { name: 'dns-option', kind: 'list', aliases: ['dns-opt'] },
  { name: 'dns-search', kind: 'list' }, { name: 'expose', kind: 'list' }, { name: 'ip', kind: 'string' }, { name: 'ip6', kind: 'string' },
  { name: 'link', kind: 'list' }, { name: 'mac-address', kind: 'string' }, { name: 'publish', short: 'p', kind: 'list' },
  { name: 'publish-all', short: 'P', kind: 'bool' }, { name: 'network', kind: 'list', aliases: ['net'] },
  { name: 'network-alias', kind: 'list', aliases: ['net-alias'] }, { name: 'log-driver', kind: 'string' }, { name: 'log-opt', kind: 'list' },
  { name: 'volume-driver', kind: 'string' }, { name: 'storage-opt', kind: 'list' }, { name: 'tmpfs', kind: 'list' },
  { name: 'volumes-from', kind: 'list' }, { name: 'volume', short: 'v', kind: 'list' }, { name: 'mount', kind: 'list' },
  { name: 'health-cmd', kind: 'string' }, { name: 'health-interval', kind: 'string' }, { name: 'health-retries', kind: 'string' },
  { name: 'health-timeout', kind: 'string' }, { name: 'health-start-period', kind: 'string' }, { name: 'health-start-interval', kind: 'string' },
  { name: 'no-healthcheck', kind: 'bool' }, { name: 'blkio-weight', kind: 'string' }, { name: 'cidfile', kind: 'string' },
  { name: 'cpuset-cpus', kind: 'string' }, { name: 'cpuset-mems', kind: 'string' }, { name: 'cpu-period', kind: 'string' },
  { name: 'cpu-quota', kind: 'string' }, { name: 'cpu-rt-period', kind: 'string' }, { name: 'cpu-rt-runtime', kind: 'string' },
  { name: 'cpu-shares', short: 'c', kind: 'string' }, { name: 'cpus', kind: 'string' }, { name: 'memory', short: 'm', kind: 'string' },
  { name: 'memory-reservation', kind: 'string' }, { name: 'memory-swap', kind: 'string' }, { name: 'memory-swappiness', kind: 'string' },
  { name: 'oom-kill-disable', kind: 'bool' }, { name: 'oom-score-adj', kind: 'string' }, { name: 'pids-limit', kind: 'string' },
  { name: 'cgroup-parent', kind: 'string' }, { name: 'ipc', kind: 'string' }, { name: 'isolation', kind: 'string' },
  { name: 'pid', kind: 'string' }, { name: 'shm-size', kind: 'string' }, { name: 'uts', kind: 'string' }, { name: 'runtime', kind: 'string' },
  { name: 'init', kind: 'bool' },
  // create/run options (not container config)
  { name: 'name', kind: 'string' }, { name: 'platform', kind: 'string' }, { name: 'pull', kind: 'string' }, { name: 'quiet', short: 'q', kind: 'bool' },
  { name: 'disable-content-trust', kind: 'bool' },
];

/** `run` adds these. */
export const RUN_ONLY_FLAGS: FlagSpec[] = [
  { name: 'detach', short: 'd', kind: 'bool' }, { name: 'sig-proxy', kind: 'bool' }, { name: 'detach-keys', kind: 'string' },
];

export interface CreateRequest {
  body: Record<string, unknown> & { HostConfig: Record<string, unknown> };
  query: { name?: string; platform?: string };
  image: string;
}

export interface BuildContext {
  /** The CLI's environment, for `-e NAME` and `--env-file` lines without a value. */
  env: (name: string) => string | undefined;
  readFile: (path: string) => string;
  cwd: string;
  /** `[rows, cols]` of the CLI's terminal when -t is used on one. */
  consoleSize?: [number, number];
  /** `run -d`: nothing is attached. */
  detach?: boolean;
}

const EMPTY_ENDPOINT = {
  IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, GwPriority: 0, NetworkID: '', EndpointID: '', Gateway: '',
  IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
};

function int(p: Parsed, name: string, def = 0): number {
  const v = str(p, name);
  if (v === undefined) return def;
  if (!/^[+-]?\d+$/.test(v.trim())) throw new InvalidArgument(`invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v.trim());
}

function size(p: Parsed, name: string): number {
  const v = str(p, name);
  if (v === undefined) return 0;
  try {
    return parseSize(v);
  } catch (e) {
    throw new InvalidArgument(`invalid argument "${v}" for "--${name}" flag: ${(e as Error).message}`);
  }
}

/** Go's time.ParseDuration for the health flags, in nanoseconds. */
export function parseDurationNs(s: string): number {
  if (s === '0') return 0;
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== s.length || pos === 0) throw new InvalidArgument(`time: invalid duration "${s}"`);
  return Math.round(total);
}

/** Lines of an env or label file, as docker's parseKeyValueFile: `#` comments, blank lines and unset names skipped. */
export function parseKeyValueFile(text: string, file: string, lookup?: (name: string) => string | undefined): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    if (name === '') throw new InvalidArgument(`no variable name on line '${line}'`);
    if (/\s/.test(name)) throw new InvalidArgument(`variable '${name}' contains whitespaces`);
    if (eq >= 0) out.push(line);
    else if (lookup) {
      const v = lookup(name);
      if (v !== undefined) out.push(`${name}=${v}`);
    }
    void i;
    void file;
  });
  return out;
}

/** `-e NAME=v` as is; `-e NAME` takes the CLI's value, or stays a bare name when unset (docker's ValidateEnv). */
function envValue(v: string, lookup: (n: string) => string | undefined): string {
  const eq = v.indexOf('=');
  if (eq === 0) throw new InvalidArgument(`invalid environment variable: ${v}`);
  if (eq > 0) return v;
  const val = lookup(v);
  return val === undefined ? v : `${v}=${val}`;
}

function kvMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

function normalizeCaps(caps: string[]): string[] {
  const out = new Set<string>();
  for (const c of caps) {
    const u = c.trim().toUpperCase();
    if (!u) continue;
    out.add(u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`);
  }
  return [...out].sort();
}

function parseRestart(s: string, autoRemove: boolean): { Name: string; MaximumRetryCount: number } {
  const [name = '', count] = s.split(':', 2) as [string, string | undefined];
  if (!['no', 'always', 'unless-stopped', 'on-failure', ''].includes(name)) throw new InvalidArgument(`invalid restart policy '${name}'`);
  if (count !== undefined && name !== 'on-failure') throw new InvalidArgument(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
  const n = count === undefined ? 0 : Number(count);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgument(`invalid restart policy format: maximum retry count must be an integer`);
  if (autoRemove && name !== 'no' && name !== '') throw new InvalidArgument('Conflicting options: --restart and --rm');
  return { Name: name || 'no', MaximumRetryCount: n };
}

/** `[ip:][hostPort:]containerPort[/proto]` with ranges, as go-connections' nat.ParsePortSpec. */
export function parsePortSpec(spec: string): { port: string; binding: { HostIp: string; HostPort: string } }[] {
  let rest = spec;
  let proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    proto = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new InvalidArgument(`invalid proto: ${proto}`);
  }
  let ip = '';
  let hostPort = '';
  let containerPort = rest;
  const bracket = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (bracket) {
    ip = bracket[1]!;
    rest = bracket[2]!;
    const c = rest.indexOf(':');
    if (c < 0) throw new InvalidArgument(`invalid port format: ${spec}`);
    hostPort = rest.slice(0, c);
    containerPort = rest.slice(c + 1);
  } else {
    const parts = rest.split(':');
    if (parts.length === 2) [hostPort, containerPort] = parts as [string, string];
    else if (parts.length === 3) [ip, hostPort, containerPort] = parts as [string, string, string];
    else if (parts.length > 3) {
      // An unbracketed IPv6 address: the last two fields are the ports.
      containerPort = parts.pop()!;
      hostPort = parts.pop()!;
      ip = parts.join(':');
    }
  }
  const range = (s: string, what: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(s);
    if (!m) throw new InvalidArgument(`invalid ${what}: ${s}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > 65535 || b > 65535 || b < a) throw new InvalidArgument(`invalid ${what}: ${s}`);
    return [a, b];
  };
  if (!containerPort) throw new InvalidArgument(`no port specified: ${spec}<empty>`);
  const [cs, ce] = range(containerPort, 'containerPort');
  let hs = 0;
  let he = 0;
  if (hostPort) [hs, he] = range(hostPort, 'hostPort');
  // A host range for a single container port is passed through for the daemon to pick from (nat.ParsePortSpec).
  const hostRangeForOne = hostPort !== '' && ce === cs && he !== hs;
  if (hostPort && !hostRangeForOne && he - hs !== ce - cs) throw new InvalidArgument(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  const out: { port: string; binding: { HostIp: string; HostPort: string } }[] = [];
  for (let i = 0; i <= ce - cs; i++) {
    const hp = !hostPort ? '' : hostRangeForOne ? `${hs}-${he}` : String(hs + i);
    out.push({ port: `${cs + i}/${proto}`, binding: { HostIp: ip, HostPort: hp } });
  }
  return out;
}

/** `--mount type=...,source=...,target=...` → a HostConfig.Mounts entry (docker's opts.MountOpt). */
export function parseMount(spec: string): Record<string, unknown> {
  const m: Record<string, unknown> = { Type: 'volume' };
  const bindOpts: Record<string, unknown> = {};
  const volOpts: Record<string, unknown> = {};
  const tmpfsOpts: Record<string, unknown> = {};
  const boolOf = (k: string, v: string | undefined): boolean => {
    if (v === undefined || ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    throw new InvalidArgument(`invalid value for ${k}: ${v}`);
  };
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    if (eq < 0 && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive'].includes(key)) {
      throw new InvalidArgument(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'type': m.Type = (val ?? '').toLowerCase(); break;
      case 'source': case 'src': m.Source = val; break;
      case 'target': case 'dst': case 'destination': m.Target = val; break;
      case 'readonly': case 'ro': m.ReadOnly = boolOf(key, val); break;
      case 'consistency': m.Consistency = val; break;
      case 'bind-propagation': bindOpts.Propagation = (val ?? '').toLowerCase(); break;
      case 'bind-nonrecursive': bindOpts.NonRecursive = boolOf(key, val); break;
      case 'volume-nocopy': volOpts.NoCopy = boolOf(key, val); break;
      case 'volume-driver': volOpts.DriverConfig = { ...(volOpts.DriverConfig as object | undefined), Name: val }; break;
      case 'volume-label': {
        const [k, v = ''] = (val ?? '').split(/=(.*)/s, 2);
        volOpts.Labels = { ...(volOpts.Labels as object | undefined), [k ?? '']: v };
        break;
      }
      case 'volume-opt': {
        const [k, v = ''] = (val ?? '').split(/=(.*)/s, 2);
        const dc = (volOpts.DriverConfig as { Name?: string; Options?: Record<string, string> } | undefined) ?? {};
        volOpts.DriverConfig = { ...dc, Options: { ...dc.Options, [k ?? '']: v } };
        break;
      }
      case 'volume-subpath': volOpts.Subpath = val; break;
      case 'tmpfs-size': tmpfsOpts.SizeBytes = parseSize(val ?? ''); break;
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(val ?? '')) throw new InvalidArgument(`invalid value for ${key}: ${val}`);
        tmpfsOpts.Mode = parseInt(val!, 8);
        break;
      }
      default: throw new InvalidArgument(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Target) throw new InvalidArgument('target is required');
  if (Object.keys(bindOpts).length) {
    if (m.Type !== 'bind') throw new InvalidArgument(`cannot mix 'bind-*' options with mount type '${String(m.Type)}'`);
    m.BindOptions = bindOpts;
  }
  if (Object.keys(volOpts).length) {
    if (m.Type !== 'volume') throw new InvalidArgument(`cannot mix 'volume-*' options with mount type '${String(m.Type)}'`);
    // docker's MountOpt creates DriverConfig together with VolumeOptions.
    m.VolumeOptions = { DriverConfig: {}, ...volOpts };
  }
  if (Object.keys(tmpfsOpts).length) {
    if (m.Type !== 'tmpfs') throw new InvalidArgument(`cannot mix 'tmpfs-*' options with mount type '${String(m.Type)}'`);
    m.TmpfsOptions = tmpfsOpts;
  }
  return m;
}

function parseDevice(spec: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const validMode = (s: string): boolean => s.length > 0 && s.length <= 3 && /^[rwm]+$/.test(s);
  const parts = spec.split(':');
  const src = parts[0] ?? '';
  let dst = src;
  let perms = 'rwm';
  if (parts.length === 2) {
    if (validMode(parts[1]!)) perms = parts[1]!;
    else dst = parts[1]!;
  } else if (parts.length === 3) {
    dst = parts[1]!;
    if (!validMode(parts[2]!)) throw new InvalidArgument(`invalid device mode: ${parts[2]}`);
    perms = parts[2]!;
  } else if (parts.length > 3) throw new InvalidArgument(`invalid device specification: ${spec}`);
  return { PathOnHost: src, PathInContainer: dst, CgroupPermissions: perms };
}

function parseUlimit(spec: string): { Name: string; Hard: number; Soft: number } {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new InvalidArgument(`invalid ulimit argument: ${spec}`);
  const name = spec.slice(0, eq);
  const [soft, hard = soft] = spec.slice(eq + 1).split(':');
  const num = (s: string | undefined): number => {
    if (!s || !/^-?\d+$/.test(s)) throw new InvalidArgument(`invalid ulimit argument: ${spec}`);
    return Number(s);
  };
  const S = num(soft);
  const H = num(hard);
  if (S > H && H !== -1) throw new InvalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${S} > ${H}`);
  return { Name: name, Hard: H, Soft: S };
}

function nanoCpus(s: string): number {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(s.trim())) throw new InvalidArgument(`invalid argument "${s}" for "--cpus" flag: failed to parse ${s} as a rational number`);
  const [i = '0', f = ''] = s.trim().split('.');
  if (f.replace(/0+$/, '').length > 9) throw new InvalidArgument(`invalid argument "${s}" for "--cpus" flag: value is too precise`);
  return Number(i) * 1e9 + Number((f + '000000000').slice(0, 9));
}

/**
 * Build the create request from parsed flags and `IMAGE [COMMAND] [ARG...]`. Throws InvalidArgument with docker's
 * wording for malformed flags.
 */
export function buildCreate(p: Parsed, ctx: BuildContext): CreateRequest {
  const [image, ...cmd] = p.args;
  if (!image) throw new InvalidArgument('requires at least 1 argument');
  const tty = bool(p, 'tty');
  const stdin = bool(p, 'interactive');
  const attach = list(p, 'attach').map((a) => {
    const l = a.toLowerCase();
    if (!['stdin', 'stdout', 'stderr'].includes(l)) throw new InvalidArgument(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
    return l;
  });
  if (ctx.detach && attach.length) throw new InvalidArgument('Conflicting options: -a and -d');
  let attachStdin = attach.includes('stdin') || stdin;
  let attachStdout = attach.length === 0 || attach.includes('stdout');
  let attachStderr = attach.length === 0 || attach.includes('stderr');
  if (ctx.detach) attachStdin = attachStdout = attachStderr = false;
  const autoRemove = bool(p, 'rm');

  const env = [
    ...list(p, 'env-file').flatMap((f) => parseKeyValueFile(ctx.readFile(f), f, ctx.env)),
    ...list(p, 'env').map((e) => envValue(e, ctx.env)),
  ];
  const labels = kvMap([...list(p, 'label-file').flatMap((f) => parseKeyValueFile(ctx.readFile(f), f)), ...list(p, 'label')]);

  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const spec of list(p, 'publish')) {
    for (const { port, binding } of parsePortSpec(spec)) {
      exposed[port] = {};
      (bindings[port] ??= []).push(binding);
    }
  }
  for (const e of list(p, 'expose')) {
    const [range = '', proto = 'tcp'] = e.split('/');
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (!m) throw new InvalidArgument(`invalid range format for --expose: ${e}`);
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) exposed[`${i}/${proto}`] = {};
  }

  const volumes: Record<string, object> = {};
  const binds: string[] = [];
  for (const v of list(p, 'volume')) {
    const c = v.indexOf(':');
    if (c < 0) {
      volumes[v] = {};
      continue;
    }
    let host = v.slice(0, c);
    if (!isAbsolute(host) && host.startsWith('.')) host = resolve(ctx.cwd, host);
    binds.push(`${host}${v.slice(c)}`);
  }
  const tmpfs: Record<string, string> = {};
  for (const t of list(p, 'tmpfs')) {
    const c = t.indexOf(':');
    tmpfs[c < 0 ? t : t.slice(0, c)] = c < 0 ? '' : t.slice(c + 1);
  }
  const mounts = list(p, 'mount').map(parseMount);

  let entrypoint: string[] | null = null;
  const ep = str(p, 'entrypoint');
  if (ep !== undefined) entrypoint = [ep];

  const capAdd = normalizeCaps(list(p, 'cap-add'));
  const capDrop = normalizeCaps(list(p, 'cap-drop'));

  const networks = list(p, 'network');
  const aliases = list(p, 'network-alias');
  const netMode = networks[0] ?? 'default';
  const endpoints: Record<string, unknown> = {};
  const epSettings: Record<string, unknown> = { ...EMPTY_ENDPOINT };
  let custom = false;
  if (aliases.length) { epSettings.Aliases = aliases; custom = true; }
  if (str(p, 'ip') || str(p, 'ip6')) {
    epSettings.IPAMConfig = { ...(str(p, 'ip') ? { IPv4Address: str(p, 'ip') } : {}), ...(str(p, 'ip6') ? { IPv6Address: str(p, 'ip6') } : {}) };
    custom = true;
  }
  if (str(p, 'mac-address')) { epSettings.MacAddress = str(p, 'mac-address'); custom = true; }
  if (list(p, 'link').length) { epSettings.Links = list(p, 'link'); custom = true; }
  // docker omits the endpoint of a single explicitly named network without options, but sends an empty `default`
  // one when no --network was given.
  if (networks.length === 0 || custom) endpoints[netMode] = epSettings;
  for (const n of networks.slice(1)) endpoints[n] = { ...EMPTY_ENDPOINT };

  let healthcheck: Record<string, unknown> | undefined;
  const healthFlags = ['health-cmd', 'health-interval', 'health-timeout', 'health-start-period', 'health-start-interval', 'health-retries'];
  if (bool(p, 'no-healthcheck')) {
    if (healthFlags.some((k) => str(p, k) !== undefined)) throw new InvalidArgument('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (healthFlags.some((k) => str(p, k) !== undefined)) {
    if (str(p, 'health-retries') !== undefined && int(p, 'health-retries') < 0) throw new InvalidArgument('--health-retries cannot be negative');
    const cmdS = str(p, 'health-cmd');
    healthcheck = {
      ...(cmdS ? { Test: ['CMD-SHELL', cmdS] } : {}),
      ...(str(p, 'health-interval') ? { Interval: parseDurationNs(str(p, 'health-interval')!) } : {}),
      ...(str(p, 'health-timeout') ? { Timeout: parseDurationNs(str(p, 'health-timeout')!) } : {}),
      ...(str(p, 'health-start-period') ? { StartPeriod: parseDurationNs(str(p, 'health-start-period')!) } : {}),
      ...(str(p, 'health-start-interval') ? { StartInterval: parseDurationNs(str(p, 'health-start-interval')!) } : {}),
      ...(str(p, 'health-retries') ? { Retries: int(p, 'health-retries') } : {}),
    };
  }

  const memorySwapS = str(p, 'memory-swap');
  const logOpts = kvMap(list(p, 'log-opt'));
  const sysctls = kvMap(list(p, 'sysctl'));
  const storageOpt = kvMap(list(p, 'storage-opt'));

  const hostConfig: Record<string, unknown> = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: str(p, 'cidfile') ?? '',
    LogConfig: { Type: str(p, 'log-driver') ?? '', Config: logOpts },
    NetworkMode: netMode,
    PortBindings: bindings,
    RestartPolicy: parseRestart(str(p, 'restart') ?? 'no', autoRemove),
    AutoRemove: autoRemove,
    VolumeDriver: str(p, 'volume-driver') ?? '',
    VolumesFrom: list(p, 'volumes-from').length ? list(p, 'volumes-from') : null,
    ConsoleSize: tty && ctx.consoleSize ? ctx.consoleSize : [0, 0],
    CapAdd: capAdd.length ? capAdd : null,
    CapDrop: capDrop.length ? capDrop : null,
    CgroupnsMode: str(p, 'cgroupns') ?? '',
    Dns: list(p, 'dns'),
    DnsOptions: list(p, 'dns-option'),
    DnsSearch: list(p, 'dns-search'),
    ExtraHosts: list(p, 'add-host').length ? list(p, 'add-host') : null,
    GroupAdd: list(p, 'group-add').length ? list(p, 'group-add') : null,
    IpcMode: str(p, 'ipc') ?? '',
    Cgroup: '',
    Links: list(p, 'link').length ? list(p, 'link') : null,
    OomScoreAdj: int(p, 'oom-score-adj'),
    PidMode: str(p, 'pid') ?? '',
    Privileged: bool(p, 'privileged'),
    PublishAllPorts: bool(p, 'publish-all'),
    ReadonlyRootfs: bool(p, 'read-only'),
    SecurityOpt: list(p, 'security-opt').length ? list(p, 'security-opt') : null,
    ...(Object.keys(storageOpt).length ? { StorageOpt: storageOpt } : {}),
    ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    UTSMode: str(p, 'uts') ?? '',
    UsernsMode: str(p, 'userns') ?? '',
    ShmSize: size(p, 'shm-size'),
    ...(Object.keys(sysctls).length ? { Sysctls: sysctls } : {}),
    ...(str(p, 'runtime') ? { Runtime: str(p, 'runtime') } : {}),
    Isolation: str(p, 'isolation') ?? '',
    CpuShares: int(p, 'cpu-shares'),
    Memory: size(p, 'memory'),
    NanoCpus: str(p, 'cpus') !== undefined ? nanoCpus(str(p, 'cpus')!) : 0,
    CgroupParent: str(p, 'cgroup-parent') ?? '',
    BlkioWeight: int(p, 'blkio-weight'),
    BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
    CpuPeriod: int(p, 'cpu-period'),
    CpuQuota: int(p, 'cpu-quota'),
    CpuRealtimePeriod: int(p, 'cpu-rt-period'),
    CpuRealtimeRuntime: int(p, 'cpu-rt-runtime'),
    CpusetCpus: str(p, 'cpuset-cpus') ?? '',
    CpusetMems: str(p, 'cpuset-mems') ?? '',
    Devices: list(p, 'device').map(parseDevice),
    DeviceCgroupRules: list(p, 'device-cgroup-rule').length ? list(p, 'device-cgroup-rule') : null,
    DeviceRequests: null,
    MemoryReservation: size(p, 'memory-reservation'),
    MemorySwap: memorySwapS === '-1' ? -1 : size(p, 'memory-swap'),
    MemorySwappiness: int(p, 'memory-swappiness', -1),
    OomKillDisable: bool(p, 'oom-kill-disable'),
    PidsLimit: int(p, 'pids-limit'),
    Ulimits: list(p, 'ulimit').map(parseUlimit),
    CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    ...(mounts.length ? { Mounts: mounts } : {}),
    MaskedPaths: null,
    ReadonlyPaths: null,
    ...(p.flags.init !== undefined ? { Init: bool(p, 'init') } : {}),
  };

  const body: CreateRequest['body'] = {
    Hostname: str(p, 'hostname') ?? '',
    Domainname: str(p, 'domainname') ?? '',
    User: str(p, 'user') ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: tty,
    OpenStdin: stdin,
    // Stdin closes when the attached client leaves, as docker sets it.
    StdinOnce: stdin && attachStdin && !ctx.detach,
    Env: env.length ? env : null,
    Cmd: cmd.length ? cmd : null,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    Image: image,
    Volumes: volumes,
    WorkingDir: str(p, 'workdir') ?? '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: labels,
    ...(str(p, 'stop-signal') !== undefined ? { StopSignal: str(p, 'stop-signal') } : {}),
    ...(str(p, 'stop-timeout') !== undefined ? { StopTimeout: int(p, 'stop-timeout') } : {}),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  const query: CreateRequest['query'] = {};
  if (str(p, 'name')) query.name = str(p, 'name');
  if (str(p, 'platform')) query.platform = str(p, 'platform');
  return { body, query, image };
}
