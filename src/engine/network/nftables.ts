import type { PortMapping } from './types.js';
import { nft } from './exec.js';

/** One of Peti's bridges as the firewall sees it. */
export interface BridgeRules {
  name: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  /** The embedded DNS listens on the gateway: only this bridge (and the host) may ask it. */
  dns: boolean;
}

export interface PortRule {
  containerIp: string;
  mapping: PortMapping;
}

const q = (s: string): string => JSON.stringify(s);

/**
 * The whole of Peti's table as one nft script that replaces the old table atomically (declare, delete, redeclare in
 * one transaction): a petid restart or any change rebuilds it from records, so no stale rule survives. Nothing
 * outside `table ip <name>` is touched (Docker's and the host's own tables stay as they are).
 */
export function renderRuleset(table: string, bridges: BridgeRules[], ports: PortRule[]): string {
  const L: string[] = [`table ip ${table}`, `delete table ip ${table}`, `table ip ${table} {`];
  L.push('  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;', '    fib daddr type local jump ports', '  }');
  // Connections from the host itself (127.0.0.1 and its own addresses) to a published port.
  L.push('  chain output {', '    type nat hook output priority -100; policy accept;', '    fib daddr type local jump ports', '  }');
  L.push('  chain ports {');
  for (const { containerIp, mapping: m } of ports) {
    const dst = m.hostIp && m.hostIp !== '0.0.0.0' ? `ip daddr ${m.hostIp} ` : '';
    L.push(`    ${dst}${m.proto} dport ${m.hostPort} dnat to ${containerIp}:${m.containerPort}`);
  }
  L.push('  }');
  L.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;');
  for (const b of bridges) {
    // 127.0.0.1 is no source on a bridge (route_localnet lets it leave; the reply must come back to the gateway).
    L.push(`    oifname ${q(b.name)} ip saddr 127.0.0.0/8 masquerade`);
    // Hairpin: a container reaching a published port of its own bridge must see the reply come back through the host.
    L.push(`    oifname ${q(b.name)} ip saddr ${b.subnet} ct status dnat masquerade`);
    if (!b.internal) L.push(`    ip saddr ${b.subnet} oifname != ${q(b.name)} masquerade`);
  }
  L.push('  }');
  L.push('  chain forward {', '    type filter hook forward priority filter; policy accept;');
  for (const b of bridges.filter((x) => x.internal)) {
    L.push(`    iifname ${q(b.name)} oifname != ${q(b.name)} drop`, `    oifname ${q(b.name)} iifname != ${q(b.name)} drop`);
  }
  // Published ports are reachable from every network, as through the host.
  L.push('    ct status dnat accept');
  for (const a of bridges) {
    for (const b of bridges) if (a !== b) L.push(`    iifname ${q(a.name)} oifname ${q(b.name)} drop`);
  }
  L.push('  }');
  L.push('  chain input {', '    type filter hook input priority filter; policy accept;');
  for (const b of bridges.filter((x) => x.dns)) {
    L.push(`    ip daddr ${b.gateway} meta l4proto { tcp, udp } th dport 53 iifname != { ${q(b.name)}, "lo" } drop`);
  }
  L.push('  }', '}');
  return L.join('\n') + '\n';
}

export async function applyRuleset(table: string, bridges: BridgeRules[], ports: PortRule[]): Promise<void> {
  await nft(renderRuleset(table, bridges, ports));
}

/** Remove Peti's table (petid --cleanup, tests). */
export async function deleteTable(table: string): Promise<void> {
  await nft(`table ip ${table}\ndelete table ip ${table}\n`);
}
