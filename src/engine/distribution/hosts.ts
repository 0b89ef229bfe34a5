import { isIP } from 'node:net';
import { InvalidArgument } from '../../lib/errors.js';
import { DEFAULT_DOMAIN } from '../../lib/reference.js';

/** Where a registry named by a reference's domain is reached. */
export interface Endpoint {
  /** The reference's domain: `docker.io`, `127.0.0.1:5000`. Keys credentials and blob sources. */
  domain: string;
  /** host[:port] spoken to: `registry-1.docker.io` for Docker Hub, else the domain. */
  apiHost: string;
  /** Plain HTTP may be tried (loopback or `--insecure-registry`); TLS certificates are then not verified either. */
  insecure: boolean;
}

/** Split `host:port`, `[::1]:5000`, `::1` into host and port. */
export function splitHostPort(s: string): { host: string; port?: string } {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    const port = s.slice(end + 1).replace(/^:/, '');
    return { host: s.slice(1, end), ...(port ? { port } : {}) };
  }
  if (isIP(s) === 6) return { host: s };
  const i = s.lastIndexOf(':');
  return i >= 0 ? { host: s.slice(0, i), port: s.slice(i + 1) } : { host: s };
}

/** Docker treats 127.0.0.0/8, ::1 and localhost as insecure registries by default. */
export function isLoopback(domain: string): boolean {
  const { host } = splitHostPort(domain);
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Docker Hub's historical names all mean docker.io. */
export function canonicalDomain(s: string): string {
  let d = s.trim().replace(/^https?:\/\//, '').replace(/\/+$/, '').replace(/\/v[12]$/, '');
  if (d === 'index.docker.io' || d === 'registry-1.docker.io' || d === 'registry.hub.docker.com') d = DEFAULT_DOMAIN;
  return d;
}

/** Check `--insecure-registry` values: `host[:port]` or an IPv4 CIDR. */
export function parseInsecureRegistries(values: readonly string[]): string[] {
  return values.map((v) => {
    const d = canonicalDomain(v);
    if (!/^[A-Za-z0-9.\-:[\]/]+$/.test(d) || d === '') throw new InvalidArgument(`invalid --insecure-registry ${JSON.stringify(v)}: use HOST[:PORT] or CIDR`);
    return d;
  });
}

function inCidr(host: string, cidr: string): boolean {
  const [net, bitsStr] = cidr.split('/');
  if (!net || bitsStr === undefined || isIP(net) !== 4 || isIP(host) !== 4) return false;
  const bits = Number(bitsStr);
  const toInt = (ip: string): number => ip.split('.').reduce((a, b) => (a << 8) + Number(b), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(host) & mask) === (toInt(net) & mask);
}

export function endpointFor(domain: string, insecureRegistries: readonly string[]): Endpoint {
  const d = canonicalDomain(domain);
  if (d === DEFAULT_DOMAIN) return { domain: d, apiHost: 'registry-1.docker.io', insecure: insecureRegistries.includes(d) };
  const { host } = splitHostPort(d);
  const insecure = isLoopback(d) || insecureRegistries.some((r) => r === d || r === host || (r.includes('/') && inCidr(host, r)));
  return { domain: d, apiHost: d, insecure };
}
