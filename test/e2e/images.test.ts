import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startDaemon, makeBusybox, type TestDaemon } from '../helpers/daemon.js';
import { makeTar } from '../helpers/tars.js';
import { readAll } from '../../src/client/index.js';
import { readTar } from '../../src/lib/tar/index.js';

interface Inspect {
  Id: string; RepoTags: string[]; Config: { Cmd: string[] | null; Env: string[] | null; Entrypoint: string[] | null; WorkingDir: string; User: string; Labels: Record<string, string> | null; ExposedPorts?: Record<string, object> };
  RootFS: { Layers: string[] }; Size: number; Os: string; Architecture: string;
}

async function importTar(d: TestDaemon, tar: Buffer, ref: string, changes: string[] = []): Promise<string> {
  const [repo, tag] = ref.split(':');
  const res = await d.client.send('POST', '/images/create', { query: { fromSrc: '-', repo, tag, changes }, raw: tar });
  let id = '';
  for await (const m of d.client.jsonLines<{ status?: string }>(res)) if (m.status?.startsWith('sha256:')) id = m.status;
  return id;
}

function blobCount(d: TestDaemon): number {
  return readdirSync(join(d.dataRoot, 'content/blobs/sha256')).length;
}

function snapshotCount(d: TestDaemon): number {
  return readdirSync(join(d.dataRoot, 'snapshots')).filter((n) => /^\d+$/.test(n)).length;
}

describe('images', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('imports a rootfs tar with changes, visible in inspect and list', async () => {
    const tar = await makeTar([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/hello', type: 'file', body: 'hello\n' },
      { name: 'bin/', type: 'dir' },
    ]);
    const id = await importTar(d, gzipSync(tar), 'example/app:1', [
      'CMD ["/bin/app", "--serve"]', 'ENV A=1 B=2', 'ENTRYPOINT ["/init"]', 'WORKDIR /srv', 'EXPOSE 8080', 'LABEL team=core', 'USER 1000:1000',
    ]);
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const img = await d.client.json<Inspect>('GET', '/images/example/app:1/json');
    assert.equal(img.Id, id);
    assert.deepEqual(img.RepoTags, ['example/app:1']);
    assert.deepEqual(img.Config.Cmd, ['/bin/app', '--serve']);
    assert.deepEqual(img.Config.Entrypoint, ['/init']);
    assert.deepEqual(img.Config.Env, ['A=1', 'B=2']);
    assert.equal(img.Config.WorkingDir, '/srv');
    assert.equal(img.Config.User, '1000:1000');
    assert.deepEqual(img.Config.Labels, { team: 'core' });
    assert.deepEqual(Object.keys(img.Config.ExposedPorts ?? {}), ['8080/tcp']);
    assert.equal(img.RootFS.Layers.length, 1);
    assert.equal(img.Os, 'linux');
    // The same image by full name, short ID and full ID.
    for (const n of ['docker.io/example/app:1', id.slice(7, 19), id]) {
      const again = await d.client.json<Inspect>('GET', `/images/${n}/json`);
      assert.equal(again.Id, id);
    }
  });

  it('lists with filters: reference, dangling, label, before/since', async () => {
    const names = async (filters: object): Promise<string[]> => {
      const l = await d.client.json<{ RepoTags: string[] }[]>('GET', '/images/json', { query: { filters: JSON.stringify(filters) } });
      return l.flatMap((i) => i.RepoTags).sort();
    };
    assert.deepEqual(await names({ reference: { 'example/*': true } }), ['example/app:1']);
    assert.deepEqual(await names({ reference: { busybox: true } }), ['busybox:latest']);
    assert.deepEqual(await names({ label: { 'team=core': true } }), ['example/app:1']);
    assert.deepEqual(await names({ since: { 'busybox:latest': true } }), ['example/app:1']);
    assert.deepEqual(await names({ before: { 'example/app:1': true } }), ['busybox:latest']);
    assert.deepEqual(await names({ dangling: { true: true } }), []);
    const bad = await d.client.json('GET', '/images/json', { query: { filters: '{"nope":{"x":true}}' } }).catch((e: Error) => e);
    assert.ok(bad instanceof Error && /invalid filter/.test(bad.message));
  });

  it('tags, untags one of several tags, refuses ambiguous deletes, deletes and frees storage', async () => {
    const blobsBefore = blobCount(d);
    const snapsBefore = snapshotCount(d);
    const tar = await makeTar([{ name: 'x', type: 'file', body: 'unique content for deletion test' }]);
    const id = await importTar(d, tar, 'deleteme:a');
    assert.ok(blobCount(d) > blobsBefore);
    await d.client.send('POST', '/images/deleteme:a/tag', { query: { repo: 'localhost:5000/deleteme', tag: 'b' } });
    let img = await d.client.json<Inspect>('GET', `/images/${id}/json`);
    assert.deepEqual(img.RepoTags.sort(), ['deleteme:a', 'localhost:5000/deleteme:b']);
    const byId = await d.client.json('DELETE', `/images/${id}`).catch((e: Error) => e);
    assert.ok(byId instanceof Error && /must be forced/.test(byId.message), String(byId));
    const untag = await d.client.json<object[]>('DELETE', '/images/deleteme:a');
    assert.deepEqual(untag, [{ Untagged: 'deleteme:a' }]);
    img = await d.client.json<Inspect>('GET', `/images/${id}/json`);
    assert.deepEqual(img.RepoTags, ['localhost:5000/deleteme:b']);
    const del = await d.client.json<{ Untagged?: string; Deleted?: string }[]>('DELETE', '/images/localhost:5000/deleteme:b');
    assert.deepEqual(del, [{ Untagged: 'localhost:5000/deleteme:b' }, { Deleted: id }]);
    const gone = await d.client.json('GET', `/images/${id}/json`).catch((e: Error) => e);
    assert.ok(gone instanceof Error && gone.message === `No such image: ${id}`);
    assert.equal(blobCount(d), blobsBefore, 'blobs freed');
    assert.equal(snapshotCount(d), snapsBefore, 'unpacked layer freed');
  });

  it('keeps a layer shared by two images until both are gone', async () => {
    const tar = await makeTar([{ name: 'shared', type: 'file', body: 'same bytes' }]);
    await importTar(d, tar, 'share:one');
    const snaps1 = snapshotCount(d);
    await importTar(d, tar, 'share:two', ['CMD ["x"]']);
    assert.equal(snapshotCount(d), snaps1, 'second import reuses the unpacked layer');
    await d.client.json('DELETE', '/images/share:one');
    assert.equal(snapshotCount(d), snaps1);
    await d.client.json('DELETE', '/images/share:two');
    assert.equal(snapshotCount(d), snaps1 - 1);
  });

  it('shows history', async () => {
    const h = await d.client.json<{ Id: string; Comment: string; Tags: string[] | null; Size: number }[]>('GET', '/images/busybox/history');
    assert.equal(h.length, 1);
    assert.match(h[0]!.Id, /^sha256:/);
    assert.deepEqual(h[0]!.Tags, ['busybox:latest']);
    assert.equal(h[0]!.Comment, 'Imported from -');
    assert.ok(h[0]!.Size > 500_000);
  });

  it('saves the Docker 25+ layout and loads it back with identical IDs and layer digests', async () => {
    const before = await d.client.json<Inspect>('GET', '/images/busybox/json');
    const res = await d.client.send('GET', '/images/get', { query: { names: ['busybox', 'example/app:1'] } });
    const tar = await readAll(res);
    const names: string[] = [];
    const files = new Map<string, Buffer>();
    for await (const e of readTar([tar])) {
      names.push(e.header.name);
      if (['manifest.json', 'index.json', 'oci-layout', 'repositories'].includes(e.header.name)) files.set(e.header.name, await readAll(e.body));
    }
    for (const n of ['manifest.json', 'index.json', 'oci-layout', 'repositories']) assert.ok(files.has(n), n);
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(manifest.map((m) => m.RepoTags).flat().sort(), ['busybox:latest', 'example/app:1']);
    for (const m of manifest) for (const p of [m.Config, ...m.Layers]) assert.ok(names.includes(p), p);
    const index = JSON.parse(files.get('index.json')!.toString()) as { manifests: { annotations: Record<string, string> }[] };
    assert.ok(index.manifests.some((m) => m.annotations['io.containerd.image.name'] === 'docker.io/library/busybox:latest'));

    await d.client.json('DELETE', '/images/busybox');
    await d.client.json('DELETE', '/images/example/app:1');
    const load = await d.client.send('POST', '/images/load', { raw: tar });
    const lines: string[] = [];
    for await (const m of d.client.jsonLines<{ stream?: string }>(load)) if (m.stream) lines.push(m.stream.trim());
    assert.deepEqual(lines.sort(), ['Loaded image: busybox:latest', 'Loaded image: example/app:1']);
    const after = await d.client.json<Inspect>('GET', '/images/busybox/json');
    assert.equal(after.Id, before.Id);
    assert.deepEqual(after.RootFS.Layers, before.RootFS.Layers);
  });

  it('loads a plain OCI layout tar', async () => {
    const res = await d.client.send('GET', '/images/busybox/get');
    const tar = await readAll(res);
    // Keep only the OCI layout members: no manifest.json, no repositories.
    const members = [];
    for await (const e of readTar([tar])) {
      if (e.header.name === 'manifest.json' || e.header.name === 'repositories') continue;
      members.push({ name: e.header.name, type: e.header.type as 'file' | 'dir', body: e.header.type === 'file' ? await readAll(e.body) : undefined });
    }
    const oci = await makeTar(members);
    await d.client.json('DELETE', '/images/busybox');
    const load = await d.client.send('POST', '/images/load', { raw: oci });
    const lines: string[] = [];
    for await (const m of d.client.jsonLines<{ stream?: string }>(load)) if (m.stream) lines.push(m.stream.trim());
    assert.deepEqual(lines, ['Loaded image: busybox:latest']);
  });

  it('prunes dangling images, and all unused with dangling=false', async () => {
    const t1 = await makeTar([{ name: 'p1', type: 'file', body: 'prune me 1' }]);
    const id = await importTar(d, t1, 'prune:x');
    const t2 = await makeTar([{ name: 'p2', type: 'file', body: 'prune me 2' }]);
    await importTar(d, t2, 'prune:x'); // moves the tag: the first image becomes dangling
    const dangling = await d.client.json<{ Id: string }[]>('GET', '/images/json', { query: { filters: '{"dangling":{"true":true}}' } });
    assert.deepEqual(dangling.map((i) => i.Id), [id]);
    const r = await d.client.json<{ ImagesDeleted: { Deleted?: string }[]; SpaceReclaimed: number }>('POST', '/images/prune');
    assert.deepEqual(r.ImagesDeleted.filter((x) => x.Deleted).map((x) => x.Deleted), [id]);
    assert.ok(r.SpaceReclaimed > 0);
    const still = await d.client.json<Inspect>('GET', '/images/prune:x/json');
    assert.ok(still.Id);
    const all = await d.client.json<{ ImagesDeleted: { Untagged?: string }[] }>('POST', '/images/prune', { query: { filters: '{"dangling":{"false":true},"label":{"nothing=here":true}}' } });
    assert.deepEqual(all.ImagesDeleted, []);
  });

  it('reports disk usage', async () => {
    const df = await d.client.json<{ LayersSize: number; Images: { Id: string; Size: number; SharedSize: number }[] }>('GET', '/system/df');
    assert.ok(df.LayersSize > 500_000);
    assert.ok(df.Images.length >= 2);
    for (const i of df.Images) assert.ok(i.SharedSize >= 0);
  });

  it('streams events with since/until and filters', async () => {
    const start = Date.now() / 1000;
    await d.client.send('POST', '/images/busybox/tag', { query: { repo: 'evt', tag: 'one' } });
    await d.client.json('DELETE', '/images/evt:one');
    const until = Date.now() / 1000 + 0.2;
    const res = await d.client.send('GET', '/events', { query: { since: start.toFixed(3), until: until.toFixed(3), filters: '{"type":{"image":true},"event":{"tag":true,"untag":true}}' } });
    const evs: { Type: string; Action: string; Actor: { Attributes: Record<string, string> } }[] = [];
    for await (const e of d.client.jsonLines<(typeof evs)[number]>(res)) evs.push(e);
    assert.deepEqual(evs.map((e) => `${e.Type} ${e.Action} ${e.Actor.Attributes.name}`), ['image tag evt:one', 'image untag evt:one']);
    // Live stream: subscribe, then act.
    const live = await d.client.send('GET', '/events', { query: { filters: '{"event":{"tag":true}}' } });
    const got = (async () => {
      for await (const e of d.client.jsonLines<{ Action: string; Actor: { Attributes: Record<string, string> } }>(live)) return e;
      return undefined;
    })();
    await d.client.send('POST', '/images/busybox/tag', { query: { repo: 'evt', tag: 'live' } });
    const e = await got;
    assert.equal(e?.Actor.Attributes.name, 'evt:live');
    live.destroy();
  });

  it('answers Docker error shapes for missing images', async () => {
    for (const [m, p] of [['GET', '/images/nope:1/json'], ['DELETE', '/images/nope:1'], ['GET', '/images/nope:1/history'], ['POST', '/images/nope:1/tag?repo=x']] as const) {
      const e = await d.client.json(m, p).catch((x: Error) => x);
      assert.ok(e instanceof Error && e.message === 'No such image: nope:1', `${m} ${p}: ${String(e)}`);
    }
    const bad = await d.client.json('POST', '/images/busybox/tag', { query: { repo: 'UPPER' } }).catch((x: Error) => x);
    assert.ok(bad instanceof Error && /invalid reference format/.test(bad.message));
  });

  it('the peti CLI prints images, history and inspect as docker does', () => {
    const r = d.peti(['images']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.ok(lines.some((l) => /^busybox\s+latest\s+[a-f0-9]{12}\s+.+ ago\s+\d/.test(l)), r.stdout);
    const q = d.peti(['images', '-q', '--filter', 'reference=busybox']);
    assert.match(q.stdout, /^[a-f0-9]{12}\n$/);
    const f = d.peti(['images', '--format', '{{.Repository}}:{{.Tag}}', 'busybox']);
    assert.equal(f.stdout, 'busybox:latest\n');
    const j = d.peti(['image', 'inspect', '--format', '{{json .Config.Cmd}}', 'busybox']);
    assert.equal(j.stdout, '["sh"]\n');
    const h = d.peti(['history', 'busybox']);
    assert.match(h.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n[a-f0-9]{12}\s/);
    const miss = d.peti(['rmi', 'nope:1']);
    assert.equal(miss.code, 1);
    assert.equal(miss.stderr, 'Error response from daemon: No such image: nope:1\n');
  });

  it('the peti CLI saves, loads, tags, imports and prunes', () => {
    const out = join(d.dir, 'bb.tar');
    assert.equal(d.peti(['save', '-o', out, 'busybox']).code, 0);
    assert.equal(d.peti(['tag', 'busybox', 'cli/bb:1']).code, 0);
    const rm = d.peti(['rmi', 'cli/bb:1']);
    assert.equal(rm.stdout, 'Untagged: cli/bb:1\n');
    const ld = d.peti(['load', '-i', out]);
    assert.equal(ld.code, 0, ld.stderr);
    assert.equal(ld.stdout, 'Loaded image: busybox:latest\n');
    writeFileSync(join(d.dir, 'empty.txt'), '');
    const imp = d.peti(['import', '-c', 'CMD ["true"]', '-', 'cli/imported:v1'], { input: readFileSync(out) });
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /^sha256:[a-f0-9]{64}\n$/);
    const pr = d.peti(['image', 'prune', '-f']);
    assert.equal(pr.code, 0);
    assert.match(pr.stdout, /Total reclaimed space: /);
    const df = d.peti(['system', 'df']);
    assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+\d+/);
  });

  it('keeps serving after many requests in parallel', async () => {
    await Promise.all(Array.from({ length: 50 }, () => d.client.json('GET', '/images/json')));
    const r = await d.client.send('GET', '/_ping');
    assert.equal(r.statusCode, 200);
    r.resume();
  });
});
