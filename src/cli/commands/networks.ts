import { InvalidArgument } from '../../lib/errors.js';
import { bool, filtersJson, list, str } from '../args.js';
import { confirm } from '../confirm.js';
import { printInspect, printRows } from '../output.js';
import type { Cli, Command } from '../types.js';

interface Network {
  Name: string; Id: string; Created: string; Scope: string; Driver: string; EnableIPv6: boolean; Internal: boolean; Attachable: boolean;
  Ingress: boolean; Labels: Record<string, string> | null;
}

function kv(values: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i < 0 && what === 'option') throw new InvalidArgument(`invalid ${what} ${JSON.stringify(v)}: expected key=value`);
    if (i < 0) out[v] = '';
    else out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

async function each(cli: Cli, names: string[], fn: (name: string) => Promise<void>): Promise<number> {
  let failed = false;
  for (const name of names) {
    try {
      await fn(name);
    } catch (e) {
      failed = true;
      cli.err.write(`Error response from daemon: ${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

const enc = encodeURIComponent;

export const networksCommands: Command[] = [
  {
    names: ['network create'],
    usage: 'network create [OPTIONS] NETWORK',
    description: 'Create a network',
    flags: [
      { name: 'driver', short: 'd', kind: 'string' }, { name: 'subnet', kind: 'list' }, { name: 'gateway', kind: 'list' },
      { name: 'ip-range', kind: 'list' }, { name: 'internal', kind: 'bool' }, { name: 'attachable', kind: 'bool' },
      { name: 'label', kind: 'list' }, { name: 'opt', short: 'o', kind: 'list' }, { name: 'ipv6', kind: 'bool' },
      { name: 'ipam-driver', kind: 'string' },
    ],
    minArgs: 1,
    maxArgs: 1,
    async run(cli, p) {
      const subnets = list(p, 'subnet');
      const gws = list(p, 'gateway');
      const ranges = list(p, 'ip-range');
      if (gws.length > subnets.length || ranges.length > subnets.length) throw new InvalidArgument('every ip-range or gateway must have a corresponding subnet');
      const config = subnets.map((s, i) => ({ Subnet: s, ...(gws[i] ? { Gateway: gws[i] } : {}), ...(ranges[i] ? { IPRange: ranges[i] } : {}) }));
      const r = await cli.client.json<{ Id: string }>('POST', '/networks/create', {
        body: {
          Name: p.args[0], Driver: str(p, 'driver') ?? 'bridge', Internal: bool(p, 'internal'), Attachable: bool(p, 'attachable'),
          EnableIPv6: bool(p, 'ipv6'), Options: kv(list(p, 'opt'), 'option'), Labels: kv(list(p, 'label'), 'label'),
          IPAM: { Driver: str(p, 'ipam-driver') ?? 'default', Config: config, Options: {} },
        },
      });
      cli.out.write(`${r.Id}\n`);
    },
  },
  {
    names: ['network ls', 'network list'],
    usage: 'network ls [OPTIONS]',
    description: 'List networks',
    flags: [
      { name: 'quiet', short: 'q', kind: 'bool' }, { name: 'filter', short: 'f', kind: 'list' }, { name: 'format', kind: 'string' },
      { name: 'no-trunc', kind: 'bool' },
    ],
    maxArgs: 0,
    async run(cli, p) {
      const nets = (await cli.client.json<Network[]>('GET', '/networks', { query: { filters: filtersJson(list(p, 'filter')) } }))
        .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
      const id = (n: Network): string => (bool(p, 'no-trunc') ? n.Id : n.Id.slice(0, 12));
      if (bool(p, 'quiet')) {
        for (const n of nets) cli.out.write(`${id(n)}\n`);
        return;
      }
      const rows = nets.map((n) => ({
        ID: id(n), Name: n.Name, Driver: n.Driver, Scope: n.Scope, IPv6: String(n.EnableIPv6), Internal: String(n.Internal),
        CreatedAt: n.Created, Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      }));
      printRows(cli.out, str(p, 'format'), 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', rows, {
        ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', CreatedAt: 'CREATED AT', Labels: 'LABELS',
      }, nets);
    },
  },
  {
    names: ['network inspect'],
    usage: 'network inspect [OPTIONS] NETWORK [NETWORK...]',
    description: 'Display detailed information on one or more networks',
    flags: [{ name: 'format', short: 'f', kind: 'string' }, { name: 'verbose', short: 'v', kind: 'bool' }],
    minArgs: 1,
    async run(cli, p) {
      const out: unknown[] = [];
      const code = await each(cli, p.args, async (n) => { out.push(await cli.client.json('GET', `/networks/${enc(n)}`)); });
      if (out.length || code === 0) printInspect(cli.out, str(p, 'format'), out);
      return code;
    },
  },
  {
    names: ['network rm', 'network remove'],
    usage: 'network rm NETWORK [NETWORK...]',
    description: 'Remove one or more networks',
    flags: [{ name: 'force', short: 'f', kind: 'bool' }],
    minArgs: 1,
    run: (cli, p) => each(cli, p.args, async (n) => {
      await cli.client.json('DELETE', `/networks/${enc(n)}`).catch((e: unknown) => {
        if (!(bool(p, 'force') && (e as { status?: number }).status === 404)) throw e;
      });
      cli.out.write(`${n}\n`);
    }),
  },
  {
    names: ['network prune'],
    usage: 'network prune [OPTIONS]',
    description: 'Remove all unused networks',
    flags: [{ name: 'force', short: 'f', kind: 'bool' }, { name: 'filter', kind: 'list' }],
    maxArgs: 0,
    async run(cli, p) {
      if (!bool(p, 'force') && !(await confirm(cli, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) return;
      const r = await cli.client.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: filtersJson(list(p, 'filter')) } });
      const del = r.NetworksDeleted ?? [];
      if (del.length) cli.out.write(`Deleted Networks:\n${del.join('\n')}\n\n`);
    },
  },
  {
    names: ['network connect'],
    usage: 'network connect [OPTIONS] NETWORK CONTAINER',
    description: 'Connect a container to a network',
    flags: [{ name: 'alias', kind: 'list' }, { name: 'ip', kind: 'string' }, { name: 'ip6', kind: 'string' }, { name: 'link', kind: 'list' }],
    minArgs: 2,
    maxArgs: 2,
    async run(cli, p) {
      const ip = str(p, 'ip');
      await cli.client.json('POST', `/networks/${enc(p.args[0]!)}/connect`, {
        body: { Container: p.args[1], EndpointConfig: { Aliases: list(p, 'alias'), ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}) } },
      });
    },
  },
  {
    names: ['network disconnect'],
    usage: 'network disconnect [OPTIONS] NETWORK CONTAINER',
    description: 'Disconnect a container from a network',
    flags: [{ name: 'force', short: 'f', kind: 'bool' }],
    minArgs: 2,
    maxArgs: 2,
    async run(cli, p) {
      await cli.client.json('POST', `/networks/${enc(p.args[0]!)}/disconnect`, { body: { Container: p.args[1], Force: bool(p, 'force') } });
    },
  },
  {
    names: ['port', 'container port'],
    usage: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
    description: 'List port mappings or a specific mapping for the container',
    flags: [],
    minArgs: 1,
    maxArgs: 2,
    async run(cli, p) {
      const c = await cli.client.json<{ NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> } }>('GET', `/containers/${enc(p.args[0]!)}/json`);
      const ports = c.NetworkSettings?.Ports ?? {};
      const want = p.args[1];
      if (want) {
        const key = want.includes('/') ? want : `${want}/tcp`;
        const binds = ports[key];
        if (!binds || binds.length === 0) throw new InvalidArgument(`No public port '${key}' published for ${p.args[0]}`);
        for (const b of binds) cli.out.write(`${b.HostIp}:${b.HostPort}\n`);
        return;
      }
      const lines: string[] = [];
      for (const [key, binds] of Object.entries(ports)) for (const b of binds ?? []) lines.push(`${key} -> ${b.HostIp}:${b.HostPort}`);
      const num = (l: string): number => Number(l.split('/')[0]);
      for (const l of lines.sort((a, b) => num(a) - num(b) || a.localeCompare(b))) cli.out.write(`${l}\n`);
    },
  },
];
