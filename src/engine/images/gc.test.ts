import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainIds, sha256 } from '../../lib/digest.js';
import { markLive } from './gc.js';
import type { ImageRecord } from './types.js';

const d = (s: string): `sha256:${string}` => sha256(s);

function img(name: string, diffs: string[]): ImageRecord {
  return {
    id: d(`cfg-${name}`), manifest: d(`man-${name}`), manifestMediaType: 'm',
    layers: diffs.map((x) => ({ mediaType: 'l', digest: d(`blob-${x}`), size: 1 })),
    diffIds: diffs.map((x) => d(x)), size: 0, repoDigests: [], created: '',
  };
}

test('markLive keeps shared layers and chains of every image', () => {
  const a = img('a', ['l1', 'l2']);
  const b = img('b', ['l1', 'l3']);
  const live = markLive({ images: [a, b], pinnedSnapshots: ['extra'], leased: [d('lease')] });
  for (const c of [...chainIds(a.diffIds), ...chainIds(b.diffIds), 'extra']) assert.ok(live.snapshots.has(c));
  for (const x of [a.id, a.manifest, b.id, d('blob-l1'), d('blob-l2'), d('blob-l3'), d('lease')]) assert.ok(live.blobs.has(x));
  assert.equal(live.snapshots.size, 4 + 1 - 1, 'l1 chain is shared');
  const onlyB = markLive({ images: [b], pinnedSnapshots: [], leased: [] });
  assert.ok(!onlyB.blobs.has(d('blob-l2')));
  assert.ok(!onlyB.snapshots.has(chainIds(a.diffIds)[1]!));
});
