export type {
  ApplyLimits, ApplyOptions, ApplyResult, Mount, SnapshotInfo, SnapshotKind, Snapshotter, Usage,
} from './types.js';
export { OverlaySnapshotter } from './overlay.js';
export type { OverlaySnapshotterOptions } from './overlay.js';
export { applyLayer, cleanPath } from './apply.js';
export { mountAll, unmount, isMounted } from './mount.js';
export { ApplyPool, applyFileInline } from './apply-pool.js';
export type { ApplyFileFn } from './apply-pool.js';
export { readGrowing, nextOf, waitState } from './growing.js';
export type { GrowState, GrowingFile } from './growing.js';
