/**
 * Conformance suite every Snapshotter implementation runs: `snapshotterSuite('overlay', factory)`.
 * The factory makes a fresh, empty snapshotter and a cleanup that removes everything it made.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mount, SnapshotInfo, Snapshotter } from '../../src/engine/snapshots/index.js';

export interface SnapshotterFixture {
  sn: Snapshotter;
  cleanup: () => Promise<void>;
}

const kindOf = (e: unknown): string | undefined => (e as { kind?: string }).kind;
const is = (kind: string) => (e: unknown): boolean => kindOf(e) === kind;

function opt(m: Mount, prefix: string): string | undefined {
  return m.options.find((o) => o.startsWith(prefix))?.slice(prefix.length);
}

export function snapshotterSuite(name: string, factory: () => Promise<SnapshotterFixture>): void {
  describe(`snapshotter conformance: ${name}`, () => {
    let fx: SnapshotterFixture;
    let sn: Snapshotter;
    beforeEach(async () => {
      fx = await factory();
      sn = fx.sn;
    });
    afterEach(async () => { await fx.cleanup(); });

    /** prepare + write a marker file + commit */
    async function layer(key: string, parent?: string): Promise<void> {
      await sn.prepare(`tmp-${key}`, parent);
      await writeFile(join(await sn.upperDir(`tmp-${key}`), key), key);
      await sn.commit(key, `tmp-${key}`);
    }

    it('prepare without parent: a read-write bind of an empty directory', async () => {
      const mounts = await sn.prepare('a', undefined, { l: 'v' });
      assert.equal(mounts.length, 1);
      assert.equal(mounts[0]!.type, 'bind');
      assert.ok(mounts[0]!.options.includes('rw'));
      const up = await sn.upperDir('a');
      assert.equal(mounts[0]!.source, up);
      assert.ok((await stat(up)).isDirectory());
      const info = await sn.stat('a');
      assert.equal(info.kind, 'active');
      assert.equal(info.parent, undefined);
      assert.deepEqual(info.labels, { l: 'v' });
      assert.ok(!Number.isNaN(Date.parse(info.created)));
      assert.deepEqual(await sn.mounts('a'), mounts);
    });

    it('prepare errors: duplicate key, missing parent, active parent', async () => {
      await sn.prepare('a');
      await assert.rejects(sn.prepare('a'), is('already-exists'));
      await assert.rejects(sn.prepare('b', 'nope'), is('not-found'));
      await assert.rejects(sn.prepare('c', 'a'));
      await assert.rejects(sn.view('d', 'a'));
    });

    it('commit turns an active snapshot into a committed one, keeping its content', async () => {
      await sn.prepare('work');
      const up = await sn.upperDir('work');
      await writeFile(join(up, 'f'), 'data');
      await sn.commit('layer1', 'work', { size: '4' });
      await assert.rejects(sn.stat('work'), is('not-found'));
      const info = await sn.stat('layer1');
      assert.equal(info.kind, 'committed');
      assert.equal(info.labels.size, '4');
      assert.equal(await sn.upperDir('layer1'), up);
      await assert.rejects(sn.commit('x', 'missing'), is('not-found'));
      await sn.prepare('work2');
      await assert.rejects(sn.commit('layer1', 'work2'), is('already-exists'));
      await assert.rejects(sn.commit('y', 'layer1'));
    });

    it('prepare on a chain gives an overlay with the nearest parent first', async () => {
      await layer('l1');
      await layer('l2', 'l1');
      await layer('l3', 'l2');
      const [m] = await sn.prepare('c', 'l3');
      assert.equal(m!.type, 'overlay');
      const lower = opt(m!, 'lowerdir=')!.split(':');
      assert.deepEqual(lower, [await sn.upperDir('l3'), await sn.upperDir('l2'), await sn.upperDir('l1')]);
      assert.equal(opt(m!, 'upperdir='), await sn.upperDir('c'));
      assert.ok(opt(m!, 'workdir=') !== undefined);
      assert.equal((await sn.stat('c')).parent, 'l3');
    });

    it('views are read-only: a bind for one layer, a lowerdir-only overlay for a chain', async () => {
      await layer('l1');
      const [v1] = await sn.view('v1', 'l1');
      assert.equal(v1!.type, 'bind');
      assert.equal(v1!.source, await sn.upperDir('l1'));
      assert.ok(v1!.options.includes('ro'));
      assert.equal((await sn.stat('v1')).kind, 'view');
      await layer('l2', 'l1');
      const [v2] = await sn.view('v2', 'l2');
      assert.equal(v2!.type, 'overlay');
      assert.equal(opt(v2!, 'upperdir='), undefined);
      assert.deepEqual(opt(v2!, 'lowerdir=')!.split(':'), [await sn.upperDir('l2'), await sn.upperDir('l1')]);
      const [c] = await sn.mounts('l1');
      assert.ok(c!.options.includes('ro'));
    });

    it('remove refuses parents with children and frees the key', async () => {
      await layer('l1');
      await sn.prepare('c', 'l1');
      await assert.rejects(sn.remove('l1'), is('conflict'));
      await assert.rejects(sn.remove('missing'), is('not-found'));
      const up = await sn.upperDir('c');
      await sn.remove('c');
      await assert.rejects(stat(up), /ENOENT/);
      await sn.remove('l1');
      await assert.rejects(sn.stat('l1'), is('not-found'));
      await sn.prepare('l1');
    });

    it('walk lists every snapshot', async () => {
      await layer('l1');
      await sn.prepare('a', 'l1');
      await sn.view('v', 'l1');
      const seen: SnapshotInfo[] = [];
      await sn.walk((i) => { seen.push(i); });
      assert.deepEqual(seen.map((i) => `${i.key}:${i.kind}`).sort(), ['a:active', 'l1:committed', 'v:view']);
    });

    it('usage counts the snapshot own content only', async () => {
      await layer('l1');
      await sn.prepare('a', 'l1');
      const up = await sn.upperDir('a');
      const empty = await sn.usage('a');
      await mkdir(join(up, 'd'));
      await writeFile(join(up, 'd', 'big'), Buffer.alloc(64 * 1024, 1));
      const u = await sn.usage('a');
      assert.equal(u.inodes, empty.inodes + 2);
      assert.ok(u.size >= empty.size + 64 * 1024);
      await assert.rejects(sn.usage('missing'), is('not-found'));
      await assert.rejects(sn.mounts('missing'), is('not-found'));
      await assert.rejects(sn.upperDir('missing'), is('not-found'));
    });

    it('concurrent prepares of distinct keys all succeed with distinct dirs', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => sn.prepare(`k${i}`)));
      const dirs = await Promise.all(Array.from({ length: 20 }, (_, i) => sn.upperDir(`k${i}`)));
      assert.equal(new Set(dirs).size, 20);
      const dup = await Promise.allSettled([sn.prepare('same'), sn.prepare('same')]);
      assert.deepEqual(dup.map((d) => d.status).sort(), ['fulfilled', 'rejected']);
    });
  });
}
