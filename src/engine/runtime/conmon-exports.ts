// The conmon-based runtime and host preparation, for the runtime folder's index.ts to re-export.
export { ConmonRuntime, parseK8sLogLine, parseRuntimeState, signalNumber, waitExitFile } from './conmon.js';
export type { ConmonRuntimeOptions, K8sLogLine } from './conmon.js';
export { hostRlimits, joinCgroup, parseLimits, prepareCgroup, prepareHost } from './host.js';
export type { HostInfo } from './host.js';
