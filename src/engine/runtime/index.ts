export type {
  AttachStreams, ContainerRuntime, ExecHandle, ExecOptions, OciMount, OciProcess, OciSeccomp, OciSpec, RuntimeCreateOptions, RuntimeState,
} from './types.js';
export * from './spec-exports.js';
export * from './conmon-exports.js';
