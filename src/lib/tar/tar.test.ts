import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir, symlink, link, readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { readTar, TarWriter, type TarHeader, type TarSource, type TarWriteHeader } from './index.js';

async function collect(src: TarSource): Promise<Array<{ h: TarHeader; data: Buffer }>> {
  const out: Array<{ h: TarHeader; data: Buffer }> = [];
  for await (const e of readTar(src)) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(Buffer.from(c));
    out.push({ h: e.header, data: Buffer.concat(parts) });
  }
  return out;
}

async function build(entries: Array<[TarWriteHeader, Buffer?]>): Promise<Buffer> {
  const w = new TarWriter();
  const done = (async (): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of w.stream) parts.push(c as Buffer);
    return Buffer.concat(parts);
  })();
  for (const [h, b] of entries) await w.add(h, b);
  await w.finalize();
  return done;
}

const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_bind_service+ep, has NULs and high bytes

describe('tar writer -> reader round trip', () => {
  it('keeps names, links, devices, xattrs and metadata', async () => {
    const long1 = 'a'.repeat(60) + '/' + 'b'.repeat(70); // 131 chars: ustar prefix
    const long2 = 'd/'.repeat(100) + 'x'.repeat(120); // 320 chars: PAX path
    const big = Buffer.alloc(70_000, 7);
    const tar = await build([
      [{ name: 'dir', type: 'dir', mode: 0o1777, uid: 1000, gid: 1001, uname: 'u', gname: 'g', mtime: 1_600_000_000 }],
      [{ name: 'dir/file', type: 'file', size: 5, mode: 0o4755, mtime: 1_600_000_000.25, xattrs: new Map([['security.capability', CAP], ['user.bin', Buffer.from([0, 255, 10, 61])]]) }, Buffer.from('hello')],
      [{ name: long1, type: 'file', size: big.length }, big],
      [{ name: long2, type: 'symlink', linkname: 'l'.repeat(150) }],
      [{ name: 'hard', type: 'hardlink', linkname: 'dir/file' }],
      [{ name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }],
      [{ name: 'blk', type: 'block', devmajor: 259, devminor: 65537 }],
      [{ name: 'fifo', type: 'fifo' }],
      [{ name: 'ünïcode', type: 'file', size: 0, uid: 3_000_000, gid: 4_000_000_000 }],
    ]);
    const got = await collect([tar]);
    assert.deepEqual(got.map((e) => e.h.name), ['dir/', 'dir/file', long1, long2, 'hard', 'null', 'blk', 'fifo', 'ünïcode']);
    const [d, f, l1, l2, h, c, b, p, u] = got.map((e) => e.h) as TarHeader[] & { length: 9 };
    assert.equal(d!.type, 'dir');
    assert.equal(d!.mode, 0o1777);
    assert.equal(d!.uid, 1000);
    assert.equal(d!.gname, 'g');
    assert.equal(f!.mode, 0o4755);
    assert.equal(f!.mtime, 1_600_000_000.25);
    assert.deepEqual(f!.xattrs.get('security.capability'), CAP);
    assert.deepEqual(f!.xattrs.get('user.bin'), Buffer.from([0, 255, 10, 61]));
    assert.equal(got[1]!.data.toString(), 'hello');
    assert.equal(l1!.size, big.length);
    assert.deepEqual(got[2]!.data, big);
    assert.equal(l2!.type, 'symlink');
    assert.equal(l2!.linkname, 'l'.repeat(150));
    assert.equal(h!.type, 'hardlink');
    assert.equal(h!.linkname, 'dir/file');
    assert.deepEqual([c!.type, c!.devmajor, c!.devminor], ['char', 1, 3]);
    assert.deepEqual([b!.type, b!.devmajor, b!.devminor], ['block', 259, 65537]);
    assert.equal(p!.type, 'fifo');
    assert.deepEqual([u!.uid, u!.gid], [3_000_000, 4_000_000_000]);
  });

  it('handles bodies split across tiny chunks and unread bodies', async () => {
    const data = Buffer.alloc(3000, 1);
    const tar = await build([
      [{ name: 'a', type: 'file', size: data.length }, data],
      [{ name: 'b', type: 'file', size: 3 }, Buffer.from('xyz')],
    ]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < tar.length; i += 7) chunks.push(tar.subarray(i, i + 7));
    const names: string[] = [];
    let last = '';
    for await (const e of readTar(chunks)) {
      names.push(e.header.name);
      if (e.header.name === 'b') for await (const c of e.body) last += c.toString();
    }
    assert.deepEqual(names, ['a', 'b']);
    assert.equal(last, 'xyz');
  });

  it('rejects bad checksums, truncation and oversized PAX headers; tolerates a missing end marker', async () => {
    const tar = await build([[{ name: 'a', type: 'file', size: 600 }, Buffer.alloc(600)]]);
    const bad = Buffer.from(tar);
    bad[10] = 0x41;
    await assert.rejects(collect([bad]), /checksum/);
    await assert.rejects(collect([tar.subarray(0, 900)]), /unexpected end/);
    assert.equal((await collect([tar.subarray(0, 512 * 3)])).length, 1); // no zero blocks at all
    const hugePax = Buffer.alloc(512);
    hugePax.write('PaxHeaders/x', 0);
    hugePax.write('0000644\0', 100);
    hugePax.write('77777777777\0', 124); // 8 GiB of PAX data
    hugePax[156] = 0x78;
    hugePax.write('ustar\x0000', 257, 'latin1');
    hugePax.fill(0x20, 148, 156);
    let sum = 0;
    for (const c of hugePax) sum += c;
    hugePax.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    await assert.rejects(collect([hugePax]), (e: Error & { code?: string }) => e.code === 'PETI_ERR_UNSAFE_ARCHIVE');
  });

  it('reads GNU long names and base-256 numbers', async () => {
    const mk = (name: string, flag: string, size: number, base256Uid = false): Buffer => {
      const b = Buffer.alloc(512);
      b.write(name, 0, 100, 'latin1');
      b.write('0000644\0', 100);
      if (base256Uid) {
        b[108] = 0x80;
        b.writeUInt32BE(5_000_000_000 % 2 ** 32, 112);
        b[111] = Math.floor(5_000_000_000 / 2 ** 32);
      } else b.write('0000000\0', 108);
      b.write('0000000\0', 116);
      b.write(size.toString(8).padStart(11, '0') + '\0', 124);
      b.write('00000000000\0', 136);
      b[156] = flag.charCodeAt(0);
      b.write('ustar  \0', 257, 'latin1');
      b.fill(0x20, 148, 156);
      let s = 0;
      for (const c of b) s += c;
      b.write(s.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
      return b;
    };
    const longName = 'n'.repeat(300);
    const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    const tar = Buffer.concat([
      mk('././@LongLink', 'L', longName.length + 1), pad(Buffer.from(longName + '\0')),
      mk('././@LongLink', 'K', 201), pad(Buffer.from('k'.repeat(200) + '\0')),
      mk('short', '2', 0, true),
      Buffer.alloc(1024),
    ]);
    const [e] = await collect([tar]);
    assert.equal(e!.h.name, longName);
    assert.equal(e!.h.linkname, 'k'.repeat(200));
    assert.equal(e!.h.uid, 5_000_000_000);
  });
});

describe('tar compatibility with GNU tar', () => {
  let dir = '';
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'peti-tar-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('reads what GNU tar --xattrs --format=pax writes (binary xattr intact)', async () => {
    const src = join(dir, 'src');
    const deep = join(src, 'x'.repeat(90), 'y'.repeat(90), 'z'.repeat(90));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'f'.repeat(120)), 'deep');
    await writeFile(join(src, 'cap'), 'bin');
    execFileSync('setfattr', ['-n', 'security.capability', '-v', '0x' + CAP.toString('hex'), join(src, 'cap')]);
    execFileSync('setfattr', ['-n', 'user.note', '-v', '0x00ff0a3d', join(src, 'cap')]);
    await symlink('cap', join(src, 'sl'));
    await link(join(src, 'cap'), join(src, 'hl'));
    const out = join(dir, 'gnu.tar');
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--format=pax', '-C', src, '-cf', out, '.']);
    const got = await collect(createReadStream(out));
    const byName = new Map(got.map((e) => [e.h.name.replace(/^\.\//, ''), e]));
    const cap = byName.get('cap')!;
    assert.deepEqual(cap.h.xattrs.get('security.capability'), CAP);
    assert.deepEqual(cap.h.xattrs.get('user.note'), Buffer.from([0, 0xff, 0x0a, 0x3d]));
    assert.equal(byName.get('sl')!.h.type, 'symlink');
    assert.equal(byName.get('sl')!.h.linkname, 'cap');
    const links = [byName.get('hl')!.h, cap.h].filter((h) => h.type === 'hardlink');
    assert.equal(links.length, 1);
    assert.match(links[0]!.linkname, /^(\.\/)?(cap|hl)$/);
    const deepName = ['x'.repeat(90), 'y'.repeat(90), 'z'.repeat(90), 'f'.repeat(120)].join('/');
    assert.equal(byName.get(deepName)!.data.toString(), 'deep');
  });

  it('GNU tar lists and extracts what we write', async () => {
    const longName = 'p'.repeat(120) + '/' + 'q'.repeat(150);
    const tar = await build([
      [{ name: 'p'.repeat(120), type: 'dir' }],
      [{ name: longName, type: 'file', size: 4, mode: 0o755, mtime: 1_500_000_000, xattrs: { 'user.bin': Buffer.from([1, 0, 2, 0xfe]) } }, Buffer.from('data')],
      [{ name: 'link', type: 'symlink', linkname: longName }],
      [{ name: 'hard', type: 'hardlink', linkname: longName }],
      [{ name: 'fifo', type: 'fifo' }],
      [{ name: 'null', type: 'char', devmajor: 1, devminor: 3 }],
    ]);
    const file = join(dir, 'ours.tar');
    await writeFile(file, tar);
    const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
    assert.match(listing, new RegExp(`-rwxr-xr-x 0/0 +4 2017-07-14 \\d\\d:\\d\\d ${longName}`));
    assert.match(listing, /^lrwxrwxrwx .* link -> p+\/q+$/m);
    assert.match(listing, /^hrw.* hard link to p+\/q+$/m);
    assert.match(listing, /^prw-r--r-- .* fifo$/m);
    assert.match(listing, /^crw-r--r-- 0\/0 +1,3 .* null$/m);
    const x = join(dir, 'x');
    await mkdir(x);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', x, '-xf', file]);
    assert.equal(await readFile(join(x, longName), 'utf8'), 'data');
    const dump = execFileSync('getfattr', ['-n', 'user.bin', '-e', 'hex', join(x, longName)], { encoding: 'utf8' });
    assert.match(dump, /user\.bin=0x010002fe/);
  });

  it('streams with backpressure through a slow consumer', async () => {
    const w = new TarWriter({ highWaterMark: 1024 });
    const body = Readable.from((function* () { for (let i = 0; i < 100; i++) yield Buffer.alloc(10_000, i); })());
    const adding = (async (): Promise<void> => {
      await w.add({ name: 'big', type: 'file', size: 1_000_000 }, body);
      await w.finalize();
    })();
    const got = await collect(w.stream);
    await adding;
    assert.equal(got[0]!.data.length, 1_000_000);
    assert.equal(got[0]!.data[999_999], 99);
  });
});
