import { Conflict, InvalidArgument, Unavailable } from '../../lib/errors.js';
import { contains, intToIp, ipToInt, parseCidr, size } from './cidr.js';
import type { NetworkRecord } from './types.js';

/**
 * Pick an address for a new endpoint: the requested one if free, else the next free one after the network's
 * cursor (Docker's order: freed addresses come back only after a wrap, so a restarted peer does not inherit a
 * just-removed container's address). Pure over the record: the caller persists the record with the new endpoint.
 */
export function allocate(net: NetworkRecord, requested?: string): string {
  const cfg = net.ipam[0];
  if (!cfg) throw new InvalidArgument(`network ${net.name} has no IPv4 address pool`);
  const subnet = parseCidr(cfg.Subnet);
  const gateway = ipToInt(cfg.Gateway);
  const used = new Set(Object.values(net.endpoints).map((e) => ipToInt(e.ip)));
  const first = subnet.base;
  const last = subnet.base + size(subnet) - 1;
  const usable = (n: number): boolean => n !== gateway && (subnet.prefix >= 31 || (n !== first && n !== last)) && !used.has(n);
  if (requested) {
    const n = ipToInt(requested);
    if (!contains(subnet, n)) throw new InvalidArgument(`no configured subnet or ip-range contain the IP address ${requested}`);
    if (n === gateway || used.has(n)) throw new Conflict('Address already in use');
    if (!usable(n)) throw new InvalidArgument(`invalid address ${requested}: it is the network or broadcast address of ${cfg.Subnet}`);
    return requested;
  }
  const range = cfg.IPRange ? parseCidr(cfg.IPRange) : subnet;
  const lo = range.base;
  const count = size(range);
  const start = net.cursor >= lo && net.cursor < lo + count ? net.cursor - lo : 0;
  for (let i = 0; i < count; i++) {
    const n = lo + ((start + i) % count);
    if (usable(n)) {
      net.cursor = n + 1;
      return intToIp(n);
    }
  }
  throw new Unavailable(`no available IPv4 addresses on this network's address pools: ${net.name} (${net.id})`);
}

/** Docker's default gateway: the first address of the subnet (or of the IP range when one is given). */
export function defaultGateway(subnet: string, ipRange?: string): string {
  const s = parseCidr(ipRange ?? subnet);
  return intToIp(s.base + 1);
}
