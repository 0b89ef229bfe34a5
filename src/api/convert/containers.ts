import type { ContainerRecord } from '../../engine/containers/index.js';
import { inspectNetworkSettings, summaryNetworkSettings, summaryPorts } from './network-settings.js';
import { healthSuffix } from '../../engine/containers/health.js';

/** Go-units HumanDuration, for `Up 5 minutes` / `Exited (0) 2 hours ago`. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

/** The `Status` column of `docker ps`. */
export function statusText(r: ContainerRecord, now = Date.now()): string {
  const s = r.state;
  switch (s.status) {
    case 'running': return `Up ${humanDuration(now - Date.parse(s.startedAt))}${healthSuffix(r)}`;
    case 'paused': return `Up ${humanDuration(now - Date.parse(s.startedAt))} (Paused)`;
    case 'restarting': return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'exited': return Date.parse(s.finishedAt) > 0 ? `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago` : 'Created';
    case 'removing': return 'Removal In Progress';
    case 'dead': return 'Dead';
    default: return 'Created';
  }
}

function mounts(r: ContainerRecord): Record<string, unknown>[] {
  // Containers created with the volume service carry Docker's MountPoints; older records are described from HostConfig.
  if (r.mounts) {
    return r.mounts.map((m) => (m.Type === 'volume'
      ? { Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, Driver: m.Driver ?? 'local', Mode: m.Mode, RW: m.RW, Propagation: m.Propagation }
      : { Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation }));
  }
  const out: Record<string, unknown>[] = [];
  for (const b of (r.hostConfig.Binds as string[] | undefined) ?? []) {
    const [src, dst, mode = ''] = b.split(':');
    out.push({ Type: 'bind', Source: src, Destination: dst, Mode: mode, RW: !mode.split(',').includes('ro'), Propagation: 'rprivate' });
  }
  for (const m of (r.hostConfig.Mounts as Record<string, unknown>[] | undefined) ?? []) {
    out.push({ Type: m.Type, Source: m.Source ?? '', Destination: m.Target, Mode: '', RW: m.ReadOnly !== true, Propagation: m.Type === 'bind' ? 'rprivate' : '' });
  }
  return out;
}

/** `GET /containers/json` item. */
export function containerSummary(r: ContainerRecord, size?: { rw: number; rootFs: number }): Record<string, unknown> {
  return {
    Id: r.id,
    Names: [`/${r.name}`],
    Image: r.image,
    ImageID: r.imageId,
    // Docker quotes arguments holding a space with single quotes, and nothing else.
    Command: [r.path, ...r.args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' '),
    Created: Math.floor(Date.parse(r.created) / 1000),
    Ports: summaryPorts(r),
    ...(size !== undefined ? { SizeRw: size.rw, SizeRootFs: size.rootFs } : {}),
    Labels: r.config.Labels ?? {},
    State: r.state.status,
    Status: statusText(r),
    HostConfig: { NetworkMode: r.hostConfig.NetworkMode ?? 'none' },
    NetworkSettings: summaryNetworkSettings(r),
    Mounts: mounts(r),
  };
}

const HOST_DEFAULTS: Record<string, unknown> = {
  Binds: null, ContainerIDFile: '', LogConfig: { Type: 'k8s-file', Config: {} }, NetworkMode: 'none', PortBindings: {},
  RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0],
  CapAdd: null, CapDrop: null, CgroupnsMode: 'host', Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null,
  IpcMode: 'private', Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false,
  ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '', ShmSize: 67108864, Runtime: 'crun', Isolation: '',
  CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0,
  CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null, DeviceRequests: null,
  MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null, OomKillDisable: null, PidsLimit: null, Ulimits: null,
  Mounts: undefined, Init: null, MaskedPaths: null, ReadonlyPaths: null, Tmpfs: undefined, Sysctls: undefined,
};

/** `GET /containers/{id}/json`, Docker's ContainerJSON shape. */
export function containerInspect(r: ContainerRecord, extra: { size?: { rw: number; rootFs: number }; rootfs: string; upperDir: string }): Record<string, unknown> {
  const s = r.state;
  const running = s.status === 'running' || s.status === 'paused';
  const hostConfig = { ...HOST_DEFAULTS, ...r.hostConfig };
  return {
    Id: r.id,
    Created: r.created,
    Path: r.path,
    Args: r.args,
    State: {
      Status: s.status, Running: running, Paused: s.status === 'paused', Restarting: s.status === 'restarting', OOMKilled: s.oomKilled,
      Dead: s.status === 'dead', Pid: running ? s.pid : 0, ExitCode: s.exitCode, Error: s.error, StartedAt: s.startedAt, FinishedAt: s.finishedAt,
      ...(r.health ? { Health: r.health } : {}),
    },
    Image: r.imageId,
    ResolvConfPath: r.resolvConfPath,
    HostnamePath: r.hostnamePath,
    HostsPath: r.hostsPath,
    LogPath: r.logPath,
    Name: `/${r.name}`,
    RestartCount: r.restartCount,
    Driver: 'overlayfs',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: hostConfig,
    GraphDriver: { Name: 'overlayfs', Data: { MergedDir: extra.rootfs, UpperDir: extra.upperDir } },
    ...(extra.size !== undefined ? { SizeRw: extra.size.rw, SizeRootFs: extra.size.rootFs } : {}),
    Mounts: mounts(r),
    Config: { ...r.config, Image: r.image },
    NetworkSettings: inspectNetworkSettings(r),
  };
}
