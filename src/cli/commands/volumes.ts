import { InvalidArgument } from '../../lib/errors.js';
import { bool, filtersJson, list, str } from '../args.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../format/index.js';
import { printInspect, printRows } from '../output.js';
import type { Cli, Command } from '../types.js';

interface Volume {
  Name: string; Driver: string; Mountpoint: string; CreatedAt: string; Scope: string;
  Labels: Record<string, string> | null; Options: Record<string, string> | null; UsageData?: { Size: number; RefCount: number } | null;
}

/** `-o k=v` / `--label k=v` → a map (docker's opts.MapOpts; a label without `=` has an empty value). */
function kv(values: string[], what: string, needValue: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i < 0 && needValue) throw new InvalidArgument(`invalid ${what} ${JSON.stringify(v)}: expected key=value`);
    if (i < 0) out[v] = '';
    else out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

const labelsText = (l: Record<string, string> | null): string => Object.entries(l ?? {}).map(([k, v]) => `${k}=${v}`).join(',');

async function removeEach(cli: Cli, names: string[], force: boolean): Promise<number> {
  let failed = false;
  for (const name of names) {
    try {
      await cli.client.json('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: force || undefined } });
      cli.out.write(`${name}\n`);
    } catch (e) {
      failed = true;
      cli.err.write(`Error response from daemon: ${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

export const volumesCommands: Command[] = [
  {
    names: ['volume create'],
    usage: 'volume create [OPTIONS] [VOLUME]',
    description: 'Create a volume',
    flags: [
      { name: 'driver', short: 'd', kind: 'string' }, { name: 'label', kind: 'list' }, { name: 'opt', short: 'o', kind: 'list' },
      { name: 'name', kind: 'string' },
    ],
    maxArgs: 1,
    async run(cli, p) {
      const flagName = str(p, 'name');
      if (flagName && p.args[0] && flagName !== p.args[0]) {
        throw new InvalidArgument(`conflicting options: cannot specify a volume-name through both --name and as a positional arg`);
      }
      const v = await cli.client.json<Volume>('POST', '/volumes/create', {
        body: { Name: p.args[0] ?? flagName ?? '', Driver: str(p, 'driver') ?? 'local', DriverOpts: kv(list(p, 'opt'), 'option', true), Labels: kv(list(p, 'label'), 'label', false) },
      });
      cli.out.write(`${v.Name}\n`);
    },
  },
  {
    names: ['volume ls', 'volume list'],
    usage: 'volume ls [OPTIONS]',
    description: 'List volumes',
    flags: [{ name: 'quiet', short: 'q', kind: 'bool' }, { name: 'filter', short: 'f', kind: 'list' }, { name: 'format', kind: 'string' }],
    maxArgs: 0,
    async run(cli, p) {
      const r = await cli.client.json<{ Volumes: Volume[] | null }>('GET', '/volumes', { query: { filters: filtersJson(list(p, 'filter')) } });
      const vols = (r.Volumes ?? []).sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
      if (bool(p, 'quiet')) {
        for (const v of vols) cli.out.write(`${v.Name}\n`);
        return;
      }
      const rows = vols.map((v) => ({
        Name: v.Name, Driver: v.Driver, Scope: v.Scope, Mountpoint: v.Mountpoint, CreatedAt: v.CreatedAt, Labels: labelsText(v.Labels),
        Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A', Size: v.UsageData ? humanSize(v.UsageData.Size) : 'N/A', Availability: 'N/A', Group: 'N/A',
      }));
      printRows(cli.out, str(p, 'format'), 'table {{.Driver}}\t{{.Name}}', rows, {
        Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', CreatedAt: 'CREATED', Labels: 'LABELS',
        Links: 'LINKS', Size: 'SIZE', Availability: 'AVAILABILITY', Group: 'GROUP',
      }, vols);
    },
  },
  {
    names: ['volume inspect'],
    usage: 'volume inspect [OPTIONS] VOLUME [VOLUME...]',
    description: 'Display detailed information on one or more volumes',
    flags: [{ name: 'format', short: 'f', kind: 'string' }],
    minArgs: 1,
    async run(cli, p) {
      const out: unknown[] = [];
      let failed = false;
      for (const name of p.args) {
        try {
          out.push(await cli.client.json('GET', `/volumes/${encodeURIComponent(name)}`));
        } catch (e) {
          failed = true;
          cli.err.write(`Error response from daemon: ${(e as Error).message}\n`);
        }
      }
      if (out.length || !failed) printInspect(cli.out, str(p, 'format'), out);
      return failed ? 1 : 0;
    },
  },
  {
    names: ['volume rm', 'volume remove'],
    usage: 'volume rm [OPTIONS] VOLUME [VOLUME...]',
    description: 'Remove one or more volumes',
    flags: [{ name: 'force', short: 'f', kind: 'bool' }],
    minArgs: 1,
    run: (cli, p) => removeEach(cli, p.args, bool(p, 'force')),
  },
  {
    names: ['volume prune'],
    usage: 'volume prune [OPTIONS]',
    description: 'Remove unused local volumes',
    flags: [{ name: 'all', short: 'a', kind: 'bool' }, { name: 'force', short: 'f', kind: 'bool' }, { name: 'filter', kind: 'list' }],
    maxArgs: 0,
    async run(cli, p) {
      const all = bool(p, 'all');
      if (!bool(p, 'force')) {
        const warn = all
          ? 'WARNING! This will remove all local volumes not used by at least one container.'
          : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
        if (!(await confirm(cli, `${warn}\nAre you sure you want to continue?`))) return;
      }
      const filters = list(p, 'filter');
      if (all) filters.push('all=true');
      const r = await cli.client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters: filtersJson(filters) } });
      const del = r.VolumesDeleted ?? [];
      if (del.length) cli.out.write(`Deleted Volumes:\n${del.join('\n')}\n\n`);
      cli.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
    },
  },
];
