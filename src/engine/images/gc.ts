import { type Digest, chainIds } from '../../lib/digest.js';
import type { ImageRecord } from './types.js';

export interface GcRoots {
  images: readonly ImageRecord[];
  /** Snapshot keys other services need (a container's image chain). */
  pinnedSnapshots: readonly string[];
  /** Blobs an operation in flight has written but not yet recorded. */
  leased: readonly Digest[];
}

export interface LiveSet {
  blobs: Set<string>;
  snapshots: Set<string>;
}

/** The mark step of GC: everything reachable from the roots. Pure, unit-tested. */
export function markLive(roots: GcRoots): LiveSet {
  const blobs = new Set<string>(roots.leased);
  const snapshots = new Set<string>(roots.pinnedSnapshots);
  for (const img of roots.images) {
    blobs.add(img.id);
    blobs.add(img.manifest);
    for (const l of img.layers) blobs.add(l.digest);
    for (const c of chainIds(img.diffIds)) snapshots.add(c);
  }
  return { blobs, snapshots };
}
