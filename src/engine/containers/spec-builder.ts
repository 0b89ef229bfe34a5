import type { OciSpec } from '../runtime/types.js';
import type { ContainerRecord } from './types.js';

/** Turns a container record into its OCI spec (the runtime's buildSpec, with host facts bound in engine.ts). */
export interface SpecBuilder {
  /** Throws InvalidArgument for a create body Peti cannot honour. */
  build(rec: ContainerRecord, rootfs: string): Promise<{ spec: OciSpec; warnings: string[] }>;
}
