import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, readdir, readFile, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { TarWriter, type TarWriteHeader } from '../../lib/tar/index.js';
import { OverlaySnapshotter, applyLayer, isMounted, mountAll, unmount } from './index.js';

// The conformance suite (test/suites/snapshotter.suite.ts) runs from test/suites/overlay.test.ts: scripts/lint.mjs
// forbids files under src/ to import from test/.

async function tarStream(entries: Array<[TarWriteHeader, Buffer?]>): Promise<Readable> {
  const w = new TarWriter();
  void (async (): Promise<void> => {
    for (const [h, b] of entries) await w.add(h, b);
    await w.finalize();
  })().catch((e: Error) => w.destroy(e));
  return w.stream;
}

describe('OverlaySnapshotter on disk', () => {
  let root = '';
  before(async () => { root = await mkdtemp(join(tmpdir(), 'peti-snap-')); });
  after(async () => { await rm(root, { recursive: true, force: true }); });

  it('keeps its records across instances and removes orphaned directories', async () => {
    const a = new OverlaySnapshotter({ root: join(root, 'p') });
    await a.prepare('x');
    await a.commit('y', 'x', { k: 'v' });
    await mkdir(join(root, 'p', '999', 'fs'), { recursive: true }); // as a crash between mkdir and the record would
    const b = new OverlaySnapshotter({ root: join(root, 'p') });
    assert.deepEqual((await b.stat('y')).labels, { k: 'v' });
    assert.ok(!(await readdir(join(root, 'p'))).includes('999'));
  });

  it('mounts a real 3-layer overlay with a whiteout and an opaque directory', async () => {
    const sn = new OverlaySnapshotter({ root: join(root, 'o') });
    const apply = async (key: string, parent: string | undefined, entries: Array<[TarWriteHeader, Buffer?]>): Promise<void> => {
      await sn.prepare(`x-${key}`, parent);
      await applyLayer(await tarStream(entries), await sn.upperDir(`x-${key}`));
      await sn.commit(key, `x-${key}`);
    };
    await apply('l1', undefined, [
      [{ name: 'etc/', type: 'dir' }],
      [{ name: 'etc/old', type: 'file', size: 3 }, Buffer.from('old')],
      [{ name: 'etc/keep', type: 'file', size: 4 }, Buffer.from('keep')],
      [{ name: 'cache/', type: 'dir' }],
      [{ name: 'cache/a', type: 'file', size: 1 }, Buffer.from('a')],
      [{ name: 'cache/sub/b', type: 'file', size: 1 }, Buffer.from('b')],
    ]);
    await apply('l2', 'l1', [
      [{ name: 'etc/.wh.old', type: 'file', size: 0 }],
      [{ name: 'cache/', type: 'dir' }],
      [{ name: 'cache/.wh..wh..opq', type: 'file', size: 0 }],
      [{ name: 'cache/fresh', type: 'file', size: 5 }, Buffer.from('fresh')],
    ]);
    await apply('l3', 'l2', [[{ name: 'bin/tool', type: 'file', size: 4, mode: 0o755 }, Buffer.from('tool')]]);

    const mounts = await sn.prepare('ctr', 'l3');
    const target = join(root, 'merged');
    await mkdir(target);
    try {
      await mountAll(mounts, target);
      assert.ok(await isMounted(target));
      assert.deepEqual((await readdir(join(target, 'etc'))).sort(), ['keep']);
      assert.deepEqual((await readdir(join(target, 'cache'))).sort(), ['fresh']);
      assert.equal(await readFile(join(target, 'bin/tool'), 'utf8'), 'tool');
      await writeFile(join(target, 'etc/new'), 'n');
      assert.equal(await readFile(join(await sn.upperDir('ctr'), 'etc/new'), 'utf8'), 'n');
    } finally {
      await unmount(target);
    }
    assert.ok(!(await isMounted(target)));

    // a read-only view of the chain and a read-only bind of one layer
    for (const [key, parent] of [['v3', 'l3'], ['v1', 'l1']] as const) {
      const vt = join(root, key);
      await mkdir(vt);
      try {
        await mountAll(await sn.view(key, parent), vt);
        await assert.rejects(writeFile(join(vt, 'x'), 'x'), /EROFS/);
        assert.ok((await lstat(join(vt, 'etc/keep'))).isFile());
      } finally {
        await unmount(vt);
      }
    }
  });
});
