import { isIPv4 } from 'node:net';
import { InvalidArgument } from '../../lib/errors.js';

/** An IPv4 subnet as numbers: `base` is the network address, `prefix` the mask length. */
export interface Subnet {
  base: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  if (!isIPv4(ip)) throw new InvalidArgument(`invalid IPv4 address: ${ip}`);
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** `10.88.0.0/16` (host bits must be zero unless `loose`, which keeps the address too: `10.88.0.1/16`). */
export function parseCidr(s: string, loose = false): Subnet & { ip: number } {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || Number(m[2]) > 32) throw new InvalidArgument(`invalid CIDR address: ${s}`);
  const ip = ipToInt(m[1]!);
  const prefix = Number(m[2]);
  const base = (ip & mask(prefix)) >>> 0;
  if (!loose && base !== ip) throw new InvalidArgument(`invalid subnet ${s}: it should be ${intToIp(base)}/${prefix}`);
  return { base, prefix, ip };
}

export function formatCidr(s: Subnet): string {
  return `${intToIp(s.base)}/${s.prefix}`;
}

export function size(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

export function contains(s: Subnet, ip: number): boolean {
  return ((ip & mask(s.prefix)) >>> 0) === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return contains(a, b.base) || contains(b, a.base);
}

/** The MAC Docker derives from an IPv4 address: 02:42 and the four address bytes. */
export function macFor(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
