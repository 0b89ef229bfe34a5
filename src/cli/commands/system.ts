import { release } from 'node:os';
import { NotFound } from '../../lib/errors.js';
import { bool, filtersJson, list, str } from '../args.js';
import { compileTemplate, humanSize } from '../format/index.js';
import { printInspect, printRows } from '../output.js';
import type { Command } from '../types.js';
import { PETI_CLI_VERSION } from '../version.js';
import { printDfVerbose, printInfo, systemPruneCommand, type DiskUsage } from './system-ops.js';

interface Version {
  Version: string; ApiVersion: string; MinAPIVersion: string; GitCommit: string; GoVersion: string; Os: string; Arch: string;
  KernelVersion: string; Platform?: { Name: string };
}

export const systemCommands: Command[] = [
  {
    names: ['version'],
    usage: 'version [OPTIONS]',
    description: 'Show the Peti version information',
    flags: [{ name: 'format', short: 'f', kind: 'string' }],
    maxArgs: 0,
    async run(cli, p) {
      const client = {
        Version: PETI_CLI_VERSION, ApiVersion: '1.50', DefaultAPIVersion: '1.50', GoVersion: `node ${process.version}`, GitCommit: 'peti',
        Os: 'linux', Arch: process.arch === 'x64' ? 'amd64' : process.arch, Context: 'default',
      };
      let server: Version | undefined;
      let err: unknown;
      try {
        server = await cli.client.json<Version>('GET', '/version');
      } catch (e) {
        err = e;
      }
      const format = str(p, 'format');
      if (format) {
        cli.out.write((format === 'json' ? JSON.stringify({ Client: client, Server: server ?? null }) : compileTemplate(format)({ Client: client, Server: server ?? null })) + '\n');
      } else {
        cli.out.write(`Client:\n Version:           ${client.Version}\n API version:       ${client.ApiVersion}\n Node version:      ${process.version}\n OS/Arch:           linux/${client.Arch}\n`);
        if (server) {
          cli.out.write(`\nServer: ${server.Platform?.Name ?? 'Peti'}\n Engine:\n  Version:          ${server.Version}\n  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})\n  Runtime:          ${server.GoVersion}\n  OS/Arch:          ${server.Os}/${server.Arch}\n  Kernel:           ${server.KernelVersion || release()}\n`);
        }
      }
      if (err) throw err;
    },
  },
  {
    names: ['info', 'system info'],
    usage: 'info [OPTIONS]',
    description: 'Display system-wide information',
    flags: [{ name: 'format', short: 'f', kind: 'string' }],
    maxArgs: 0,
    async run(cli, p) {
      const i = await cli.client.json<Record<string, unknown>>('GET', '/info');
      const format = str(p, 'format');
      if (format) {
        cli.out.write((format === 'json' ? JSON.stringify(i) : compileTemplate(format)(i)) + '\n');
        return;
      }
      printInfo(cli, i);
    },
  },
  {
    names: ['system df'],
    usage: 'system df [OPTIONS]',
    description: 'Show disk usage',
    flags: [{ name: 'verbose', short: 'v', kind: 'bool' }, { name: 'format', kind: 'string' }],
    maxArgs: 0,
    async run(cli, p) {
      const df = await cli.client.json<DiskUsage>('GET', '/system/df');
      if (bool(p, 'verbose') && !str(p, 'format')) {
        printDfVerbose(cli, df);
        return;
      }
      const images = df.Images ?? [];
      const containers = df.Containers ?? [];
      const volumes = df.Volumes ?? [];
      const cache = df.BuildCache ?? [];
      const ctrActive = containers.filter((c) => c.State === 'running' || c.State === 'paused').length;
      const ctrSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
      const ctrReclaim = containers.filter((c) => c.State !== 'running' && c.State !== 'paused').reduce((a, c) => a + (c.SizeRw ?? 0), 0);
      const active = images.filter((i) => i.Containers > 0).length;
      const reclaim = images.filter((i) => i.Containers <= 0).reduce((a, i) => a + i.Size - Math.max(0, i.SharedSize), 0);
      const volSize = volumes.reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
      const volActive = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length;
      const volReclaim = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
      const cacheSize = cache.filter((c) => !c.Shared).reduce((a, c) => a + c.Size, 0);
      const cacheReclaim = cache.filter((c) => !c.Shared && !c.InUse).reduce((a, c) => a + c.Size, 0);
      const pct = (n: number, total: number): string => (total > 0 ? ` (${Math.round((n * 100) / total)}%)` : '');
      const rows = [
        { Type: 'Images', TotalCount: String(images.length), Active: String(active), Size: humanSize(df.LayersSize), Reclaimable: humanSize(reclaim) + pct(reclaim, df.LayersSize) },
        { Type: 'Containers', TotalCount: String(containers.length), Active: String(ctrActive), Size: humanSize(ctrSize), Reclaimable: humanSize(ctrReclaim) + pct(ctrReclaim, ctrSize) },
        { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volActive), Size: humanSize(volSize), Reclaimable: humanSize(volReclaim) + pct(volReclaim, volSize) },
        { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((c) => c.InUse).length), Size: humanSize(cacheSize), Reclaimable: humanSize(cacheReclaim) },
      ];
      printRows(cli.out, str(p, 'format'), 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', rows, {
        Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE',
      });
    },
  },
  {
    names: ['events', 'system events'],
    usage: 'events [OPTIONS]',
    description: 'Get real time events from the server',
    flags: [{ name: 'filter', short: 'f', kind: 'list' }, { name: 'since', kind: 'string' }, { name: 'until', kind: 'string' }, { name: 'format', kind: 'string' }],
    maxArgs: 0,
    async run(cli, p) {
      const res = await cli.client.send('GET', '/events', { query: { since: str(p, 'since'), until: str(p, 'until'), filters: filtersJson(list(p, 'filter')) } });
      const format = str(p, 'format');
      const tmpl = format && format !== 'json' ? compileTemplate(format) : undefined;
      for await (const e of cli.client.jsonLines<{ Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; timeNano: number; time: number }>(res)) {
        if (format === 'json') cli.out.write(JSON.stringify(e) + '\n');
        else if (tmpl) cli.out.write(tmpl(e) + '\n');
        else {
          const ns = String(BigInt(e.timeNano) % 1_000_000_000n).padStart(9, '0');
          const when = new Date(e.time * 1000).toISOString().replace(/\.\d{3}Z$/, `.${ns}Z`);
          const attrs = Object.entries(e.Actor.Attributes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(', ');
          cli.out.write(`${when} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs ? ` (${attrs})` : ''}\n`);
        }
      }
    },
  },
  {
    names: ['inspect'],
    usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
    description: 'Return low-level information on Peti objects',
    flags: [{ name: 'format', short: 'f', kind: 'string' }, { name: 'type', kind: 'string' }, { name: 'size', short: 's', kind: 'bool' }],
    minArgs: 1,
    async run(cli, p) {
      const type = str(p, 'type');
      if (type && type !== 'container' && type !== 'image') {
        cli.err.write(`"${type}" is not a valid value for --type\n`);
        return 1;
      }
      const out: unknown[] = [];
      let failed = false;
      // docker tries the kinds in order (container first) and takes the first that knows the name.
      const kinds = type ? [type] : ['container', 'image'];
      for (const name of p.args) {
        let found: unknown;
        for (const kind of kinds) {
          try {
            found = kind === 'container'
              ? await cli.client.json('GET', `/containers/${encodeURIComponent(name)}/json`, { query: { size: bool(p, 'size') || undefined } })
              : await cli.client.json('GET', `/images/${encodeURIComponent(name)}/json`);
            break;
          } catch (e) {
            if (!(e instanceof NotFound)) throw e;
          }
        }
        if (found === undefined) {
          failed = true;
          cli.err.write(`Error: No such ${type ?? 'object'}: ${name}\n`);
        } else out.push(found);
      }
      if (out.length || !failed) printInspect(cli.out, str(p, 'format'), out);
      return failed ? 1 : 0;
    },
  },
  systemPruneCommand,
];
