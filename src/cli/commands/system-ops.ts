/**
 * `system prune` (the docker CLI's sequence of prune calls), and the text of `info` and `system df -v` in the
 * docker CLI's layout.
 */
import { NotFound } from '../../lib/errors.js';
import { bool, filtersJson, list } from '../args.js';
import { confirm } from '../confirm.js';
import { ago, bytesSize, humanSize } from '../format/index.js';
import { printRows } from '../output.js';
import type { Cli, Command } from '../types.js';
import { PETI_CLI_VERSION } from '../version.js';

type Info = Record<string, unknown>;

/** `peti info` without --format: the docker CLI's layout; warnings go to stderr, as docker's. */
export function printInfo(cli: Cli, i: Info): void {
  const g = (k: string): string => String(i[k] ?? '');
  const lines: string[] = ['Client:', ` Version:    ${PETI_CLI_VERSION}`, ' Context:    default', ' Debug Mode: false', '', 'Server:'];
  lines.push(
    ` Containers: ${g('Containers')}`, `  Running: ${g('ContainersRunning')}`, `  Paused: ${g('ContainersPaused')}`, `  Stopped: ${g('ContainersStopped')}`,
    ` Images: ${g('Images')}`, ` Server Version: ${g('ServerVersion')}`, ` Storage Driver: ${g('Driver')}`,
  );
  for (const [k, v] of (i.DriverStatus as [string, string][] | null) ?? []) lines.push(`  ${k}: ${v}`);
  lines.push(` Logging Driver: ${g('LoggingDriver')}`, ` Cgroup Driver: ${g('CgroupDriver')}`, ` Cgroup Version: ${g('CgroupVersion')}`, ' Plugins:');
  const plugins = (i.Plugins as Record<string, string[] | null> | undefined) ?? {};
  for (const k of ['Volume', 'Network', 'Authorization', 'Log']) {
    const v = plugins[k];
    if (v && v.length) lines.push(`  ${k}: ${v.join(' ')}`);
  }
  const cdi = (i.CDISpecDirs as string[] | null) ?? [];
  if (cdi.length) lines.push(' CDI spec directories:', ...cdi.map((d) => `  ${d}`));
  const swarm = (i.Swarm as { LocalNodeState?: string } | undefined)?.LocalNodeState ?? 'inactive';
  lines.push(
    ` Swarm: ${swarm}`, ` Runtimes: ${Object.keys((i.Runtimes as Record<string, unknown> | null) ?? {}).sort().join(' ')}`,
    ` Default Runtime: ${g('DefaultRuntime')}`, ` Init Binary: ${g('InitBinary')}`, ' Security Options:',
  );
  for (const opt of (i.SecurityOptions as string[] | null) ?? []) {
    // `name=seccomp,profile=builtin` prints as `seccomp` then `  Profile: builtin`, as docker's.
    const kv = Object.fromEntries(opt.split(',').map((p) => { const e = p.indexOf('='); return [p.slice(0, e), p.slice(e + 1)]; }));
    lines.push(`  ${kv.name ?? opt}`);
    for (const [k, v] of Object.entries(kv)) if (k !== 'name') lines.push(`   ${k[0]!.toUpperCase()}${k.slice(1)}: ${v}`);
  }
  lines.push(
    ` Kernel Version: ${g('KernelVersion')}`, ` Operating System: ${g('OperatingSystem')}`, ` OSType: ${g('OSType')}`,
    ` Architecture: ${g('Architecture')}`, ` CPUs: ${g('NCPU')}`, ` Total Memory: ${bytesSize(Number(i.MemTotal ?? 0))}`,
    ` Name: ${g('Name')}`, ` ID: ${g('ID')}`, ` Docker Root Dir: ${g('DockerRootDir')}`, ` Debug Mode: ${g('Debug')}`,
  );
  if (g('HttpProxy')) lines.push(` HTTP Proxy: ${g('HttpProxy')}`);
  if (g('HttpsProxy')) lines.push(` HTTPS Proxy: ${g('HttpsProxy')}`);
  if (g('NoProxy')) lines.push(` No Proxy: ${g('NoProxy')}`);
  const labels = (i.Labels as string[] | null) ?? [];
  if (labels.length) lines.push(' Labels:', ...labels.map((l) => `  ${l}`));
  lines.push(` Experimental: ${g('ExperimentalBuild')}`);
  const insecure = ((i.RegistryConfig as { InsecureRegistryCIDRs?: string[] } | undefined)?.InsecureRegistryCIDRs ?? []).slice().sort();
  if (insecure.length) lines.push(' Insecure Registries:', ...insecure.map((r) => `  ${r}`));
  lines.push(` Live Restore Enabled: ${g('LiveRestoreEnabled')}`, '');
  cli.out.write(lines.join('\n') + '\n');
  const warnings = (i.Warnings as string[] | null) ?? [];
  if (warnings.length) cli.err.write(warnings.join('\n') + '\n');
}

interface DfImage { Id: string; RepoTags: string[] | null; Size: number; SharedSize: number; Containers: number; Created: number }
interface DfContainer { Id: string; Image: string; Command: string; Created: number; State: string; Status: string; Names: string[]; SizeRw?: number; Mounts?: { Type: string }[] }
interface DfVolume { Name: string; UsageData?: { Size: number; RefCount: number } }
interface DfCache { ID: string; Type: string; Size: number; CreatedAt: string; LastUsedAt?: string | null; UsageCount: number; InUse: boolean; Shared: boolean; Description?: string }
export interface DiskUsage { LayersSize: number; Images: DfImage[] | null; Containers: DfContainer[] | null; Volumes: DfVolume[] | null; BuildCache: DfCache[] | null }

/** Docker's `system df -v`: the four sections, each a table. */
export function printDfVerbose(cli: Cli, df: DiskUsage): void {
  const out = cli.out;
  out.write('Images space usage:\n\n');
  const images = (df.Images ?? []).flatMap((i) => (i.RepoTags?.length ? i.RepoTags : ['<none>:<none>']).map((rt) => {
    const c = rt.lastIndexOf(':');
    const shared = Math.max(0, i.SharedSize);
    return {
      Repository: rt.slice(0, c), Tag: rt.slice(c + 1), ID: i.Id.replace(/^sha256:/, '').slice(0, 12), CreatedSince: ago(i.Created * 1000),
      Size: humanSize(i.Size), SharedSize: humanSize(shared), UniqueSize: humanSize(i.Size - shared), Containers: String(i.Containers),
    };
  }));
  printRows(out, undefined, 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', images, {
    Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS',
  });
  out.write('\nContainers space usage:\n\n');
  const ctrs = (df.Containers ?? []).map((c) => ({
    ID: c.Id.slice(0, 12), Image: c.Image, Command: JSON.stringify(c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === 'volume').length), Size: humanSize(c.SizeRw ?? 0),
    RunningFor: ago(c.Created * 1000), Status: c.Status, Names: (c.Names[0] ?? '').replace(/^\//, ''),
  }));
  printRows(out, undefined, 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}', ctrs, {
    ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES',
  });
  out.write('\nLocal Volumes space usage:\n\n');
  const vols = (df.Volumes ?? []).map((v) => ({
    Name: v.Name, Links: String(v.UsageData?.RefCount ?? 0), Size: v.UsageData && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size) : 'N/A',
  }));
  printRows(out, undefined, 'table {{.Name}}\t{{.Links}}\t{{.Size}}', vols, { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' });
  const cache = df.BuildCache ?? [];
  const cacheSize = cache.filter((c) => !c.Shared).reduce((a, c) => a + c.Size, 0);
  out.write(`\nBuild cache usage: ${humanSize(cacheSize)}\n\n`);
  const rows = cache.map((c) => ({
    ID: c.ID.slice(0, 25), CacheType: c.Type, Size: humanSize(c.Size), CreatedSince: ago(Date.parse(c.CreatedAt)),
    LastUsedSince: c.LastUsedAt ? ago(Date.parse(c.LastUsedAt)) : '', UsageCount: String(c.UsageCount), Shared: String(c.Shared),
  }));
  printRows(out, undefined, 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}', rows, {
    ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED',
  });
}

/** The docker CLI's confirmation text for `system prune`. */
function pruneWarning(all: boolean, volumes: boolean, filters: string[]): string {
  const warnings = ['all stopped containers', 'all networks not used by at least one container'];
  if (volumes) warnings.push('all anonymous volumes not used by at least one container');
  warnings.push(all ? 'all images without at least one container associated to them' : 'all dangling images');
  warnings.push(all ? 'all build cache' : 'unused build cache');
  let text = `WARNING! This will remove:\n${warnings.map((w) => `  - ${w}`).join('\n')}\n`;
  const shown = filters.filter((f) => /^(label|label!|until)=/.test(f)).sort();
  if (shown.length) text += `\n  Items to be pruned will be filtered with:\n${shown.map((f) => `  - ${f}`).join('\n')}\n`;
  return `${text}\nAre you sure you want to continue?`;
}

export const systemPruneCommand: Command = {
  names: ['system prune'],
  usage: 'system prune [OPTIONS]',
  description: 'Remove unused data',
  flags: [
    { name: 'all', short: 'a', kind: 'bool' }, { name: 'force', short: 'f', kind: 'bool' }, { name: 'volumes', kind: 'bool' },
    { name: 'filter', kind: 'list' },
  ],
  maxArgs: 0,
  async run(cli, p) {
    const all = bool(p, 'all');
    const volumes = bool(p, 'volumes');
    const filters = list(p, 'filter');
    if (volumes && filters.some((f) => f.startsWith('until='))) {
      cli.err.write('ERROR: The "until" filter is not supported with "--volumes"\n');
      return 1;
    }
    // Answering no cancels quietly, with status 0, as the docker CLI.
    if (!bool(p, 'force') && !(await confirm(cli, pruneWarning(all, volumes, filters)))) return 0;
    const q = filtersJson(filters);
    let reclaimed = 0;
    const section = (title: string, items: string[]): void => {
      if (items.length) cli.out.write(`${title}:\n${items.join('\n')}\n\n`);
    };
    // The docker CLI's order: containers, networks, volumes, images, build cache.
    const c = await cli.client.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters: q } });
    section('Deleted Containers', c.ContainersDeleted ?? []);
    if (c.ContainersDeleted?.length) reclaimed += c.SpaceReclaimed;
    const n = await cli.client.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: q } });
    section('Deleted Networks', n.NetworksDeleted ?? []);
    if (volumes) {
      const v = await cli.client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters: q } });
      section('Deleted Volumes', v.VolumesDeleted ?? []);
      if (v.VolumesDeleted?.length) reclaimed += v.SpaceReclaimed;
    }
    const i = await cli.client.json<{ ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>(
      'POST', '/images/prune', { query: { filters: filtersJson(all ? [...filters, 'dangling=false'] : filters) } });
    section('Deleted Images', (i.ImagesDeleted ?? []).map((x) => (x.Untagged ? `untagged: ${x.Untagged}` : `deleted: ${x.Deleted ?? ''}`)));
    if (i.ImagesDeleted?.length) reclaimed += i.SpaceReclaimed;
    try {
      const b = await cli.client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', { query: { all: all || undefined, filters: q } });
      section('Deleted build cache objects', b.CachesDeleted ?? []);
      reclaimed += b.SpaceReclaimed;
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
    }
    cli.out.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
