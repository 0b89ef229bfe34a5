import type { ContainerRecord } from '../../engine/containers/index.js';

const running = (r: ContainerRecord): boolean => r.state.status === 'running' || r.state.status === 'paused';

/** NetworkSettings.Networks: each network's endpoint; addresses only while the container runs (as Docker). */
function networks(r: ContainerRecord, summary: boolean): Record<string, unknown> {
  const live = running(r);
  const out: Record<string, unknown> = {};
  for (const n of r.networkSettings?.networks ?? []) {
    const hasIp = live && n.ip !== '';
    out[n.name] = {
      IPAMConfig: n.requestedIp ? { IPv4Address: n.requestedIp } : null, Links: null, Aliases: n.aliases.length > 0 ? n.aliases : null,
      MacAddress: hasIp ? n.mac : '', DriverOpts: null, GwPriority: 0, NetworkID: n.networkId, EndpointID: hasIp ? n.endpointId : '',
      Gateway: hasIp ? n.gateway : '', IPAddress: hasIp ? n.ip : '', IPPrefixLen: hasIp ? n.prefixLen : 0, IPv6Gateway: '',
      GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, ...(summary ? {} : { DNSNames: n.dnsNames.length > 0 ? n.dnsNames : null }),
    };
  }
  return out;
}

/** NetworkSettings.Ports: published ports while running, and exposed ports without a binding as null. */
function ports(r: ContainerRecord): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  if (!running(r)) return out;
  for (const key of Object.keys(r.config.ExposedPorts ?? {})) out[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const m of r.networkSettings?.ports ?? []) {
    const key = `${m.containerPort}/${m.proto}`;
    out[key] = [...(out[key] ?? []), { HostIp: m.hostIp, HostPort: String(m.hostPort) }];
  }
  return out;
}

/** `GET /containers/json` Ports: one item per binding, and the exposed ports without one. */
export function summaryPorts(r: ContainerRecord): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const [key, binds] of Object.entries(ports(r))) {
    const [p, type] = key.split('/') as [string, string];
    if (!binds) out.push({ PrivatePort: Number(p), Type: type });
    else for (const b of binds) out.push({ IP: b.HostIp, PrivatePort: Number(p), PublicPort: Number(b.HostPort), Type: type });
  }
  return out;
}

export function summaryNetworkSettings(r: ContainerRecord): Record<string, unknown> {
  return { Networks: networks(r, true) };
}

/** Inspect's NetworkSettings; the legacy top-level address fields mirror the default `bridge` network. */
export function inspectNetworkSettings(r: ContainerRecord): Record<string, unknown> {
  const live = running(r);
  const def = live ? r.networkSettings?.networks.find((n) => n.name === 'bridge' && n.ip !== '') : undefined;
  const key = live ? r.networkSettings?.sandboxKey ?? '' : '';
  return {
    Bridge: '', SandboxID: key ? r.id : '', SandboxKey: key, Ports: ports(r), HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: def?.endpointId ?? '', Gateway: def?.gateway ?? '', GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0, IPAddress: def?.ip ?? '', IPPrefixLen: def?.prefixLen ?? 0, IPv6Gateway: '', MacAddress: def?.mac ?? '',
    Networks: networks(r, false),
  };
}
