import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile, readFile, lstat, readlink, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { TarWriter, encodeHeader, type TarWriteHeader } from '../../lib/tar/index.js';
import { applyLayer } from './apply.js';
import type { ApplyOptions, ApplyResult } from './types.js';

type Entry = [TarWriteHeader, Buffer?];

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const w = new TarWriter();
  const out = (async (): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of w.stream) parts.push(c as Buffer);
    return Buffer.concat(parts);
  })();
  for (const [h, b] of entries) await w.add(h, b);
  await w.finalize();
  return out;
}

function apply(buf: Buffer | Iterable<Buffer> | AsyncIterable<Buffer>, dir: string, opts?: ApplyOptions): Promise<ApplyResult> {
  const src = Buffer.isBuffer(buf) ? Readable.from([buf], { objectMode: false }) : Readable.from(buf, { objectMode: false });
  return applyLayer(src, dir, opts);
}

const isUnsafe = (e: unknown): boolean => (e as { code?: string }).code === 'PETI_ERR_UNSAFE_ARCHIVE';
const isInvalid = (e: unknown): boolean => (e as { kind?: string }).kind === 'invalid-argument';
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');

describe('applyLayer', () => {
  let base = '';
  let n = 0;
  const fresh = async (): Promise<string> => {
    const d = join(base, `t${n++}`);
    await mkdir(d);
    return d;
  };
  before(async () => { base = await mkdtemp(join(tmpdir(), 'peti-apply-')); });
  after(async () => { await rm(base, { recursive: true, force: true }); });

  it('extracts owners, modes, mtimes, links, devices, fifos, xattrs and overlay whiteouts', async () => {
    const dir = await fresh();
    const res = await apply(await tarOf([
      [{ name: './', type: 'dir', mode: 0o755 }],
      [{ name: 'bin/', type: 'dir', mode: 0o755, mtime: 1_000_000 }],
      [{ name: 'bin/su', type: 'file', size: 2, mode: 0o4755, uid: 1234, gid: 5678, mtime: 1_500_000_000 }, Buffer.from('su')],
      [{ name: 'bin/ping', type: 'file', size: 4, mode: 0o755, xattrs: { 'security.capability': CAP, 'user.x': Buffer.from([0, 1, 0xff]) } }, Buffer.from('ping')],
      [{ name: 'bin/sgid', type: 'file', size: 0, mode: 0o2711, uid: 7, gid: 8 }],
      [{ name: 'tmp', type: 'dir', mode: 0o1777 }],
      [{ name: 'bin/link', type: 'symlink', linkname: '/etc/shadow', uid: 3, gid: 4, mtime: 1_400_000_000 }],
      [{ name: 'bin/hard', type: 'hardlink', linkname: 'bin/su' }],
      [{ name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }],
      [{ name: 'run/fifo', type: 'fifo', mode: 0o600, uid: 11 }],
      [{ name: 'opq/', type: 'dir' }],
      [{ name: 'opq/.wh..wh..opq', type: 'file', size: 0 }],
      [{ name: 'opq/kept', type: 'file', size: 0 }],
      [{ name: 'gone/.wh.victim', type: 'file', size: 0 }],
    ]), dir);
    assert.equal(res.entries, 14);
    const su = await stat(join(dir, 'bin/su'));
    assert.equal(su.mode & 0o7777, 0o4755);
    assert.deepEqual([su.uid, su.gid], [1234, 5678]);
    assert.equal(su.mtimeMs, 1_500_000_000_000);
    assert.equal(su.nlink, 2);
    assert.equal((await stat(join(dir, 'bin/hard'))).ino, su.ino);
    assert.equal((await stat(join(dir, 'bin/sgid'))).mode & 0o7777, 0o2711);
    assert.equal((await stat(join(dir, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal((await stat(join(dir, 'bin'))).mtimeMs, 1_000_000_000, 'directory mtime set after its content');
    const link = await lstat(join(dir, 'bin/link'));
    assert.ok(link.isSymbolicLink());
    assert.equal(await readlink(join(dir, 'bin/link')), '/etc/shadow');
    assert.deepEqual([link.uid, link.gid, link.mtimeMs], [3, 4, 1_400_000_000_000]);
    const dev = await lstat(join(dir, 'dev/null'));
    assert.ok(dev.isCharacterDevice());
    assert.equal(dev.rdev, (1 << 8) | 3);
    assert.equal(dev.mode & 0o777, 0o666);
    const fifo = await lstat(join(dir, 'run/fifo'));
    assert.ok(fifo.isFIFO());
    assert.deepEqual([fifo.mode & 0o777, fifo.uid], [0o600, 11]);
    const caps = execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', 'bin/ping'], { cwd: dir, encoding: 'utf8' });
    assert.match(caps, new RegExp(`security\\.capability=0x${CAP.toString('hex')}`));
    assert.match(caps, /user\.x=0x0001ff/);
    const opq = execFileSync('getfattr', ['-n', 'trusted.overlay.opaque', '--only-values', 'opq'], { cwd: dir, encoding: 'utf8' });
    assert.equal(opq, 'y');
    assert.deepEqual(await readdir(join(dir, 'opq')), ['kept']);
    const wh = await lstat(join(dir, 'gone/victim'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
  });

  it('sets xattrs on files with awkward names (spaces, newlines, backslashes, UTF-8)', async () => {
    const dir = await fresh();
    const names = ['sp ace', 'new\nline', 'back\\slash', 'ünï', 'eq=ual', '#hash'];
    await apply(await tarOf(names.map((name, i): Entry => [{ name, type: 'file', size: 0, xattrs: { 'user.i': Buffer.from([i, 0]) } }])), dir);
    for (const [i, name] of names.entries()) {
      const v = execFileSync('getfattr', ['-n', 'user.i', '-e', 'hex', '--', name], { cwd: dir, encoding: 'utf8' });
      assert.match(v, new RegExp(`user\\.i=0x0${i}00`), name);
    }
  });

  it('makes many whiteout nodes in reasonable time', async () => {
    const dir = await fresh();
    const t0 = Date.now();
    await apply(await tarOf(Array.from({ length: 200 }, (_, i): Entry => [{ name: `d/.wh.f${i}`, type: 'file', size: 0 }])), dir);
    const ms = Date.now() - t0;
    assert.equal((await readdir(join(dir, 'd'))).length, 200);
    assert.ok(ms < 10_000, `${ms} ms`);
  });

  it('gives the same diffID for plain, gzip and zstd: sha256 of the plain tar', async () => {
    const plain = await tarOf([
      [{ name: 'a', type: 'file', size: 100_000 }, Buffer.alloc(100_000, 'a')],
      [{ name: 'b/c', type: 'file', size: 3 }, Buffer.from('abc')],
    ]);
    const want = `sha256:${createHash('sha256').update(plain).digest('hex')}`;
    const zst = spawnSync('zstd', ['-q', '-c'], { input: plain });
    assert.equal(zst.status, 0);
    for (const [kind, data] of [['none', plain], ['gzip', gzipSync(plain)], ['zstd', zst.stdout]] as const) {
      const r1 = await apply(data, await fresh());
      const r2 = await apply(data, await fresh(), { compression: kind });
      assert.equal(r1.diffId, want, kind);
      assert.equal(r2.diffId, want, kind);
      assert.equal(r1.size, plain.length);
    }
  });

  it('rejects names that climb out with ..', async () => {
    for (const name of ['../evil', 'a/../../evil', './../evil']) {
      await assert.rejects(apply(await tarOf([[{ name, type: 'file', size: 1 }, Buffer.from('x')]]), await fresh()), isUnsafe);
    }
    assert.deepEqual((await readdir(base)).filter((f) => f === 'evil'), []);
  });

  it('confines absolute names to the root', async () => {
    const dir = await fresh();
    await apply(await tarOf([[{ name: '/abs/file', type: 'file', size: 2 }, Buffer.from('ok')], [{ name: 'x/../y', type: 'file', size: 0 }]]), dir);
    assert.equal(await readFile(join(dir, 'abs/file'), 'utf8'), 'ok');
    assert.ok((await lstat(join(dir, 'y'))).isFile());
  });

  it('never writes through a symlink', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'peti-outside-'));
    try {
      for (const entries of [
        [[{ name: 'evil', type: 'symlink', linkname: outside }], [{ name: 'evil/pwned', type: 'file', size: 1 }, Buffer.from('x')]],
        [[{ name: 'evil', type: 'symlink', linkname: outside }], [{ name: 'evil/sub/', type: 'dir' }]],
        [[{ name: 'evil', type: 'symlink', linkname: '../../../../../../../../' + outside }], [{ name: 'evil/.wh.x', type: 'file', size: 0 }]],
        [[{ name: 'evil', type: 'symlink', linkname: outside }], [{ name: 'evil/x', type: 'symlink', linkname: '/' }]],
        [[{ name: 'd/', type: 'dir' }], [{ name: 'd', type: 'symlink', linkname: outside }], [{ name: 'd/f', type: 'file', size: 0 }]],
      ] as Entry[][]) {
        await assert.rejects(apply(await tarOf(entries), await fresh()), isUnsafe);
      }
      // a symlink at the final component is replaced, not followed
      const dir = await fresh();
      await apply(await tarOf([[{ name: 'evil', type: 'symlink', linkname: join(outside, 'f') }], [{ name: 'evil', type: 'file', size: 2 }, Buffer.from('in')]]), dir);
      assert.equal(await readFile(join(dir, 'evil'), 'utf8'), 'in');
      assert.deepEqual(await readdir(outside), []);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('keeps hardlinks inside the root', async () => {
    const before = (await stat('/etc/passwd')).nlink;
    await assert.rejects(apply(await tarOf([[{ name: 'pw', type: 'hardlink', linkname: '/etc/passwd' }]]), await fresh()), isUnsafe);
    await assert.rejects(apply(await tarOf([[{ name: 'x', type: 'hardlink', linkname: '../../x' }]]), await fresh()), isUnsafe);
    const outside = await mkdtemp(join(tmpdir(), 'peti-outside-'));
    try {
      await writeFile(join(outside, 'secret'), 's');
      await assert.rejects(apply(await tarOf([
        [{ name: 'l', type: 'symlink', linkname: outside }],
        [{ name: 'h', type: 'hardlink', linkname: 'l/secret' }],
      ]), await fresh()), isUnsafe);
      assert.equal((await stat(join(outside, 'secret'))).nlink, 1);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
    assert.equal((await stat('/etc/passwd')).nlink, before);
  });

  it('rejects whiteouts that escape their directory', async () => {
    for (const name of ['a/.wh..', 'a/.wh...', '.wh.', 'a/.wh.', '../.wh.x', 'a/../../.wh.x']) {
      await assert.rejects(apply(await tarOf([[{ name, type: 'file', size: 0 }]]), await fresh()), isUnsafe, name);
      await assert.rejects(apply(await tarOf([[{ name, type: 'file', size: 0 }]]), await fresh(), { whiteouts: false }), isUnsafe, name);
    }
  });

  it('applies whiteouts as deletions when flattening, sparing what the same layer wrote', async () => {
    const dir = await fresh();
    await apply(await tarOf([
      [{ name: 'a/old', type: 'file', size: 0 }],
      [{ name: 'o/lower1', type: 'file', size: 0 }],
      [{ name: 'o/sub/lower2', type: 'file', size: 0 }],
    ]), dir);
    await apply(await tarOf([
      [{ name: 'a/.wh.old', type: 'file', size: 0 }],
      [{ name: 'o/new', type: 'file', size: 0 }],
      [{ name: 'o/.wh..wh..opq', type: 'file', size: 0 }],
    ]), dir, { whiteouts: false });
    assert.deepEqual(await readdir(join(dir, 'a')), []);
    assert.deepEqual(await readdir(join(dir, 'o')), ['new']);
  });

  it('stops a gzip bomb at maxBytes', async () => {
    // concatenated gzip members: a 1 GiB zero file, made from one 16 MiB member repeated (≈1 MiB compressed)
    const header = encodeHeader({ name: 'bomb', type: 'file', size: 1024 ** 3 });
    const zeros = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    const members = [gzipSync(header), ...Array.from({ length: 64 }, () => zeros), gzipSync(Buffer.alloc(1024))];
    const t0 = Date.now();
    await assert.rejects(apply(members, await fresh(), { maxBytes: 100 * 1024 * 1024 }), (e) => isUnsafe(e) && /larger than/.test((e as Error).message));
    assert.ok(Date.now() - t0 < 20_000);
  });

  it('stops at maxEntries (2 million entries, generated as a stream)', async () => {
    const hdr = encodeHeader({ name: 'd/', type: 'dir' });
    const chunk = Buffer.concat(Array.from({ length: 2048 }, () => hdr));
    function* gen(): Generator<Buffer> {
      for (let i = 0; i < 2_000_000 / 2048; i++) yield chunk;
    }
    await assert.rejects(apply(gen(), await fresh(), { maxEntries: 1_000_000 }), (e) => isUnsafe(e) && /1000000 entries/.test((e as Error).message));
  });

  it('rejects corrupt input with InvalidArgument', async () => {
    const plain = await tarOf([[{ name: 'a', type: 'file', size: 5000 }, Buffer.alloc(5000, 1)]]);
    const bad = Buffer.from(plain);
    bad[20] ^= 0xff;
    await assert.rejects(apply(bad, await fresh()), isInvalid);
    const gz = gzipSync(plain);
    await assert.rejects(apply(gz.subarray(0, gz.length - 30), await fresh()), isInvalid);
    await assert.rejects(apply(plain.subarray(0, 3000), await fresh()), isInvalid);
    const zst = spawnSync('zstd', ['-q', '-c'], { input: plain }).stdout;
    await assert.rejects(apply(zst.subarray(0, zst.length - 5), await fresh()), isInvalid);
  });
});
