import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, type Digest } from '../lib/digest.js';
import { markReachable, type ManifestNode } from './gc.js';

const d = (s: string): Digest => sha256(s);

test('markReachable follows index children, configs and layers, and leaves the rest', () => {
  const graph = new Map<Digest, ManifestNode>([
    [d('index'), { blobs: [], manifests: [d('amd64'), d('arm64')] }],
    [d('amd64'), { blobs: [d('cfg1'), d('layerA'), d('shared')], manifests: [] }],
    [d('arm64'), { blobs: [d('cfg2'), d('layerB'), d('shared')], manifests: [] }],
    [d('orphan-manifest'), { blobs: [d('orphan-layer')], manifests: [] }],
  ]);
  const m = markReachable([d('index')], graph);
  assert.deepEqual(
    [...m].sort(),
    [d('index'), d('amd64'), d('arm64'), d('cfg1'), d('cfg2'), d('layerA'), d('layerB'), d('shared')].sort(),
  );
  assert.ok(!m.has(d('orphan-manifest')));
  assert.ok(!m.has(d('orphan-layer')));
});

test('markReachable keeps the referrers of a reachable subject, and their blobs', () => {
  const graph = new Map<Digest, ManifestNode>([
    [d('image'), { blobs: [d('cfg'), d('layer')], manifests: [] }],
    [d('sbom'), { blobs: [d('empty'), d('sbom-blob')], manifests: [], subject: d('image') }],
    [d('sig-of-sbom'), { blobs: [d('sig')], manifests: [], subject: d('sbom') }],
    [d('dangling-ref'), { blobs: [d('x')], manifests: [], subject: d('gone') }],
  ]);
  const m = markReachable([d('image')], graph);
  for (const k of ['image', 'cfg', 'layer', 'sbom', 'empty', 'sbom-blob', 'sig-of-sbom', 'sig']) assert.ok(m.has(d(k)), k);
  assert.ok(!m.has(d('dangling-ref')));
  assert.ok(!m.has(d('x')));
});

test('markReachable terminates on cycles and with unknown roots', () => {
  const graph = new Map<Digest, ManifestNode>([
    [d('a'), { blobs: [], manifests: [d('b')] }],
    [d('b'), { blobs: [], manifests: [d('a')] }],
  ]);
  assert.equal(markReachable([d('a'), d('nope')], graph).size, 3);
  assert.equal(markReachable([], graph).size, 0);
});
