export { NetworkService, type NetworkServiceOptions, type Attachment } from './service.js';
export { portRequests, type PortRequest } from './ports.js';
export { hostResolvers } from './dns.js';
export { parseCidr } from './cidr.js';
export type { CreateNetworkRequest, ContainerNetworkState, EndpointRecord, EndpointRequest, NetworkRecord, NetworkView, PortMapping, Proto, IpamConfig } from './types.js';
