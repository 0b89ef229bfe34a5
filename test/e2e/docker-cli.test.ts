/**
 * The real docker CLI (28.2) driving petid through every image/system verb of the foundation. Each check reads the
 * CLI's own output, so a wrong field name or type in a daemon answer shows up as a broken table or an error.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, makeBusybox, type TestDaemon, type RunResult } from '../helpers/daemon.js';
import { makeTar } from '../helpers/tars.js';
import { readTar } from '../../src/lib/tar/index.js';
import { readAll } from '../../src/client/index.js';

interface Inspect {
  Id: string; RepoTags: string[]; Comment: string;
  Config: { Cmd: string[] | null; Env: string[] | null };
  RootFS: { Type: string; Layers: string[] };
}

const ID = /^sha256:[a-f0-9]{64}$/;

describe('docker CLI against petid', () => {
  let d: TestDaemon;
  let busyboxId = '';
  let importedId = '';
  let stdinId = '';
  let rootfs: Buffer;
  /** Run docker and insist on success, returning stdout. */
  const ok = (args: string[], input?: string | Buffer): string => {
    const r = d.docker(args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  };
  const fail = (args: string[]): RunResult => {
    const r = d.docker(args);
    assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail:\n${r.stdout}`);
    return r;
  };
  const inspect = (ref: string): Inspect => {
    const arr = JSON.parse(ok(['image', 'inspect', ref])) as Inspect[];
    assert.equal(arr.length, 1);
    return arr[0]!;
  };
  /** Table rows (header dropped) split on runs of 2+ spaces, as the CLI's tabwriter pads columns. */
  const rows = (out: string): string[][] => out.trimEnd().split('\n').slice(1).map((l) => l.trim().split(/\s{2,}/));

  before(async () => {
    d = await startDaemon();
    makeBusybox(d);
    rootfs = await makeTar([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/motd', type: 'file', body: 'docker cli import\n' },
      { name: 'bin/', type: 'dir' },
      { name: 'bin/tool', type: 'file', body: '#!/bin/sh\necho tool\n', mode: 0o755 },
    ]);
  });
  after(async () => { await d?.cleanup(); });

  it('docker version shows the Peti server with API 1.50', () => {
    const out = ok(['version']);
    const server = out.slice(out.indexOf('Server:'));
    assert.match(server, /Server: Peti/);
    assert.match(server, /API version:\s+1\.50 \(minimum version 1\.24\)/);
    assert.match(server, /Version:\s+\d+\.\d+\.\d+/);
    assert.match(server, /OS\/Arch:\s+linux\//);
    const fmt = ok(['version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}}']).trim();
    assert.equal(fmt, '1.50 1.50');
  });

  it('docker info shows the image count and storage driver', () => {
    const out = ok(['info']);
    assert.match(out, /^ Images: 1$/m);
    assert.match(out, /Storage Driver: overlayfs/);
    assert.match(out, /Docker Root Dir: .*\/data$/m);
    assert.equal(ok(['info', '--format', '{{.Images}} {{.OSType}}']).trim(), '1 linux');
    busyboxId = inspect('busybox').Id;
    assert.match(busyboxId, ID);
  });

  it('docker import from a file with -c and -m, and from stdin', () => {
    const file = join(d.dir, 'rootfs.tar');
    writeFileSync(file, rootfs);
    importedId = ok(['import', '-c', 'CMD ["sh"]', '-c', 'ENV A=1', '-m', 'imported by test', file, 'cli/imported:v1']).trim();
    assert.match(importedId, ID);
    const img = inspect('cli/imported:v1');
    assert.equal(img.Id, importedId);
    assert.deepEqual(img.Config.Cmd, ['sh']);
    assert.deepEqual(img.Config.Env, ['A=1']);
    assert.equal(img.Comment, 'imported by test');
    assert.deepEqual(img.RepoTags, ['cli/imported:v1']);
    assert.equal(img.RootFS.Layers.length, 1);

    stdinId = ok(['import', '-', 'cli/stdin:latest'], rootfs).trim();
    assert.match(stdinId, ID);
    const s = inspect('cli/stdin');
    assert.equal(s.Config.Cmd, null);
    // Same rootfs bytes: the same layer, a different config (no changes, other comment/time).
    assert.deepEqual(s.RootFS.Layers, img.RootFS.Layers);
    assert.notEqual(stdinId, importedId);
    // Without a reference the image is dangling.
    const dangling = ok(['import', '-'], rootfs).trim();
    assert.match(dangling, ID);
  });

  it('docker images: table, -a, -q, filters, --digests, --no-trunc, --format', () => {
    const table = ok(['images']);
    assert.match(table.split('\n')[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    const r = rows(table);
    const byRepo = new Map(r.map((x) => [`${x[0]}:${x[1]}`, x]));
    assert.ok(byRepo.has('busybox:latest'));
    assert.ok(byRepo.has('cli/imported:v1'));
    assert.ok(byRepo.has('cli/stdin:latest'));
    assert.ok(byRepo.has('<none>:<none>'), 'dangling import listed');
    assert.equal(byRepo.get('busybox:latest')![2], busyboxId.slice(7, 19));
    assert.match(byRepo.get('busybox:latest')![4]!, /^\d+(\.\d+)?MB$/);
    assert.equal(rows(ok(['images', '-a'])).length, 4);

    const q = ok(['images', '-q']).trim().split('\n');
    assert.equal(q.length, 4);
    for (const id of q) assert.match(id, /^[a-f0-9]{12}$/);
    assert.ok(q.includes(importedId.slice(7, 19)));

    assert.deepEqual(ok(['images', '--filter', 'reference=cli/*', '--format', '{{.Repository}}:{{.Tag}}']).trim().split('\n').sort(),
      ['cli/imported:v1', 'cli/stdin:latest']);
    assert.equal(ok(['images', '--filter', 'reference=busybox', '-q']).trim(), busyboxId.slice(7, 19));
    const dang = ok(['images', '--filter', 'dangling=true', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).trim().split('\n');
    assert.equal(dang.length, 1);
    assert.match(dang[0]!, /^<none>:<none> [a-f0-9]{12}$/);

    const dig = ok(['images', '--digests', 'busybox']);
    assert.match(dig.split('\n')[0]!, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/);
    assert.equal(rows(dig)[0]![2], '<none>');

    const full = ok(['images', '--no-trunc', 'busybox']);
    assert.equal(rows(full)[0]![2], busyboxId);

    const json = ok(['images', '--format', 'json']).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const bb = json.find((j) => j.Repository === 'busybox')!;
    assert.equal(bb.Tag, 'latest');
    assert.equal(bb.ID, busyboxId.slice(7, 19));
    assert.match(bb.Size!, /MB$/);
    assert.match(bb.CreatedAt!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+$/);
  });

  it('docker image inspect: JSON by default and --format templates', () => {
    assert.equal(ok(['image', 'inspect', '--format', '{{.Config.Cmd}}', 'cli/imported:v1']).trim(), '[sh]');
    assert.equal(ok(['image', 'inspect', '--format', '{{json .Config.Env}}', 'cli/imported:v1']).trim(), '["A=1"]');
    assert.equal(ok(['image', 'inspect', '--format', '{{.Id}} {{.Os}} {{index .RepoTags 0}}', importedId.slice(7, 19)]).trim(), `${importedId} linux cli/imported:v1`);
    const two = JSON.parse(ok(['image', 'inspect', 'busybox', 'cli/stdin'])) as Inspect[];
    assert.deepEqual(two.map((i) => i.Id), [busyboxId, stdinId]);
    assert.equal(two[0]!.RootFS.Type, 'layers');
    const miss = fail(['image', 'inspect', 'no-such-image-here']);
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /No such image: no-such-image-here/);
  });

  it('docker history: table, --no-trunc and -q', () => {
    const h = ok(['history', 'cli/imported:v1']);
    assert.match(h.split('\n')[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(h, new RegExp(`^${importedId.slice(7, 19)}\\s+.*ago\\s+.*B\\s+imported by test\\s*$`, 'm'));
    assert.match(ok(['history', '--no-trunc', 'cli/imported:v1']), new RegExp(`^${importedId}\\s`, 'm'));
    assert.deepEqual(ok(['history', '-q', 'cli/imported:v1']).trim().split('\n'), [importedId.slice(7, 19)]);
  });

  it('docker tag and docker rmi: untag vs delete, -f, missing image', () => {
    ok(['tag', 'cli/imported:v1', 'cli/imported:v2']);
    ok(['tag', importedId.slice(7, 19), 'localhost:5000/team/imp']);
    assert.deepEqual(inspect('cli/imported:v2').RepoTags.sort(), ['cli/imported:v1', 'cli/imported:v2', 'localhost:5000/team/imp:latest']);
    // One of several tags: untag only.
    assert.equal(ok(['rmi', 'cli/imported:v2']).trim(), 'Untagged: cli/imported:v2');
    // By ID with two tags left: refused without -f.
    const refused = fail(['rmi', importedId.slice(7, 19)]);
    assert.match(refused.stderr, /must be forced/);
    // -f by ID: all tags go, then the image.
    const forced = ok(['rmi', '-f', importedId.slice(7, 19)]).trim().split('\n');
    assert.deepEqual(forced.slice(0, -1).sort(), ['Untagged: cli/imported:v1', 'Untagged: localhost:5000/team/imp:latest']);
    assert.equal(forced.at(-1), `Deleted: ${importedId}`);
    // The last tag: untag and delete.
    ok(['tag', 'cli/stdin', 'cli/last:1']);
    ok(['rmi', 'cli/stdin']);
    assert.deepEqual(ok(['rmi', 'cli/last:1']).trim().split('\n'), ['Untagged: cli/last:1', `Deleted: ${stdinId}`]);
    const missing = fail(['rmi', 'does-not-exist:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error response from daemon: No such image: does-not-exist:1/);
  });

  it('docker save (-o and stdout) and docker load (-i and stdin) round trip', async () => {
    ok(['import', '-c', 'CMD ["sh"]', '-', 'cli/saved:1'], rootfs);
    const before = [inspect('busybox'), inspect('cli/saved:1')];
    const file = join(d.dir, 'saved.tar');
    assert.equal(ok(['save', '-o', file, 'busybox', 'cli/saved:1']), '');
    const viaFile = readFileSync(file);
    const viaStdout = Buffer.from(spawnStdout(d, ['save', 'busybox', 'cli/saved:1']));
    const membersOf = async (b: Buffer): Promise<string[]> => {
      const n: string[] = [];
      for await (const e of readTar([b])) { n.push(e.header.name); await readAll(e.body); }
      return n.sort();
    };
    const names = await membersOf(viaFile);
    assert.deepEqual(await membersOf(viaStdout), names);
    for (const m of ['manifest.json', 'index.json', 'oci-layout']) assert.ok(names.includes(m), m);
    for (const img of before) for (const l of img.RootFS.Layers) assert.ok(names.includes(`blobs/sha256/${l.slice(7)}`), `layer ${l} saved uncompressed under its diff ID`);

    ok(['rmi', 'busybox', 'cli/saved:1']);
    assert.equal(rows(ok(['images', '--filter', 'reference=busybox'])).length, 0);
    const loaded = ok(['load', '-i', file]).trim().split('\n').sort();
    assert.deepEqual(loaded, ['Loaded image: busybox:latest', 'Loaded image: cli/saved:1']);
    const afterFile = [inspect('busybox'), inspect('cli/saved:1')];
    assert.deepEqual(afterFile.map((i) => [i.Id, i.RootFS.Layers]), before.map((i) => [i.Id, i.RootFS.Layers]));

    ok(['rmi', 'busybox', 'cli/saved:1']);
    const viaStdin = ok(['load'], viaStdout).trim().split('\n').sort();
    assert.deepEqual(viaStdin, ['Loaded image: busybox:latest', 'Loaded image: cli/saved:1']);
    const afterStdin = [inspect('busybox'), inspect('cli/saved:1')];
    assert.deepEqual(afterStdin.map((i) => [i.Id, i.RootFS.Layers]), before.map((i) => [i.Id, i.RootFS.Layers]));
    assert.equal(ok(['load', '-q', '-i', file]).trim().split('\n').sort().join('\n'), 'Loaded image: busybox:latest\nLoaded image: cli/saved:1');
  });

  it('docker system df and -v', () => {
    const df = ok(['system', 'df']);
    assert.match(df.split('\n')[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    const images = rows(df).find((r) => r[0] === 'Images')!;
    const total = Number(images[1]);
    assert.equal(total, rows(ok(['images', '-a'])).length);
    assert.equal(images[2], '0');
    assert.match(images[3]!, /MB$/);
    assert.match(images[4]!, /\(100%\)$/);
    const v = ok(['system', 'df', '-v']);
    assert.match(v, /^Images space usage:$/m);
    assert.match(v, /REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS/);
    assert.match(v, new RegExp(`^busybox\\s+latest\\s+${busyboxId.slice(7, 19)}\\s+.*\\s+0$`, 'm'));
    // busybox and cli/saved:1 share nothing; the two stdin imports of one rootfs did (gone now).
    assert.match(v, /Build cache usage: 0B/);
    assert.equal(ok(['system', 'df', '--format', '{{.Type}} {{.TotalCount}}']).trim().split('\n')[0], `Images ${total}`);
  });

  it('docker image prune -f removes dangling images, -a unused tagged ones', () => {
    const dangling = ok(['images', '-q', '--filter', 'dangling=true', '--no-trunc']).trim().split('\n').filter(Boolean);
    assert.equal(dangling.length, 1);
    const p = ok(['image', 'prune', '-f']);
    assert.match(p, /^Deleted Images:$/m);
    assert.match(p, new RegExp(`^deleted: ${dangling[0]}$`, 'm'));
    assert.match(p, /^Total reclaimed space: \d+(\.\d+)?k?B$/m);
    assert.equal(ok(['images', '-q', '--filter', 'dangling=true']).trim(), '');
    assert.match(ok(['image', 'prune', '-f']), /^Total reclaimed space: 0B$/m);
    ok(['tag', 'busybox', 'keep:me']);
    const all = ok(['image', 'prune', '-a', '-f']);
    assert.match(all, /^untagged: busybox:latest$/m);
    assert.match(all, /^untagged: keep:me$/m);
    assert.match(all, /^untagged: cli\/saved:1$/m);
    assert.match(all, new RegExp(`^deleted: ${busyboxId}$`, 'm'));
    assert.match(all, /^Total reclaimed space: \d+(\.\d+)?MB$/m);
    assert.equal(ok(['images', '-aq']).trim(), '');
    assert.match(ok(['info']), /^ Images: 0$/m);
  });

  it('docker events --since/--until with filters, text and json formats', () => {
    makeBusybox(d);
    const id = inspect('busybox').Id;
    const since = (Date.now() / 1000).toFixed(9);
    ok(['tag', 'busybox', 'evt:one']);
    ok(['tag', 'busybox', 'evt:two']);
    ok(['rmi', 'evt:one']);
    // Two tags left: -f by name still only untags; the last tag deletes.
    assert.equal(ok(['rmi', '-f', 'busybox']).trim(), 'Untagged: busybox:latest');
    ok(['rmi', 'evt:two']);
    const until = (Date.now() / 1000 + 0.5).toFixed(9);
    const text = ok(['events', '--since', since, '--until', until, '--filter', 'type=image']).trim().split('\n');
    const line = (action: string, name: string): RegExp =>
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) image ${action} ${id} \\(name=${name}\\)$`);
    assert.ok(text.some((l) => line('tag', 'evt:one').test(l)), text.join('\n'));
    assert.ok(text.some((l) => line('tag', 'evt:two').test(l)), text.join('\n'));
    assert.ok(text.some((l) => line('untag', 'evt:one').test(l)), text.join('\n'));
    assert.ok(text.some((l) => line('untag', 'busybox:latest').test(l)), text.join('\n'));
    assert.ok(text.some((l) => line('untag', 'evt:two').test(l)), text.join('\n'));
    assert.ok(text.some((l) => line('delete', id).test(l)), text.join('\n'));
    assert.ok(!text.some((l) => / image import /.test(l)), 'busybox was imported before --since');
    // Events come in time order.
    const times = text.map((l) => l.split(' ')[0]!);
    assert.deepEqual([...times].sort(), times);

    const tags = ok(['events', '--since', since, '--until', until, '--filter', 'type=image', '--filter', 'event=tag']).trim().split('\n');
    assert.equal(tags.length, 2, tags.join('\n'));
    assert.ok(tags.every((l) => / image tag /.test(l)));

    const js = ok(['events', '--since', since, '--until', until, '--filter', 'event=untag', '--format', '{{json .}}']).trim().split('\n')
      .map((l) => JSON.parse(l) as { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; status: string; id: string; time: number; timeNano: number; scope: string });
    assert.deepEqual(js.map((e) => e.Actor.Attributes.name), ['evt:one', 'busybox:latest', 'evt:two']);
    for (const e of js) {
      assert.equal(e.Type, 'image');
      assert.equal(e.Action, 'untag');
      assert.equal(e.status, 'untag');
      assert.equal(e.Actor.ID, id);
      assert.equal(e.id, id);
      assert.equal(e.scope, 'local');
      assert.equal(Math.floor(e.timeNano / 1e9), e.time);
    }
    const tmpl = ok(['events', '--since', since, '--until', until, '--filter', 'event=delete', '--format', '{{.Type}}/{{.Action}}/{{.Actor.ID}}']).trim();
    assert.equal(tmpl, `image/delete/${id}`);
  });
});

/** docker save to stdout, binary-safe. */
function spawnStdout(d: TestDaemon, args: string[]): Buffer {
  const r = spawnSyncDocker(d, args);
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

function spawnSyncDocker(d: TestDaemon, args: string[]): { status: number | null; stdout: Buffer; stderr: Buffer } {
  return spawnSync('docker', args, { env: { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') }, maxBuffer: 512 * 1024 * 1024 });
}
