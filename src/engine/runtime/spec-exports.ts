// The public surface of OCI spec generation, for runtime/index.ts to re-export (`export * from './spec-exports.js'`).
export {
  buildSpec, detectHostFacts, containerPath, mergeTmpfsOptions, DEFAULT_CAPS, ALL_CAPS, DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS, DEFAULT_PATH_ENV, DEFAULT_SHM_SIZE, DEFAULT_NOFILE, INIT_PATH_IN_CONTAINER,
  STOP_SIGNAL_ANNOTATION,
} from './spec.js';
export type {
  CreateConfig, HostConfig, SpecInput, SpecResult, HostFacts, DockerMount, DockerUlimit, DockerDeviceMapping,
  DockerThrottleDevice, DockerWeightDevice, DockerDeviceRequest,
} from './spec.js';
export { resolveUser, MAX_ACCOUNT_FILE_BYTES } from './user.js';
export type { ResolvedUser } from './user.js';
export {
  defaultSeccompProfile, loadSeccompProfile, convertDockerProfile, kernelAtLeast, DEFAULT_DOCKER_PROFILE,
} from './seccomp.js';
export type { DockerSeccompProfile, DockerSeccompRule, SeccompArg, SeccompFilter, SeccompHost } from './seccomp.js';
