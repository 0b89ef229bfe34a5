import type { Digest } from '../../lib/digest.js';
import type { Compression } from '../../lib/oci/types.js';

/** Mount data as containerd describes it; one small module (mount.ts) performs it. */
export interface Mount {
  type: string;
  source: string;
  options: string[];
}

export type SnapshotKind = 'committed' | 'active' | 'view';

export interface SnapshotInfo {
  key: string;
  parent?: string;
  kind: SnapshotKind;
  created: string;
  labels: Record<string, string>;
}

export interface Usage {
  size: number;
  inodes: number;
}

/**
 * An overlayfs snapshotter with containerd's shape. Keys are caller-chosen strings (committed layers use their
 * chain ID, active snapshots the container or build step ID).
 */
export interface Snapshotter {
  /** Info about a snapshot. Throws NotFound when absent. */
  stat(key: string): Promise<SnapshotInfo>;
  /** Disk usage of the snapshot's own directory (not its parents). Throws NotFound. */
  usage(key: string): Promise<Usage>;
  /** Mounts that expose the snapshot (read-write for active, read-only for committed/view). Throws NotFound. */
  mounts(key: string): Promise<Mount[]>;
  /** New active (writable) snapshot on top of committed `parent`. AlreadyExists if key is taken, NotFound for a missing parent. */
  prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]>;
  /** New read-only view of committed `parent`. */
  view(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]>;
  /** Turn active snapshot `key` into committed `name`. AlreadyExists if name is taken; NotFound for key. */
  commit(name: string, key: string, labels?: Record<string, string>): Promise<void>;
  /** Remove a snapshot and its data. Conflict if it has children; NotFound if absent. */
  remove(key: string): Promise<void>;
  /** Every snapshot, in no particular order. */
  walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void>;
  /** Host directory holding the snapshot's writable (active) or committed content: where a layer is applied. */
  upperDir(key: string): Promise<string>;
}

export interface ApplyLimits {
  /** Most entries one archive may hold (default 1_000_000). */
  maxEntries?: number;
  /** Most uncompressed bytes one archive may hold (default 64 GiB). */
  maxBytes?: number;
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar stream (the layer's diff ID). */
  diffId: Digest;
  /** Uncompressed size in bytes. */
  size: number;
  entries: number;
}

export interface ApplyOptions extends ApplyLimits {
  /** 'auto' sniffs gzip/zstd magic bytes. Default 'auto'. */
  compression?: Compression | 'auto';
  /** Convert OCI whiteouts (.wh.*) into overlayfs form (default true). */
  whiteouts?: boolean;
}
