import type { Digest } from '../../lib/digest.js';

/**
 * What a build reports as it goes: a typed union the API renders as Docker's classic JSON stream
 * (`{"stream":"Step 1/3 : FROM busybox\n"}`) and the CLI as a live display.
 */
export type BuildEvent =
  /** A step begins: `n` of `total`, with the instruction as written. */
  | { type: 'step'; n: number; total: number; text: string }
  /** The step's result came from the cache. */
  | { type: 'cached' }
  /** A RUN process starts, in a build container with this ID. */
  | { type: 'running'; container: string }
  /** Output of a RUN process (stdout and stderr merged, as the classic builder streams them). */
  | { type: 'output'; data: string }
  /** The RUN's build container is gone. */
  | { type: 'removed'; container: string }
  /** The step's result (the image ID of the step). */
  | { type: 'result'; id: Digest }
  /** Something the user should know (`[Warning] One or more build-args were not consumed`). */
  | { type: 'warning'; text: string }
  /** Pulling a base image. */
  | { type: 'status'; text: string }
  /** The final image. */
  | { type: 'built'; id: Digest }
  | { type: 'tagged'; reference: string };

export type BuildEventFn = (e: BuildEvent) => void;

export interface BuildOptions {
  /** Full references to tag the result with. */
  tags: string[];
  /** Path of the Dockerfile inside the context (default `Dockerfile`). */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  pull?: boolean;
  network?: string;
  platform?: string;
  signal?: AbortSignal;
}

export interface BuildResult {
  id: Digest;
  tags: string[];
}
