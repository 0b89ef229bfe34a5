import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { AlreadyExists, Forbidden, InvalidArgument, NotFound } from '../../lib/errors.js';
import { contains, formatCidr, intToIp, ipToInt, overlaps, parseCidr, type Subnet } from './cidr.js';
import { defaultGateway } from './ipam.js';
import type { CreateNetworkRequest, IpamConfig, NetworkRecord } from './types.js';

export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Subnets routed on the host now (/proc/net/route), so a new network avoids the host's own networks. */
export function hostRoutes(): Subnet[] {
  try {
    return readFileSync('/proc/net/route', 'utf8').split('\n').slice(1).flatMap((l) => {
      const f = l.trim().split(/\s+/);
      if (f.length < 8 || f[1] === '00000000') return [];
      const le = (h: string): number => (parseInt(h.slice(6, 8) + h.slice(4, 6) + h.slice(2, 4) + h.slice(0, 2), 16)) >>> 0;
      const m = le(f[7]!);
      const prefix = m === 0 ? 0 : 32 - Math.log2((~m >>> 0) + 1);
      return Number.isInteger(prefix) ? [{ base: le(f[1]!), prefix }] : [];
    });
  } catch {
    return [];
  }
}

/** The first free /24 of 10.89.0.0/16 .. 10.99.255.0/24 (Podman's pool) that no network and no route uses. */
export function pickSubnet(taken: Subnet[]): string {
  for (let n = ipToInt('10.89.0.0'); n < ipToInt('10.100.0.0'); n += 256) {
    const s = { base: n, prefix: 24 };
    if (!taken.some((t) => overlaps(t, s))) return formatCidr(s);
  }
  throw new Forbidden('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

export function subnetsOf(nets: Iterable<NetworkRecord>): Subnet[] {
  return [...nets].flatMap((n) => n.ipam.map((c) => parseCidr(c.Subnet)));
}

/** A new user-defined bridge network from Docker's create body (validated as dockerd does). */
export function newNetwork(req: CreateNetworkRequest, existing: NetworkRecord[]): NetworkRecord {
  const name = typeof req.Name === 'string' ? req.Name : '';
  if (!name) throw new InvalidArgument('network name is required');
  if (!NAME_RE.test(name)) throw new InvalidArgument(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (existing.some((n) => n.name === name)) throw new AlreadyExists(`network with name ${name} already exists`);
  const driver = req.Driver || 'bridge';
  if (driver !== 'bridge') {
    if (driver === 'host' || driver === 'null') throw new Forbidden(`only one instance of "${driver}" network is allowed`);
    throw new NotFound(`plugin "${driver}" not found`);
  }
  if (req.EnableIPv6 === true) throw new InvalidArgument('IPv6 networks are not supported by Peti');
  const ipamDriver = req.IPAM?.Driver || 'default';
  if (ipamDriver !== 'default') throw new NotFound(`plugin "${ipamDriver}" not found`);
  const taken = subnetsOf(existing.filter((n) => n.driver === 'bridge'));
  const cfgs = (req.IPAM?.Config ?? []).filter((c) => c && (c.Subnet || c.Gateway || c.IPRange));
  if (cfgs.length > 1) throw new InvalidArgument('only one IPv4 IPAM config is supported');
  const given = cfgs[0];
  let ipam: IpamConfig;
  if (given && given.Subnet) {
    const s = parseCidr(given.Subnet);
    if (s.prefix > 30) throw new InvalidArgument(`subnet ${given.Subnet} is too small`);
    if (taken.some((t) => overlaps(t, s))) throw new Forbidden('Pool overlaps with other one on this address space');
    if (given.IPRange) {
      const r = parseCidr(given.IPRange);
      if (!contains(s, r.base) || r.prefix < s.prefix) throw new InvalidArgument(`ip-range ${given.IPRange} is not within subnet ${given.Subnet}`);
    }
    const gw = given.Gateway || defaultGateway(given.Subnet);
    if (!contains(s, ipToInt(gw))) throw new InvalidArgument(`gateway ${gw} is not within subnet ${given.Subnet}`);
    ipam = { Subnet: formatCidr(s), Gateway: gw, ...(given.IPRange ? { IPRange: given.IPRange } : {}) };
  } else {
    if (given) throw new InvalidArgument('a gateway or ip-range needs a subnet');
    const subnet = pickSubnet([...taken, ...hostRoutes()]);
    ipam = { Subnet: subnet, Gateway: defaultGateway(subnet) };
  }
  const id = randomBytes(32).toString('hex');
  const options = { ...(req.Options ?? {}) };
  const bridge = options[BRIDGE_NAME_OPTION] || `pt-${id.slice(0, 12)}`;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/.test(bridge)) throw new InvalidArgument(`invalid bridge name ${JSON.stringify(bridge)}: at most 15 characters of [a-zA-Z0-9_.-]`);
  if (existing.some((n) => n.bridge === bridge)) throw new Forbidden(`bridge name ${bridge} is already used by another network`);
  return {
    id, name, created: new Date().toISOString(), driver: 'bridge', bridge, ipam: [ipam], internal: req.Internal === true,
    attachable: req.Attachable === true, labels: { ...(req.Labels ?? {}) }, options, predefined: false, endpoints: {}, cursor: 0,
  };
}

/** The predefined `bridge` network for `--bridge`/`--bip` (`10.99.0.1/16`: the gateway and the subnet in one). */
export function defaultBridgeIpam(bip: string): IpamConfig {
  const c = parseCidr(bip, true);
  if (c.ip === c.base) throw new InvalidArgument(`--bip ${bip}: give the gateway address with the prefix, e.g. 10.99.0.1/16`);
  return { Subnet: formatCidr(c), Gateway: intToIp(c.ip) };
}

/** Docker's network list filters: name (substring), id (prefix), label, driver, type (custom|builtin), dangling. */
export function matchNetwork(n: NetworkRecord, filters: Record<string, string[]>): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    const ok = values.some((v) => {
      switch (key) {
        case 'name': return n.name.includes(v);
        case 'id': return n.id.startsWith(v);
        case 'driver': return n.driver === v;
        case 'type': return v === 'builtin' ? n.predefined : v === 'custom' ? !n.predefined : false;
        case 'dangling': return (v === 'true' || v === '1') === (Object.keys(n.endpoints).length === 0);
        case 'label': {
          const i = v.indexOf('=');
          return i < 0 ? v in n.labels : n.labels[v.slice(0, i)] === v.slice(i + 1);
        }
        case 'label!': {
          const i = v.indexOf('=');
          return i < 0 ? !(v in n.labels) : n.labels[v.slice(0, i)] !== v.slice(i + 1);
        }
        case 'until': return Date.parse(n.created) < untilMs(v);
        case 'scope': return v === 'local';
        default: throw new InvalidArgument(`invalid filter '${key}'`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

function untilMs(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(\d+)(s|m|h)$/.exec(v);
  if (d) return Date.now() - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[d[2] as 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid until filter ${v}`);
  return t;
}
