/**
 * `GET /info` (Docker's system.Info, filled with what this host and petid really have) and the prune routes
 * `docker system prune` calls for services this petid runs without.
 */
import { cpus, totalmem, release } from 'node:os';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Engine } from '../../engine/engine.js';
import type { Route } from '../router.js';
import { sendJson } from '../server.js';
import { filtersParam } from '../convert/query.js';

/** Services other parts of petid add to the engine; /info and prune look at them when present. */
interface OptionalServices {
  networks?: { list(filters?: Record<string, string[]>): unknown[] };
  builder?: { usage(): unknown[] };
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function osRelease(): { name: string; version: string } {
  const text = read('/etc/os-release') ?? '';
  const field = (k: string): string | undefined => new RegExp(`^${k}="?([^"\\n]*)"?`, 'm').exec(text)?.[1];
  return { name: field('PRETTY_NAME') ?? 'Linux', version: field('VERSION_ID') ?? '' };
}

function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const p = join(dir, bin);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function sysctlOn(path: string): boolean | undefined {
  const v = read(path);
  return v === undefined ? undefined : v.trim() === '1';
}

function countFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/** Docker's architecture names (uname -m). */
function unameArch(): string {
  return ({ x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
}

/** `GET /info`. */
export async function infoJson(engine: Engine, serverVersion: string): Promise<Record<string, unknown>> {
  const ext = engine as Engine & OptionalServices;
  const imgs = await engine.images.list({ all: false });
  const ctrs = engine.containers.list({ all: true });
  const count = (s: string): number => ctrs.filter((c) => c.state.status === s).length;
  const v2 = engine.cgroupVersion === 2;
  const swapLimit = v2
    ? existsSync('/sys/fs/cgroup/peti/memory.swap.max') || /\bmemory\b/.test(read('/sys/fs/cgroup/cgroup.subtree_control') ?? '') && existsSync('/proc/swaps')
    : existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
  const ipv4Forwarding = sysctlOn('/proc/sys/net/ipv4/ip_forward') ?? false;
  const nfIptables = sysctlOn('/proc/sys/net/bridge/bridge-nf-call-iptables');
  const nfIp6tables = sysctlOn('/proc/sys/net/bridge/bridge-nf-call-ip6tables');
  const warnings: string[] = [];
  if (!swapLimit) warnings.push('WARNING: No swap limit support');
  if (!ipv4Forwarding) warnings.push('WARNING: IPv4 forwarding is disabled');
  if (nfIptables === false) warnings.push('WARNING: bridge-nf-call-iptables is disabled');
  if (nfIp6tables === false) warnings.push('WARNING: bridge-nf-call-ip6tables is disabled');
  const runtimes: Record<string, { path: string }> = {};
  for (const rt of ['crun', 'runc']) {
    const p = which(rt);
    if (p) runtimes[rt] = { path: p };
  }
  const initPath = ['/usr/bin/catatonit', '/usr/bin/tini-static', '/usr/bin/tini'].find((p) => existsSync(p));
  const security = ['name=seccomp,profile=builtin'];
  if (v2) security.push('name=cgroupns');
  const os = osRelease();
  const pluginsNetwork = ext.networks ? ['bridge', 'host', 'null'] : ['host', 'null'];
  return {
    ID: engine.id,
    Containers: ctrs.length, ContainersRunning: count('running'), ContainersPaused: count('paused'),
    ContainersStopped: ctrs.length - count('running') - count('paused'),
    Images: imgs.length,
    Driver: 'overlayfs', DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']],
    Plugins: { Volume: ['local'], Network: pluginsNetwork, Authorization: null, Log: ['k8s-file'] },
    MemoryLimit: true, SwapLimit: swapLimit, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true,
    OomKillDisable: !v2, IPv4Forwarding: ipv4Forwarding, BridgeNfIptables: nfIptables ?? false, BridgeNfIp6tables: nfIp6tables ?? false,
    Debug: false, NFd: countFds(), NGoroutines: 0, SystemTime: new Date().toISOString(),
    LoggingDriver: 'k8s-file', CgroupDriver: 'cgroupfs', CgroupVersion: String(engine.cgroupVersion),
    NEventsListener: engine.events.listenerCount(),
    KernelVersion: release(), OperatingSystem: os.name, OSVersion: os.version, OSType: 'linux', Architecture: unameArch(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null,
      InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'], IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } }, Mirrors: null,
    },
    NCPU: cpus().length, MemTotal: totalmem(), GenericResources: null, DockerRootDir: engine.dataRoot,
    HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '', HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
    NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
    Name: engine.name, Labels: [], ExperimentalBuild: false, ServerVersion: serverVersion,
    Runtimes: runtimes, DefaultRuntime: engine.containers.svc.d.defaultRuntime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true, Isolation: '', InitBinary: initPath ? initPath.split('/').pop() : '',
    ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
    SecurityOptions: security, ProductLicense: '', DefaultAddressPools: [], FirewallBackend: ext.networks ? { Driver: 'nftables' } : undefined,
    CDISpecDirs: [], Containerd: null, Warnings: warnings.length > 0 ? warnings : null,
  };
}

/**
 * Prune routes for services this petid runs without, so `docker system prune` (which calls each one in turn) works:
 * without a network service no user network exists, without a builder no build cache. When the service exists,
 * its own routes answer and none is added here.
 */
export function fallbackPruneRoutes(engine: Engine): Route[] {
  const ext = engine as Engine & OptionalServices;
  const out: Route[] = [];
  if (!ext.networks) {
    out.push({
      method: 'POST', path: '/networks/prune', minVersion: '1.25',
      handler: async ({ res, query }) => {
        filtersParam(query);
        sendJson(res, 200, { NetworksDeleted: null });
      },
    });
  }
  if (!ext.builder) {
    out.push({
      method: 'POST', path: '/build/prune', minVersion: '1.31',
      handler: async ({ res, query }) => {
        filtersParam(query);
        sendJson(res, 200, { CachesDeleted: null, SpaceReclaimed: 0 });
      },
    });
  }
  return out;
}
