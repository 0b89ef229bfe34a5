export type { AuthConfig, DistProgress, DistProgressFn, LoginResult, PullOptions, PullResult, PushOptions, RegistryClient } from './types.js';
export { Distribution } from './service.js';
export type { DistributionDeps } from './service.js';
export { parseInsecureRegistries, endpointFor, canonicalDomain } from './hosts.js';
export { parseChallenges } from './session.js';
