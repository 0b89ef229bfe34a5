/**
 * Hostile archives through POST /images/load and POST /images/create?fromSrc=-. Every tar is built here. For each
 * one: a clear error, nothing outside the data root changed, no stray ingest/temp/blob/snapshot files, and the
 * daemon still serves. Small limits (PETI_MAX_LAYER_BYTES/ENTRIES) keep the bomb and the entry flood quick.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { PETID, startDaemon, makeBusybox, type TestDaemon } from '../helpers/daemon.js';
import { makeTar, type Member } from '../helpers/tars.js';
import { TarWriter } from '../../src/lib/tar/index.js';

const MAX_BYTES = 8 * 1024 * 1024;
const MAX_ENTRIES = 2000;

interface Answer { status: number; error?: string; lines: Record<string, unknown>[] }

/** POST a body (buffer or stream) and read the answer; a daemon that stops reading early is fine. */
function post(d: TestDaemon, path: string, body: Buffer | Readable): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request({ socketPath: d.socket, method: 'POST', path: `/v1.50${path}`, headers: Buffer.isBuffer(body) ? { 'Content-Length': String(body.length) } : {} }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          let message = text;
          try { message = (JSON.parse(text) as { message: string }).message; } catch { /* keep text */ }
          resolve({ status, error: message, lines: [] });
          return;
        }
        const lines = text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
        const err = lines.find((l) => typeof l.error === 'string');
        resolve({ status, ...(err ? { error: err.error as string } : {}), lines });
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      // The daemon may answer and close before it has read all of a hostile body.
      if (!answered && e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
    });
    if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', () => req.destroy());
      body.pipe(req);
    }
  });
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Find files by name anywhere under dir (no symlink following). */
function findNamed(dir: string, names: RegExp, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (names.test(e.name)) out.push(p);
    if (e.isDirectory()) findNamed(p, names, out);
  }
  return out;
}

describe('hostile image archives', () => {
  let d: TestDaemon;
  const marker = `peti-safety-${process.pid}-${randomBytes(4).toString('hex')}`;
  const outDir = join('/tmp', marker);
  const passwd = readFileSync('/etc/passwd');
  const passwdNlink = statSync('/etc/passwd').nlink;
  let baseBlobs: string[] = [];
  let baseSnaps: string[] = [];

  const blobs = (): string[] => readdirSync(join(d.dataRoot, 'content/blobs/sha256')).sort();
  const snaps = (): string[] => readdirSync(join(d.dataRoot, 'snapshots')).filter((n) => n !== 'metadata.json').sort();

  /** Everything that must hold after a hostile request. */
  async function assertUnharmed(what: string): Promise<void> {
    assert.deepEqual(readdirSync(outDir), [], `${what}: nothing written into ${outDir}`);
    assert.ok(!existsSync(join('/tmp', `${marker}-outside`)), `${what}: no file beside the unique dir`);
    assert.deepEqual(findNamed(d.dir, /^(pwned.*|outside|x-outside)$/), [], `${what}: no escaped file anywhere under the test dir`);
    assert.ok(readFileSync('/etc/passwd').equals(passwd), `${what}: /etc/passwd unchanged`);
    assert.equal(statSync('/etc/passwd').nlink, passwdNlink, `${what}: /etc/passwd gained no hard link`);
    assert.deepEqual(readdirSync(join(d.dataRoot, 'content/ingest')), [], `${what}: no ingest leftovers`);
    assert.deepEqual(readdirSync(join(d.dataRoot, 'tmp')), [], `${what}: no temp leftovers`);
    assert.deepEqual(blobs(), baseBlobs, `${what}: no stray blobs`);
    assert.deepEqual(snaps(), baseSnaps, `${what}: no stray snapshots`);
    const ping = await d.client.send('GET', '/_ping');
    assert.equal(ping.statusCode, 200);
    ping.resume();
    const list = d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n'), ['busybox:latest'], `${what}: no image registered`);
  }

  async function expectRefused(what: string, a: Answer, pattern: RegExp): Promise<void> {
    assert.ok(a.error !== undefined, `${what}: expected an error, got ${a.status} ${JSON.stringify(a.lines)}`);
    assert.ok(a.status === 200 || (a.status >= 400 && a.status < 500), `${what}: status ${a.status} (${a.error})`);
    assert.match(a.error, pattern, what);
    await assertUnharmed(what);
  }

  const load = (body: Buffer | Readable): Promise<Answer> => post(d, '/images/load', body);
  const imp = (body: Buffer | Readable): Promise<Answer> => post(d, '/images/create?fromSrc=-&repo=hostile&tag=x', body);

  /** A well-formed Docker (pre-25) archive around one layer tar, so the layer itself is what is hostile. */
  async function dockerArchive(layer: Buffer, extra: Member[] = []): Promise<Buffer> {
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } });
    const cfgName = `${sha(config)}.json`;
    return makeTar([
      { name: 'layer/', type: 'dir' },
      { name: 'layer/layer.tar', type: 'file', body: layer },
      { name: cfgName, type: 'file', body: config },
      { name: 'manifest.json', type: 'file', body: JSON.stringify([{ Config: cfgName, RepoTags: ['hostile:x'], Layers: ['layer/layer.tar'] }]) },
      ...extra,
    ]);
  }

  before(async () => {
    mkdirSync(outDir, { mode: 0o755 });
    process.env.PETI_MAX_LAYER_BYTES = String(MAX_BYTES);
    process.env.PETI_MAX_LAYER_ENTRIES = String(MAX_ENTRIES);
    d = await startDaemon();
    makeBusybox(d);
    baseBlobs = blobs();
    baseSnaps = snaps();
  });
  after(async () => {
    delete process.env.PETI_MAX_LAYER_BYTES;
    delete process.env.PETI_MAX_LAYER_ENTRIES;
    try {
      await d?.cleanup();
    } finally {
      rmSync(outDir, { recursive: true, force: true });
      rmSync(join('/tmp', `${marker}-outside`), { force: true });
    }
  });

  it('petid --help documents the limit knobs', () => {
    const r = d.docker(['version', '--format', '{{.Server.APIVersion}}']);
    assert.equal(r.stdout.trim(), '1.50');
    const help = spawnHelp();
    assert.match(help, /PETI_MAX_LAYER_BYTES/);
    assert.match(help, /PETI_MAX_LAYER_ENTRIES/);
  });

  it('load: member names with ../ and absolute names', async () => {
    const climb = await makeTar([{ name: `../../../../tmp/${marker}/pwned`, type: 'file', body: 'x' }]);
    await expectRefused('load ../', await load(climb), /invalid archive member name/);
    const abs = await makeTar([{ name: `/tmp/${marker}/abs`, type: 'file', body: 'x' }]);
    await expectRefused('load absolute', await load(abs), /invalid archive member name/);
    const inner = await makeTar([{ name: 'manifest.json', type: 'file', body: '[]' }, { name: `a/../../${marker}-outside`, type: 'file', body: 'x' }]);
    await expectRefused('load a/../../', await load(inner), /invalid archive member name/);
  });

  it('load: symlink then a file through it, hardlinks out of the archive', async () => {
    const sym = await makeTar([
      { name: 'evil', type: 'symlink', linkname: outDir },
      { name: 'evil/pwned', type: 'file', body: 'through the link' },
    ]);
    await expectRefused('load symlink', await load(sym), /invalid archive/);
    const hl1 = await makeTar([{ name: 'manifest.json', type: 'hardlink', linkname: '/etc/passwd' }]);
    await expectRefused('load hardlink /etc/passwd', await load(hl1), /invalid archive member name/);
    const hl2 = await makeTar([{ name: 'x', type: 'hardlink', linkname: '../../outside' }]);
    await expectRefused('load hardlink ../../outside', await load(hl2), /invalid archive member name/);
  });

  it('load: manifest.json pointing outside, at /etc/passwd, and a config that is not JSON', async () => {
    const layer = await makeTar([{ name: 'ok', type: 'file', body: 'fine' }]);
    const base = (mj: unknown, extra: Member[] = []): Promise<Buffer> => makeTar([
      { name: 'layer.tar', type: 'file', body: layer }, { name: 'manifest.json', type: 'file', body: JSON.stringify(mj) }, ...extra,
    ]);
    const up = await base([{ Config: '../../etc/passwd', RepoTags: ['hostile:x'], Layers: ['layer.tar'] }]);
    await expectRefused('manifest Config ../../etc/passwd', await load(up), /invalid archive member name/);
    const abs = await base([{ Config: '/etc/passwd', RepoTags: ['hostile:x'], Layers: ['layer.tar'] }]);
    await expectRefused('manifest Config /etc/passwd', await load(abs), /invalid archive member name/);
    const cfg = JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } });
    const lay = await base([{ Config: 'c.json', RepoTags: ['hostile:x'], Layers: ['../../../etc/passwd'] }], [{ name: 'c.json', type: 'file', body: cfg }]);
    await expectRefused('manifest Layers ../../../etc/passwd', await load(lay), /invalid archive member name/);
    const notJson = await base([{ Config: 'c.json', RepoTags: ['hostile:x'], Layers: ['layer.tar'] }], [{ name: 'c.json', type: 'file', body: 'this is {not json' }]);
    await expectRefused('config not JSON (member)', await load(notJson), /not valid JSON/);
    const junk = Buffer.from('\x00\x01 binary config');
    const notJsonBlob = await base([{ Config: `blobs/sha256/${sha(junk)}`, RepoTags: ['hostile:x'], Layers: ['layer.tar'] }], [{ name: `blobs/sha256/${sha(junk)}`, type: 'file', body: junk }]);
    await expectRefused('config not JSON (blob)', await load(notJsonBlob), /not valid JSON/);
    await expectRefused('manifest.json not a list', await load(await base({ Config: 'x' })), /not a list/);
  });

  it('load: a blob whose content does not match its name', async () => {
    const body = Buffer.from('honest bytes');
    const lying = await makeTar([{ name: 'oci-layout', type: 'file', body: '{"imageLayoutVersion":"1.0.0"}' }, { name: `blobs/sha256/${sha('other bytes')}`, type: 'file', body }]);
    await expectRefused('digest mismatch', await load(lying), /digest mismatch/);
    const badName = await makeTar([{ name: 'blobs/sha256/../../../etc/passwd', type: 'file', body }]);
    await expectRefused('blob name ..', await load(badName), /invalid archive member name/);
    const shortName = await makeTar([{ name: 'blobs/sha256/abc', type: 'file', body }]);
    await expectRefused('blob name not hex64', await load(shortName), /invalid blob name/);
  });

  it('load: a well-formed archive whose layer escapes is refused at apply', async () => {
    const layer = await makeTar([{ name: 'ok', type: 'file', body: 'fine' }, { name: `../../../../tmp/${marker}/pwned-layer`, type: 'file', body: 'x' }]);
    await expectRefused('layer with ../', await load(await dockerArchive(layer)), /escapes the root/);
    const viaLink = await makeTar([{ name: 'evil', type: 'symlink', linkname: outDir }, { name: 'evil/pwned', type: 'file', body: 'x' }]);
    await expectRefused('layer symlink walk', await load(await dockerArchive(viaLink)), /not a directory \(a symlink\)/);
  });

  it('import: ../ names are refused, absolute names are confined (as Docker)', async () => {
    const climb = await makeTar([{ name: `../../../../tmp/${marker}/pwned`, type: 'file', body: 'x' }]);
    await expectRefused('import ../', await imp(climb), /escapes the root/);
    const deep = await makeTar([{ name: 'a/', type: 'dir' }, { name: `a/../../../${marker}-outside`, type: 'file', body: 'x' }]);
    await expectRefused('import a/../../..', await imp(deep), /escapes the root/);

    const abs = await makeTar([{ name: `/tmp/${marker}/abs`, type: 'file', body: 'confined' }]);
    const a = await imp(abs);
    assert.equal(a.error, undefined, String(a.error));
    assert.deepEqual(readdirSync(outDir), []);
    const img = await d.client.json<{ GraphDriver: { Data: { LowerDir: string } } }>('GET', '/images/hostile:x/json');
    const inside = join(img.GraphDriver.Data.LowerDir, 'tmp', marker, 'abs');
    assert.equal(readFileSync(inside, 'utf8'), 'confined');
    await d.client.json('DELETE', '/images/hostile:x');
    await assertUnharmed('import absolute (confined) then removed');
  });

  it('import: symlink to outside followed by a file through it', async () => {
    const tar = await makeTar([
      { name: 'evil', type: 'symlink', linkname: outDir },
      { name: 'evil/pwned', type: 'file', body: 'through the link' },
    ]);
    await expectRefused('import symlink walk', await imp(tar), /not a directory \(a symlink\)/);
    const rel = await makeTar([
      { name: 'up', type: 'symlink', linkname: '../../../../../../../../tmp' },
      { name: `up/${marker}/pwned`, type: 'file', body: 'x' },
    ]);
    await expectRefused('import relative symlink walk', await imp(rel), /not a directory \(a symlink\)/);
    const dirThenLink = await makeTar([
      { name: 'd/', type: 'dir' },
      { name: 'd', type: 'symlink', linkname: outDir },
      { name: 'd/pwned', type: 'file', body: 'x' },
    ]);
    await expectRefused('import dir replaced by symlink', await imp(dirThenLink), /not a directory \(a symlink\)/);
  });

  it('import: hardlinks to /etc/passwd and ../../outside', async () => {
    const hl = await makeTar([{ name: 'pw', type: 'hardlink', linkname: '/etc/passwd' }]);
    await expectRefused('import hardlink /etc/passwd', await imp(hl), /does not exist/);
    const up = await makeTar([{ name: 'x', type: 'hardlink', linkname: '../../outside' }]);
    await expectRefused('import hardlink ../../outside', await imp(up), /escapes the root/);
    const viaSym = await makeTar([{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'x', type: 'hardlink', linkname: 'l/passwd' }]);
    await expectRefused('import hardlink through a symlink', await imp(viaSym), /not a directory \(a symlink\)/);
  });

  it('import: whiteouts that escape or name nothing', async () => {
    const cases: [string, RegExp][] = [
      ['../.wh.passwd', /escapes the root/],
      [`a/../../.wh.${marker}`, /escapes the root/],
      ['a/.wh...', /names no entry/],
      ['.wh..', /names no entry/],
      ['.wh.', /names no entry/],
    ];
    for (const [name, re] of cases) {
      const tar = await makeTar([{ name: 'a/', type: 'dir' }, { name, type: 'file', body: '' }]);
      await expectRefused(`whiteout ${name}`, await imp(tar), re);
    }
  });

  it('gzip bomb: import and load stop at the byte limit', async () => {
    const big = MAX_BYTES * 6;
    const bomb = gzipSync(await makeTar([{ name: 'zeros', type: 'file', body: Buffer.alloc(big) }]), { level: 9 });
    assert.ok(bomb.length < 200_000, `bomb is small (${bomb.length} bytes)`);
    await expectRefused('import gzip bomb', await imp(bomb), /limit/);
    await expectRefused('load gzip bomb', await load(bomb), /limit/);
    // A bomb as the (gzipped) layer of a well-formed archive: the apply limit.
    const layerBomb = gzipSync(await makeTar([{ name: 'zeros', type: 'file', body: Buffer.alloc(big) }]), { level: 9 });
    const config = JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } });
    const arch = await makeTar([
      { name: 'l.tar.gz', type: 'file', body: layerBomb },
      { name: 'c.json', type: 'file', body: config },
      { name: 'manifest.json', type: 'file', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['hostile:x'], Layers: ['l.tar.gz'] }]) },
    ]);
    await expectRefused('load layer bomb', await load(arch), /limit/);
  });

  it('a huge number of entries is streamed and cut off at the entry limit', async () => {
    const total = 200_000;
    let produced = 0;
    const flood = (): Readable => {
      const w = new TarWriter({ highWaterMark: 64 * 1024 });
      void (async () => {
        try {
          for (; produced < total; produced++) await w.add({ name: `f/${produced}`, type: 'file', mode: 0o644, mtime: 0, size: 0 });
          await w.finalize();
        } catch {
          // the request was cut off
        }
      })();
      return w.stream;
    };
    const s1 = flood();
    await expectRefused('load entry flood', await load(s1), /more than 2000 entries/);
    s1.destroy();
    assert.ok(produced < total, `the daemon stopped reading early (${produced} of ${total} entries produced)`);

    produced = 0;
    // Import stores the layer before unpacking it: a flood within the byte limit is cut off at apply.
    const few = await makeTar(Array.from({ length: MAX_ENTRIES + 500 }, (_, i) => ({ name: `f${i}`, type: 'file' as const, body: '' })));
    await expectRefused('import entry flood', await imp(few), /more than 2000 entries/);
  });

  it('garbage bodies: not a tar, truncated tar, empty body', async () => {
    await expectRefused('load not a tar', await load(Buffer.from('hello, this is not a tar archive at all'.repeat(20))), /tar|archive/i);
    const good = await makeTar([{ name: 'f', type: 'file', body: 'x'.repeat(5000) }]);
    await expectRefused('import truncated', await imp(good.subarray(0, 1500)), /tar|unexpected end|truncated/i);
    await expectRefused('load empty', await load(Buffer.alloc(0)), /manifest\.json|archive/);
    // The daemon's own files stay root-only.
    assert.equal(lstatSync(d.dataRoot).mode & 0o077, 0o011);
  });
});

function spawnHelp(): string {
  // petid --help prints usage and exits.
  return execFileSync(process.execPath, [PETID, '--help']).toString();
}
