import type { NetworkRecord } from '../../engine/network/index.js';
import { parseCidr } from '../../engine/network/index.js';

/** Docker's network JSON (`GET /networks/{id}`; the list has the same shape with an empty Containers). */
export function networkJson(n: NetworkRecord, withContainers: boolean): Record<string, unknown> {
  const prefix = n.ipam[0] ? parseCidr(n.ipam[0].Subnet).prefix : 0;
  const containers: Record<string, unknown> = {};
  if (withContainers) {
    for (const e of Object.values(n.endpoints)) {
      if (e.pool) continue;
      containers[e.containerId] = { Name: e.name, EndpointID: e.endpointId, MacAddress: e.mac, IPv4Address: `${e.ip}/${prefix}`, IPv6Address: '' };
    }
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: n.predefined ? null : {}, Config: n.ipam.map((c) => ({ ...c })) },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.options,
    Labels: n.labels,
  };
}
