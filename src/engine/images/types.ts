import type { Readable } from 'node:stream';
import type { Digest } from '../../lib/digest.js';
import type { Descriptor, ImageConfig } from '../../lib/oci/types.js';

/** One local image: its config (the ID), the manifest we keep for save/push, and its layers. */
export interface ImageRecord {
  /** Digest of the config JSON: Docker's image ID. */
  id: Digest;
  manifest: Digest;
  manifestMediaType: string;
  layers: Descriptor[];
  diffIds: Digest[];
  /** Sum of the uncompressed layer sizes. */
  size: number;
  /** `docker.io/library/busybox@sha256:...` for images pulled or pushed by digest. */
  repoDigests: string[];
  /** Image this one was built on (builder/commit only). */
  parent?: Digest;
  /** RFC 3339 creation time from the config (or when stored, if the config has none). */
  created: string;
  lastTagTime?: string;
}

/** A record with its parsed config and current tags (full references). */
export interface Image extends ImageRecord {
  config: ImageConfig;
  repoTags: string[];
}

export interface ListOptions {
  all?: boolean;
  filters?: Record<string, string[]>;
}

export interface RemoveOptions {
  force?: boolean;
  noPrune?: boolean;
}

export interface RemoveResult {
  untagged: string[];
  deleted: Digest[];
}

export interface ImportOptions {
  /** Full reference to tag the new image with. */
  reference?: string;
  /** Dockerfile-style lines: `CMD ["sh"]`, `ENV A=1`, ... */
  changes?: string[];
  message?: string;
  platform?: string;
}

/** A progress message from a long operation; the API renders it as Docker JSON, the CLI as text. */
export interface Progress {
  status?: string;
  stream?: string;
  id?: string;
  current?: number;
  total?: number;
}

export type ProgressFn = (p: Progress) => void;

export interface LoadResult {
  /** Familiar references and IDs loaded, in archive order, for `Loaded image: x` lines. */
  loaded: { reference?: string; id: Digest }[];
}

/** Lets other services (containers) pin images and their layers against removal and GC. */
export interface ImageUsers {
  /** IDs of containers using image `id` (for rmi's conflict message). */
  containersUsing(id: Digest): string[];
  /** Snapshot keys (chain IDs) other services still need. */
  pinnedSnapshots(): string[];
}

export interface ImageService {
  /** Resolve a reference, full ID or short ID; throws NotFound `No such image: X`. */
  get(nameOrId: string): Promise<Image>;
  list(opts?: ListOptions): Promise<Image[]>;
  history(nameOrId: string): Promise<{ id: string; created: string; createdBy: string; size: number; comment: string; tags: string[] }[]>;
  tag(source: string, target: string): Promise<void>;
  remove(nameOrId: string, opts?: RemoveOptions): Promise<RemoveResult>;
  import(src: Readable, opts: ImportOptions, progress?: ProgressFn): Promise<Digest>;
  save(names: string[]): Promise<Readable>;
  load(src: Readable, progress?: ProgressFn): Promise<LoadResult>;
  prune(opts: { all?: boolean; filters?: Record<string, string[]> }): Promise<{ deleted: RemoveResult; reclaimed: number }>;
}
