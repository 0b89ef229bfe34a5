// Runs the snapshotter conformance suite against OverlaySnapshotter (kept here, not beside overlay.ts, because
// scripts/lint.mjs forbids src/ files to import from test/).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OverlaySnapshotter } from '../../src/engine/snapshots/index.js';
import { snapshotterSuite } from './snapshotter.suite.js';

snapshotterSuite('overlay', async () => {
  const root = await mkdtemp(join(tmpdir(), 'peti-snap-'));
  return { sn: new OverlaySnapshotter({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
});
