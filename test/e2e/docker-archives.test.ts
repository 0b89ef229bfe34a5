/**
 * Archives made by a real Docker 20.10 (`docker save`, the pre-25 layout; see test/fixtures/README.md) loaded into
 * petid by the real docker CLI and by the API: IDs, tags, diff IDs and config match what Docker reported, the
 * unpacked layers hold the symlink, the long name and the modes, and a save from petid loads into a fresh petid
 * with identical IDs and layer digests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { readTar } from '../../src/lib/tar/index.js';
import { readAll } from '../../src/client/index.js';

const FIX = join(REPO, 'test/fixtures');

interface Facts {
  archives: Record<string, { sha256: string; images: string[] }>;
  images: { Id: string; RepoTags: string[]; RootFS: { Type: string; Layers: string[] }; Config: { Cmd: string[] | null; Env: string[] | null; WorkingDir: string; Labels: Record<string, string> | null } }[];
}

interface Inspect {
  Id: string; RepoTags: string[]; Created: string;
  Config: { Cmd: string[] | null; Env: string[] | null; WorkingDir: string; Labels: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  GraphDriver: { Name: string; Data: { LowerDir: string } };
}

const facts = JSON.parse(readFileSync(join(FIX, 'docker20-save.json'), 'utf8')) as Facts;
const fixture = facts.images.find((i) => i.RepoTags.includes('peti-fixture:v1'))!;
const imported = facts.images.find((i) => i.RepoTags.includes('peti-fixture-import:latest'))!;
const LONG = `${'a'.repeat(60)}_${'b'.repeat(60)}_long-file-name.txt`;

function dockerOk(d: TestDaemon, args: string[], input?: Buffer): string {
  const r = d.docker(args, input ? { input } : {});
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function inspect(d: TestDaemon, ref: string): Inspect {
  return (JSON.parse(dockerOk(d, ['image', 'inspect', ref])) as Inspect[])[0]!;
}

/** The image's config as Docker reported it, for the fields the facts hold. */
function assertMatchesFacts(img: Inspect, want: Facts['images'][number]): void {
  assert.equal(img.Id, want.Id);
  assert.deepEqual([...img.RepoTags].sort(), [...want.RepoTags].sort());
  assert.deepEqual(img.RootFS, want.RootFS);
  assert.deepEqual(img.Config.Cmd, want.Config.Cmd);
  assert.deepEqual(img.Config.Env, want.Config.Env);
  assert.equal(img.Config.WorkingDir, want.Config.WorkingDir);
  assert.deepEqual(img.Config.Labels, want.Config.Labels);
}

/** Resolve a path in the image as overlayfs would: the first lower dir (top layer first) that has it. */
function inImage(img: Inspect, rel: string): string {
  const lowers = img.GraphDriver.Data.LowerDir.split(':');
  assert.equal(lowers.length, img.RootFS.Layers.length, 'one lower dir per layer');
  for (const l of lowers) {
    const p = join(l, rel);
    try {
      lstatSync(p);
      return p;
    } catch {
      // not in this layer
    }
  }
  assert.fail(`${rel} is in no layer of ${img.Id}`);
}

function assertFixtureFiles(d: TestDaemon, img: Inspect): void {
  assert.equal(img.GraphDriver.Name, 'overlayfs');
  for (const l of img.GraphDriver.Data.LowerDir.split(':')) {
    assert.ok(l.startsWith(join(d.dataRoot, 'snapshots') + '/'), `${l} is under the data root`);
    assert.match(l, /\/snapshots\/\d+\/fs$/);
  }
  const link = inImage(img, 'etc/greeting-link');
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readlinkSync(link), 'greeting.txt');
  assert.equal(readFileSync(inImage(img, 'etc/greeting.txt'), 'utf8'), 'greeting v2 (replaced in layer 3)\n', 'top layer wins');
  const long = inImage(img, `data/${LONG}`);
  assert.equal(LONG.length + 'data/'.length, 145);
  assert.equal(readFileSync(long, 'utf8'), 'long name\n');
  const hello = lstatSync(inImage(img, 'hello'));
  assert.ok(hello.isFile());
  assert.equal(hello.mode & 0o7777, 0o755);
  assert.equal(hello.uid, 0);
  assert.equal(readFileSync(inImage(img, 'hello'), 'utf8'), '#!/bin/sh\necho hello from peti fixture\n');
  // The classic builder's chown cleared setuid (see the fixture README).
  assert.equal(lstatSync(inImage(img, 'bin/suid-tool')).mode & 0o7777, 0o755);
  assert.ok(lstatSync(inImage(img, 'empty-dir')).isDirectory());
  assert.equal(readFileSync(inImage(img, 'opt/extra.txt'), 'utf8'), 'extra layer two\n');
  assert.equal(readFileSync(inImage(img, 'srv/index.txt'), 'utf8'), 'served\n');
}

function assertImportFiles(img: Inspect): void {
  const suid = lstatSync(inImage(img, 'bin/suid-tool'));
  assert.equal(suid.mode & 0o7777, 0o4755, 'setuid kept');
  assert.equal(suid.uid, 0);
  const tmp = lstatSync(inImage(img, 'tmp'));
  assert.ok(tmp.isDirectory());
  assert.equal(tmp.mode & 0o7777, 0o1777, 'sticky, world-writable /tmp');
  const sh = lstatSync(inImage(img, 'bin/sh'));
  assert.equal(sh.mode & 0o7777, 0o755);
  assert.equal(readFileSync(inImage(img, 'etc/os-release'), 'utf8'), 'tiny imported rootfs\n');
  assert.equal(Math.floor(lstatSync(inImage(img, 'etc/os-release')).mtimeMs / 1000), Date.parse('2024-01-01T00:00:00Z') / 1000, 'mtime kept');
}

describe('Docker 20.10 archives', () => {
  const daemons: TestDaemon[] = [];
  let a: TestDaemon;
  const fresh = async (): Promise<TestDaemon> => {
    const d = await startDaemon();
    daemons.push(d);
    return d;
  };
  before(async () => {
    for (const [name, want] of Object.entries(facts.archives)) {
      assert.equal(createHash('sha256').update(readFileSync(join(FIX, name))).digest('hex'), want.sha256, `${name} is the fixture the facts describe`);
    }
    a = await fresh();
  });
  after(async () => {
    for (const d of daemons) await d.cleanup();
  });

  it('docker load -i docker20-save.tar: IDs, tags, diff IDs and config as Docker reported', () => {
    const out = dockerOk(a, ['load', '-i', join(FIX, 'docker20-save.tar')]).trim().split('\n').sort();
    assert.deepEqual(out, ['Loaded image: example.com:5000/team/peti-fixture:v1', 'Loaded image: peti-fixture-import:latest', 'Loaded image: peti-fixture:v1']);
    assertMatchesFacts(inspect(a, 'peti-fixture:v1'), fixture);
    assertMatchesFacts(inspect(a, 'example.com:5000/team/peti-fixture:v1'), fixture);
    assertMatchesFacts(inspect(a, 'peti-fixture-import'), imported);
    const rows = dockerOk(a, ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).trim().split('\n').sort();
    assert.deepEqual(rows, [
      `example.com:5000/team/peti-fixture:v1 ${fixture.Id.slice(7, 19)}`,
      `peti-fixture-import:latest ${imported.Id.slice(7, 19)}`,
      `peti-fixture:v1 ${fixture.Id.slice(7, 19)}`,
    ]);
    // The ENV/LABEL/WORKDIR/CMD steps are empty-layer history entries.
    const hist = dockerOk(a, ['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}', 'peti-fixture:v1']).trim().split('\n');
    assert.equal(hist.length, 7);
    assert.ok(hist[0]!.startsWith(`${fixture.Id}|`));
    assert.ok(hist.slice(1).every((h) => h.startsWith('<missing>|')));
    assert.match(hist[0]!, /CMD \["\/hello"\]/);
    assert.match(hist.at(-1)!, /COPY dir:[a-f0-9]+ in \//);
  });

  it('the unpacked layers hold the symlink, the long name and the file modes', () => {
    assertFixtureFiles(a, inspect(a, 'peti-fixture:v1'));
    assertImportFiles(inspect(a, 'peti-fixture-import:latest'));
  });

  it('loading the same archive again is a no-op for storage', () => {
    const snaps = (): number => inspect(a, 'peti-fixture:v1').GraphDriver.Data.LowerDir.split(':').length;
    const before = inspect(a, 'peti-fixture:v1');
    dockerOk(a, ['load', '-q', '-i', join(FIX, 'docker20-single.tar')]);
    const again = inspect(a, 'peti-fixture:v1');
    assert.equal(again.Id, before.Id);
    assert.equal(again.GraphDriver.Data.LowerDir, before.GraphDriver.Data.LowerDir, 'layers reused, not unpacked twice');
    assert.equal(snaps(), 3);
  });

  it('POST /images/load of docker20-single.tar into a fresh daemon', async () => {
    const b = await fresh();
    const res = await b.client.send('POST', '/images/load', { raw: readFileSync(join(FIX, 'docker20-single.tar')), query: { quiet: '0' } });
    const lines: string[] = [];
    for await (const m of b.client.jsonLines<{ stream?: string }>(res)) if (m.stream) lines.push(m.stream);
    assert.deepEqual(lines, ['Loaded image: peti-fixture:v1\n']);
    const img = await b.client.json<Inspect>('GET', '/images/peti-fixture:v1/json');
    assertMatchesFacts(img, { ...fixture, RepoTags: ['peti-fixture:v1'] });
    assertFixtureFiles(b, img);
    const list = await b.client.json<{ Id: string; RepoTags: string[] }[]>('GET', '/images/json');
    assert.deepEqual(list.map((i) => [i.Id, i.RepoTags]), [[fixture.Id, ['peti-fixture:v1']]]);
  });

  it('docker save from petid loads into a second fresh daemon with identical IDs and layer digests', async () => {
    const refs = ['peti-fixture:v1', 'example.com:5000/team/peti-fixture:v1', 'peti-fixture-import:latest'];
    const r = spawnSync('docker', ['save', ...refs], { env: { ...process.env, DOCKER_HOST: a.host, DOCKER_CONFIG: join(a.dir, 'docker-config') }, maxBuffer: 256 * 1024 * 1024 });
    assert.equal(r.status, 0, r.stderr.toString());
    const tar = r.stdout;
    // The saved archive carries each layer under its diff ID (uncompressed, as Docker 25+ saves).
    const members = new Map<string, Buffer>();
    for await (const e of readTar([tar])) members.set(e.header.name, await readAll(e.body));
    for (const l of [...fixture.RootFS.Layers, ...imported.RootFS.Layers]) {
      const blob = members.get(`blobs/sha256/${l.slice(7)}`);
      assert.ok(blob, `layer ${l} in the archive`);
      assert.equal(`sha256:${createHash('sha256').update(blob).digest('hex')}`, l);
    }
    for (const id of [fixture.Id, imported.Id]) assert.ok(members.has(`blobs/sha256/${id.slice(7)}`), `config ${id}`);
    const manifest = JSON.parse(members.get('manifest.json')!.toString()) as { RepoTags: string[] }[];
    assert.deepEqual(manifest.flatMap((m) => m.RepoTags).sort(), [...refs].sort());

    const c = await fresh();
    const out = dockerOk(c, ['load'], tar).trim().split('\n').sort();
    assert.deepEqual(out, refs.map((x) => `Loaded image: ${x}`).sort());
    for (const ref of refs) {
      const was = inspect(a, ref);
      const now = inspect(c, ref);
      assert.equal(now.Id, was.Id, ref);
      assert.deepEqual(now.RootFS, was.RootFS, ref);
      assert.deepEqual(now.Config, was.Config, ref);
      assert.equal(now.Created, was.Created, ref);
    }
    assertMatchesFacts(inspect(c, 'peti-fixture:v1'), fixture);
    assertMatchesFacts(inspect(c, 'peti-fixture-import'), imported);
    assertFixtureFiles(c, inspect(c, 'peti-fixture:v1'));
    assertImportFiles(inspect(c, 'peti-fixture-import'));
    // A second save from the copy is byte-identical for the layers and configs.
    const r2 = spawnSync('docker', ['save', ...refs], { env: { ...process.env, DOCKER_HOST: c.host, DOCKER_CONFIG: join(c.dir, 'docker-config') }, maxBuffer: 256 * 1024 * 1024 });
    assert.equal(r2.status, 0);
    const again = new Map<string, Buffer>();
    for await (const e of readTar([r2.stdout])) again.set(e.header.name, await readAll(e.body));
    for (const [name, body] of members) if (name.startsWith('blobs/')) assert.ok(again.get(name)?.equals(body), name);
    assert.ok(existsSync(c.dataRoot));
  });
});
