import { trace } from '../../lib/trace.js';
import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { chainIds } from '../../lib/digest.js';
import { InvalidArgument } from '../../lib/errors.js';
import { mountAll, unmount } from '../snapshots/index.js';
import { ContainerStore, randomName } from './store.js';
import { mergeHealthcheck } from './health.js';
import { attachPlanned, planNetworks, pooledId } from './networking.js';
import type { ContainerService } from './service.js';
import type { ContainerRecord, CreateBody } from './types.js';
import { ramInBytes } from '../../lib/units.js';

const asList = (v: string[] | string | null | undefined): string[] | null | undefined =>
  typeof v === 'string' ? [v] : v;

function mergeEnv(base: string[], over: string[]): string[] {
  const out = [...base];
  for (const e of over) {
    const k = e.split('=')[0];
    const i = out.findIndex((x) => x.split('=')[0] === k);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** The hosts file Docker writes for a container. */
export function hostsFile(hostname: string, extra: string[], hostNetwork: boolean): string {
  if (hostNetwork) {
    try {
      return readFileSync('/etc/hosts', 'utf8') + extra.map(hostLine).join('');
    } catch {
      // fall through to the default file
    }
  }
  return [
    '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters', '',
  ].join('\n') + extra.map(hostLine).join('') + (hostNetwork ? '' : `127.0.1.1\t${hostname}\n`);
}

function hostLine(h: string): string {
  const i = h.indexOf(':');
  if (i <= 0) throw new InvalidArgument(`invalid argument "${h}" for "--add-host" flag: bad format for add-host`);
  const name = h.slice(0, i);
  let ip = h.slice(i + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip === 'host-gateway') ip = '127.0.0.1';
  return `${ip}\t${name}\n`;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * The container's resolv.conf: the host's, with its nameservers, search domains and options each replaced when
 * HostConfig.Dns, DnsSearch or DnsOptions name some (Docker's rule; a DnsSearch of "." means no search domains).
 */
export function resolvConf(hostText: string, dns: unknown, search: unknown, options: unknown): string {
  const servers = strings(dns);
  const domains = strings(search);
  const opts = strings(options);
  if (servers.length === 0 && domains.length === 0 && opts.length === 0) return hostText;
  for (const s of servers) {
    if (isIP(s) === 0) throw new InvalidArgument(`HostConfig.Dns: ${JSON.stringify(s)} is not an ip address`);
  }
  const lines = hostText.split('\n');
  const field = (key: string): string[] => lines.flatMap((l) => {
    const f = l.trim().split(/\s+/);
    return f[0] === key ? f.slice(1) : [];
  });
  const ns = servers.length > 0 ? servers : field('nameserver');
  const sd = domains.length > 0 ? domains.filter((x) => x !== '.') : field('search').length > 0 ? field('search') : field('domain');
  const op = opts.length > 0 ? opts : field('options');
  return [...ns.map((s) => `nameserver ${s}\n`), sd.length > 0 ? `search ${sd.join(' ')}\n` : '', op.length > 0 ? `options ${op.join(' ')}\n` : ''].join('');
}

/**
 * `--log-opt max-size` / `max-file` (as json-file takes them): conmon caps the log file at max-size and then starts
 * it over, so one file is kept, never more than max-size. Refuses what json-file would refuse; a max-file above 1
 * is accepted with a warning saying so.
 */
export function checkLogSize(opts: Record<string, string>): string[] {
  const size = opts['max-size'];
  const files = opts['max-file'];
  if (size !== undefined && size !== '-1') {
    const n = ramInBytes(size);
    if (n === undefined || n <= 0) throw new InvalidArgument(`invalid value for log option max-size: ${size}`);
  }
  if (files !== undefined) {
    if (!/^\d+$/.test(files) || Number(files) < 1) throw new InvalidArgument('max-file cannot be less than 1');
    if (size === undefined || size === '-1') throw new InvalidArgument('max-file is only valid with max-size');
    if (Number(files) > 1) return [`max-file=${files}: this engine keeps one log file, started over when it reaches max-size (${size})`];
  }
  return [];
}

/** The log file cap conmon enforces (bytes), from `--log-opt max-size`; undefined: none. */
export function logSizeMax(host: Record<string, unknown>): number | undefined {
  const size = (host.LogConfig as { Config?: Record<string, string> } | undefined)?.Config?.['max-size'];
  return size === undefined || size === '-1' ? undefined : ramInBytes(size);
}

export async function createContainer(svc: ContainerService, body: CreateBody, name?: string): Promise<{ Id: string; Warnings: string[] }> {
  if (!body.Image) throw new InvalidArgument('Config cannot be empty in order to create a container');
  const img = await svc.d.images.get(body.Image);
  const cname = name ? ContainerStore.checkName(name) : randomName((n) => svc.store.byName(n) !== undefined);
  svc.store.assertNameFree(cname);
  const ic = img.config.config ?? {};
  const host = { ...(body.HostConfig ?? {}) };
  // NetworkMode and NetworkingConfig checked and normalised; the addresses are reserved just before the record is saved.
  // Config.NetworkDisabled (API only): the container gets loopback alone, whatever the network mode says.
  if (body.NetworkDisabled === true) host.NetworkMode = 'none';
  const netPlan = planNetworks(svc, host, body.NetworkDisabled === true ? undefined : body.NetworkingConfig as Record<string, unknown> | undefined, body.Hostname, body.MacAddress);
  const netMode = netPlan.kind;
  const entrypoint = asList(body.Entrypoint);
  let cmd = asList(body.Cmd);
  // An explicit entrypoint drops the image's CMD (Docker's rule).
  if (entrypoint !== undefined && entrypoint !== null && (cmd === undefined || cmd === null)) cmd = null;
  else if (cmd === undefined || cmd === null || cmd.length === 0) cmd = ic.Cmd ?? null;
  const ep = entrypoint === undefined || entrypoint === null ? ic.Entrypoint ?? null : entrypoint.length === 0 || (entrypoint.length === 1 && entrypoint[0] === '') ? null : entrypoint;
  const argv = [...(ep ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw new InvalidArgument('no command specified');
  const rt = typeof host.Runtime === 'string' && host.Runtime ? host.Runtime : svc.d.defaultRuntime;
  if (rt !== 'crun' && rt !== 'runc') throw new InvalidArgument(`unknown or invalid runtime name: ${rt}`);
  host.Runtime = rt;
  const logOpts = (host.LogConfig as { Config?: Record<string, string> } | undefined)?.Config ?? {};
  const unknownLogOpts = Object.keys(logOpts).filter((k) => !['tag', 'labels', 'env', 'mode', 'max-size', 'max-file'].includes(k));
  if (unknownLogOpts.length > 0) throw new InvalidArgument(`HostConfig.LogConfig.Config: unsupported log option(s) ${unknownLogOpts.join(', ')}`);
  const logWarnings = checkLogSize(logOpts);
  // Nothing below throws before the try that undoes it: the ID may be a pooled sandbox's.
  const id = pooledId(svc, netPlan) ?? randomBytes(32).toString('hex');
  trace(id, 'create: begin');
  // A container that joins another's network takes that one's hostname too (Docker's initializeNetworking).
  const joined = netMode === 'container' ? svc.store.byId.get(String(host.NetworkMode).slice('container:'.length)) : undefined;
  const hostname = body.Hostname || joined?.config.Hostname || id.slice(0, 12);
  const config: CreateBody = {
    ...body,
    Hostname: hostname,
    Domainname: body.Domainname ?? '',
    User: body.User || ic.User || '', // Docker's merge: an empty User in the create body means the image's
    AttachStdin: body.AttachStdin ?? false,
    AttachStdout: body.AttachStdout ?? false,
    AttachStderr: body.AttachStderr ?? false,
    ExposedPorts: { ...(ic.ExposedPorts ?? {}), ...(body.ExposedPorts ?? {}) },
    Tty: body.Tty ?? false,
    OpenStdin: body.OpenStdin ?? false,
    StdinOnce: body.StdinOnce ?? false,
    Env: mergeEnv(ic.Env ?? [], body.Env ?? []),
    Cmd: cmd,
    Image: body.Image,
    Volumes: { ...(ic.Volumes ?? {}), ...(body.Volumes ?? {}) },
    WorkingDir: body.WorkingDir || ic.WorkingDir || '',
    Entrypoint: ep,
    OnBuild: null,
    Labels: { ...(ic.Labels ?? {}), ...(body.Labels ?? {}) },
    StopSignal: body.StopSignal || ic.StopSignal || undefined,
  };
  delete config.HostConfig;
  delete config.NetworkingConfig;
  if (Object.keys(config.ExposedPorts ?? {}).length === 0) delete config.ExposedPorts;
  if (!config.StopSignal) delete config.StopSignal;
  const healthcheck = mergeHealthcheck(ic.Healthcheck, config.Healthcheck);
  if (healthcheck) config.Healthcheck = healthcheck;

  const dir = svc.store.dir(id);
  const rec: ContainerRecord = {
    id, name: cname, created: new Date().toISOString(), image: body.Image, imageId: img.id, config, hostConfig: host,
    path: argv[0]!, args: argv.slice(1),
    state: { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: '0001-01-01T00:00:00Z', finishedAt: '0001-01-01T00:00:00Z', conmonPid: 0 },
    restartCount: 0, manualStop: false, snapshotKey: id,
    parentSnapshot: img.diffIds.length ? chainIds(img.diffIds).at(-1) : undefined,
    runtime: rt, logPath: join(dir, 'ctr.log'), hostsPath: join(dir, 'hosts'), hostnamePath: join(dir, 'hostname'), resolvConfPath: join(dir, 'resolv.conf'),
  };
  let warnings: string[] = [];
  try {
    await fsp.mkdir(join(dir, 'persist'), { recursive: true, mode: 0o700 });
    const extraHosts = Array.isArray(host.ExtraHosts) ? (host.ExtraHosts as string[]) : [];
    // These files are regenerated from the record whenever needed: plain writes, no fsync on the run path.
    const resolv = await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => 'nameserver 8.8.8.8\n');
    const [mounts] = await Promise.all([
      svc.d.snapshots.prepare(id, rec.parentSnapshot),
      fsp.writeFile(rec.hostsPath, hostsFile(hostname, extraHosts, netMode === 'host'), { mode: 0o644 }),
      fsp.writeFile(rec.hostnamePath, `${hostname}\n`, { mode: 0o644 }),
      fsp.writeFile(rec.resolvConfPath, resolvConf(resolv, host.Dns, host.DnsSearch, host.DnsOptions), { mode: 0o644 }),
      fsp.mkdir(svc.rootfs(id), { recursive: true, mode: 0o755 }),
    ]);
    trace(id, 'create: snapshot+files');
    await mountAll(mounts, svc.rootfs(id));
    trace(id, 'create: mounted');
    try {
      if (svc.d.volumes) {
        // Volumes are created and seeded from the image's content now, while the rootfs shows only the image.
        rec.mounts = await svc.d.volumes.setup(id, {
          volumes: config.Volumes ?? null, binds: host.Binds as string[] | null | undefined, mounts: host.Mounts as unknown[] | null | undefined,
          volumesFrom: host.VolumesFrom as string[] | null | undefined,
        }, svc.rootfs(id), (ref) => { const r = svc.store.get(ref); return { id: r.id, mounts: r.mounts ?? [] }; });
      }
      let spec;
      ({ spec, warnings } = await svc.d.specs.build(rec, svc.rootfs(id)));
      trace(id, 'create: volumes+spec');
      await svc.d.runtime.prepareSpec?.(spec, rt).catch(() => undefined);
      await fsp.writeFile(join(svc.bundle(id), 'config.json'), JSON.stringify(spec), { mode: 0o600 });
    } catch (e) {
      await unmount(svc.rootfs(id)).catch(() => undefined);
      throw e;
    }
    await attachPlanned(svc, rec, netPlan);
    trace(id, 'create: attached');
    await svc.store.save(rec);
    trace(id, 'create: saved');
  } catch (e) {
    await svc.d.network?.down(id).catch(() => undefined);
    await svc.d.network?.detachAll(id).catch(() => undefined);
    await unmount(svc.rootfs(id)).catch(() => undefined);
    if (rec.mounts) await svc.d.volumes?.released(id, rec.mounts, true);
    await svc.d.snapshots.remove(id).catch(() => undefined);
    await fsp.rm(svc.bundle(id), { recursive: true, force: true });
    await fsp.rm(dir, { recursive: true, force: true });
    throw e;
  }
  svc.emit(rec, 'create');
  return { Id: id, Warnings: [...netPlan.warnings, ...logWarnings, ...warnings] };
}
