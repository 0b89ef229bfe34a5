/** One container's attachment to one network: its address and names, persisted with the network (IPAM state). */
export interface EndpointRecord {
  containerId: string;
  /** The container's name (without slash), a DNS name on user networks. */
  name: string;
  endpointId: string;
  ip: string;
  mac: string;
  /** `--network-alias`, answered by the embedded DNS. */
  aliases: string[];
  /** The address asked for with `--ip` (IPAMConfig.IPv4Address), kept for inspect. */
  requestedIp?: string;
  /** Interface name inside the container (eth0, eth1, ...). */
  ifname: string;
  /** Host side of the veth pair. */
  hostIf: string;
  /**
   * A sandbox made ahead on the default bridge, whose ID a container create has not taken yet (its address is
   * reserved like any other). Not a container: inspect and the DNS do not show it.
   */
  pool?: true;
}

export interface IpamConfig {
  Subnet: string;
  Gateway: string;
  IPRange?: string;
}

export interface NetworkRecord {
  id: string;
  name: string;
  created: string;
  /** bridge, host or null (the predefined `host` and `none` networks). */
  driver: 'bridge' | 'host' | 'null';
  /** Linux bridge name ('' for host/null). */
  bridge: string;
  ipam: IpamConfig[];
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** The predefined networks (bridge, host, none): never removed, no embedded DNS on `bridge`. */
  predefined: boolean;
  endpoints: Record<string, EndpointRecord>;
  /** Next address IPAM tries: addresses are handed out in order and a freed one is reused only after a wrap. */
  cursor: number;
}

export interface CreateNetworkRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
  IPAM?: { Driver?: string; Config?: Partial<IpamConfig>[] | null; Options?: Record<string, string> | null } | null;
  CheckDuplicate?: boolean;
}

export type Proto = 'tcp' | 'udp' | 'sctp';

/** A published port as it is while the container runs (the host port resolved). */
export interface PortMapping {
  containerPort: number;
  proto: Proto;
  hostIp: string;
  hostPort: number;
}

/** What a container asks of one network at attach time. */
export interface EndpointRequest {
  aliases?: string[];
  ip?: string;
  /** `--mac-address` (EndpointSettings.MacAddress): used instead of the one derived from the address. */
  mac?: string;
}

/** The container side a sandbox is built for. */
export interface SandboxRequest {
  containerId: string;
  /** Networks in attach order: the first one's gateway is the default route. */
  networks: string[];
  ports: PortMapping[];
}

/** One network of a container as inspect shows it (NetworkSettings.Networks[name]). */
export interface NetworkView {
  name: string;
  networkId: string;
  endpointId: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  aliases: string[];
  dnsNames: string[];
  requestedIp?: string;
}

/** A container's networking, kept on its record: networks, ports published while it runs, namespace path. */
export interface ContainerNetworkState {
  networks: NetworkView[];
  ports: PortMapping[];
  sandboxKey: string;
}
