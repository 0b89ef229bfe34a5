import { existsSync, promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../lib/log.js';
import { ipBatch } from './exec.js';

const sysctl = (path: string): string => `/proc/sys/net/${path}`;

/**
 * Make sure the Linux bridge exists, is up and holds the gateway address (idempotent: petid start, network create).
 * route_localnet lets connections to 127.0.0.1:<published port> be DNATed out of this bridge (kernel NAT instead of
 * a userland proxy: no copy through petid, no process per port).
 */
export async function ensureBridge(name: string, gatewayCidr: string): Promise<void> {
  const lines: string[] = [];
  if (!existsSync(`/sys/class/net/${name}`)) {
    // A fixed MAC: a bridge otherwise takes the lowest of its ports' and changes it as containers come and go.
    const mac = `02:${[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
    lines.push(`link add ${name} address ${mac} type bridge`);
  }
  lines.push(`addr replace ${gatewayCidr} dev ${name}`, `link set ${name} up`);
  await ipBatch(lines);
  await fsp.writeFile(sysctl(`ipv4/conf/${name}/route_localnet`), '1');
}

export async function deleteBridge(name: string): Promise<void> {
  if (existsSync(`/sys/class/net/${name}`)) await ipBatch([`link del ${name}`], true);
}

/** Containers' traffic is routed through the host: turn forwarding on, once, and say so. */
export async function enableForwarding(log: Logger): Promise<void> {
  const p = sysctl('ipv4/ip_forward');
  const cur = (await fsp.readFile(p, 'utf8').catch(() => '1')).trim();
  if (cur !== '1') {
    await fsp.writeFile(p, '1');
    log.info('enabled net.ipv4.ip_forward (containers on bridge networks are routed through the host)');
  }
}

/** Host-side veth interfaces enslaved to `bridge` now. */
export async function bridgePorts(bridge: string): Promise<string[]> {
  return fsp.readdir(`/sys/class/net/${bridge}/brif`).catch(() => []);
}
