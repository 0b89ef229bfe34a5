import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { Conflict, InvalidArgument } from '../../lib/errors.js';
import type { PortMapping, Proto } from './types.js';

/** One entry of HostConfig.PortBindings before the host port is chosen ('' = any, 'a-b' = one of a range). */
export interface PortRequest {
  containerPort: number;
  proto: Proto;
  hostIp: string;
  hostPort: string;
}

function parseKey(key: string): { port: number; proto: Proto } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new InvalidArgument(`invalid port specification: "${key}"`);
  return { port: Number(m[1]), proto: (m[2] ?? 'tcp') as Proto };
}

/** HostConfig.PortBindings (+ PublishAllPorts over Config.ExposedPorts), validated, in a stable order. */
export function portRequests(bindings: unknown, publishAll: boolean, exposed: Record<string, unknown> | undefined): PortRequest[] {
  const out: PortRequest[] = [];
  const bound = new Set<string>();
  for (const [key, list] of Object.entries((bindings ?? {}) as Record<string, unknown>)) {
    const { port, proto } = parseKey(key);
    const items = Array.isArray(list) ? (list as { HostIp?: string; HostPort?: string }[]) : [];
    if (items.length === 0) continue;
    bound.add(`${port}/${proto}`);
    for (const b of items) {
      const hostIp = b.HostIp ?? '';
      if (hostIp !== '' && !isIPv4(hostIp)) throw new InvalidArgument(`invalid host IP ${JSON.stringify(hostIp)} for port ${key}: only IPv4 addresses can be published`);
      const hostPort = (b.HostPort ?? '').trim();
      if (hostPort !== '' && !/^\d{1,5}(-\d{1,5})?$/.test(hostPort)) throw new InvalidArgument(`invalid host port ${JSON.stringify(hostPort)} for port ${key}`);
      out.push({ containerPort: port, proto, hostIp: hostIp === '' ? '0.0.0.0' : hostIp, hostPort });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { port, proto } = parseKey(key);
      if (!bound.has(`${port}/${proto}`)) out.push({ containerPort: port, proto, hostIp: '0.0.0.0', hostPort: '' });
    }
  }
  return out;
}

/** Ports bound on the host right now, per protocol (listening TCP sockets, bound UDP ones), with their address. */
export function hostPortsInUse(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  const files: [string, Proto, boolean][] = [['tcp', 'tcp', false], ['tcp6', 'tcp', true], ['udp', 'udp', false], ['udp6', 'udp', true]];
  for (const [file, proto, v6] of files) {
    let text = '';
    try {
      text = readFileSync(`/proc/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      // TCP: only listeners (state 0A) hold a port; UDP: every bound socket does.
      if (proto === 'tcp' && f[3] !== '0A') continue;
      const [addrHex, portHex] = f[1]!.split(':') as [string, string];
      const port = parseInt(portHex, 16);
      let addr = '0.0.0.0';
      if (!v6) addr = [3, 2, 1, 0].map((i) => parseInt(addrHex.slice(i * 2, i * 2 + 2), 16)).join('.');
      else if (!/^0+$/.test(addrHex)) addr = addrHex.endsWith('0100007F') || addrHex === '00000000000000000000000001000000' ? '127.0.0.1' : 'v6';
      const k = `${port}/${proto}`;
      used.set(k, [...(used.get(k) ?? []), addr]);
    }
  }
  return used;
}

const overlap = (a: string, b: string): boolean => a === '0.0.0.0' || b === '0.0.0.0' || a === b;

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch {
    // Docker's fallback range
  }
  return [49153, 65535];
}

/**
 * Choose the host ports: fixed ones must be free of Peti's other mappings (`taken`) and of host sockets; '' picks a
 * free port of the kernel's ephemeral range; 'a-b' the first free one in it. Throws Conflict with Docker's wording.
 */
export function resolvePorts(reqs: PortRequest[], taken: PortMapping[], containerIp: string): PortMapping[] {
  const host = hostPortsInUse();
  const chosen: PortMapping[] = [];
  const busy = (proto: Proto, port: number, ip: string): 'peti' | 'host' | undefined => {
    if ([...taken, ...chosen].some((m) => m.proto === proto && m.hostPort === port && overlap(m.hostIp, ip))) return 'peti';
    if ((host.get(`${port}/${proto}`) ?? []).some((a) => a === 'v6' ? false : overlap(a, ip))) return 'host';
    return undefined;
  };
  for (const r of reqs) {
    let port: number | undefined;
    if (/^\d+$/.test(r.hostPort)) {
      port = Number(r.hostPort);
      if (port < 1 || port > 65535) throw new InvalidArgument(`invalid host port ${r.hostPort}`);
      const why = busy(r.proto, port, r.hostIp);
      if (why === 'peti') throw new Conflict(`Bind for ${r.hostIp}:${port} failed: port is already allocated`);
      if (why === 'host') {
        throw new Conflict(`failed to bind host port for ${r.hostIp}:${port}:${containerIp}:${r.containerPort}/${r.proto}: address already in use`);
      }
    } else {
      const [lo, hi] = r.hostPort ? (r.hostPort.split('-').map(Number) as [number, number]) : ephemeralRange();
      const n = hi - lo + 1;
      const start = r.hostPort ? 0 : Math.floor(Math.random() * n);
      for (let i = 0; i < n && port === undefined; i++) {
        const p = lo + ((start + i) % n);
        if (!busy(r.proto, p, r.hostIp)) port = p;
      }
      if (port === undefined) throw new Conflict(`Bind for ${r.hostIp}:${r.hostPort || `${lo}-${hi}`} failed: port is already allocated`);
    }
    chosen.push({ containerPort: r.containerPort, proto: r.proto, hostIp: r.hostIp, hostPort: port });
  }
  return chosen;
}
