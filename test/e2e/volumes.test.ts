/**
 * Volumes against a real petid (DESIGN.md §3-§5): the /volumes API with Docker's shapes, the docker CLI's and the
 * peti CLI's `volume` verbs, `-v`/`--mount`/`--volumes-from` in containers, anonymous volumes (image VOLUME,
 * `-v /path`) and their removal with `rm -v`/`--rm`, seeding of new volumes from the image, tmpfs and bind-device
 * volumes of the local driver, and a hostile image whose symlinks must not lead a mount or the seeding copy out of
 * the rootfs. Every container, volume and mount is cleaned even when a test fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, makeBusybox, type RunResult, type TestDaemon } from '../helpers/daemon.js';
import { removeAll } from '../helpers/containers.js';
import { makeTar, type Member } from '../helpers/tars.js';

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const mountsUnder = (dir: string): string[] =>
  readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir + '/'));

function busyboxMembers(): Member[] {
  const link = (n: string, linkname: string): Member => ({ name: n, type: 'symlink', linkname });
  return [
    { name: 'bin/', type: 'dir' },
    { name: 'bin/busybox', type: 'file', mode: 0o755, body: readFileSync(existsSync('/bin/busybox') ? '/bin/busybox' : '/usr/bin/busybox') },
    ...['sh', 'ls', 'cat', 'readlink', 'touch', 'true', 'echo'].map((a) => link(`bin/${a}`, 'busybox')),
  ];
}

describe('volumes', () => {
  let d: TestDaemon;
  let vols: string;
  const tag = randomBytes(4).toString('hex');
  const name = (n: string): string => `${n}-${tag}`;

  before(async () => {
    d = await startDaemon();
    vols = join(d.dataRoot, 'volumes');
    makeBusybox(d);
  });
  after(async () => {
    if (!d) return;
    await removeAll(d);
    const list = await d.client.json<{ Volumes: { Name: string }[] }>('GET', '/volumes').catch(() => ({ Volumes: [] }));
    for (const v of list.Volumes) await d.client.send('DELETE', `/volumes/${v.Name}`, { query: { force: '1' } }).then((r) => r.resume(), () => undefined);
    const left = mountsUnder(vols);
    await d.cleanup();
    assert.deepEqual(left, [], 'volume mounts left behind');
  });

  it('API: create (idempotent), inspect, list with filters, remove, prune; Docker errors', async () => {
    const c = d.client;
    const v = await c.json<Record<string, unknown>>('POST', '/volumes/create', { body: { Name: name('api'), Labels: { team: 'a', tier: 'x' } } });
    assert.equal(v.Name, name('api'));
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.deepEqual(v.Labels, { team: 'a', tier: 'x' });
    assert.equal(v.Options, null);
    assert.equal(v.Mountpoint, join(vols, name('api'), '_data'));
    assert.match(String(v.CreatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.ok(statSync(String(v.Mountpoint)).isDirectory());
    // Creating an existing name answers the existing volume.
    const again = await c.json<Record<string, unknown>>('POST', '/volumes/create', { body: { Name: name('api') } });
    assert.deepEqual(again, v);
    const anon = await c.json<{ Name: string; Labels: Record<string, string> }>('POST', '/volumes/create', { body: {} });
    assert.match(anon.Name, /^[a-f0-9]{64}$/);
    assert.deepEqual(anon.Labels, { 'com.docker.volume.anonymous': '' });

    const names = async (filters?: object): Promise<string[]> =>
      (await c.json<{ Volumes: { Name: string }[]; Warnings: unknown }>('GET', '/volumes', { query: { filters: filters ? JSON.stringify(filters) : undefined } }))
        .Volumes.map((x) => x.Name).sort();
    assert.deepEqual(await names({ name: [tag] }), [name('api')]);
    assert.deepEqual(await names({ label: ['team=a'] }), [name('api')]);
    assert.deepEqual(await names({ label: ['team=b'] }), []);
    assert.deepEqual(await names({ dangling: ['true'], driver: ['local'] }), [anon.Name, name('api')].sort());
    await assert.rejects(c.json('GET', '/volumes', { query: { filters: JSON.stringify({ bogus: ['1'] }) } }), /invalid filter 'bogus'/);

    await assert.rejects(c.json('GET', '/volumes/nope-nope'), (e: Error & { status?: number }) => /get nope-nope: no such volume/.test(e.message));
    await assert.rejects(c.json('POST', '/volumes/create', { body: { Name: 'a' } }), /volume name is too short/);
    await assert.rejects(c.json('POST', '/volumes/create', { body: { Name: 'bad/name' } }), /includes invalid characters for a local volume name/);
    await assert.rejects(c.json('POST', '/volumes/create', { body: { Name: name('drv'), Driver: 'nfsplugin' } }), /plugin "nfsplugin" not found/);
    await assert.rejects(c.json('POST', '/volumes/create', { body: { Name: name('opt'), DriverOpts: { foo: 'bar' } } }), /invalid option key: "foo"/);

    // Prune: anonymous only by default (API 1.42+), named too with all=true; label filters.
    const pruned = await c.json<{ VolumesDeleted: string[]; SpaceReclaimed: number }>('POST', '/volumes/prune');
    assert.deepEqual(pruned.VolumesDeleted, [anon.Name]);
    const none = await c.json<{ VolumesDeleted: string[] }>('POST', '/volumes/prune', { query: { filters: JSON.stringify({ all: ['true'], label: ['team=b'] }) } });
    assert.deepEqual(none.VolumesDeleted, []);
    const all = await c.json<{ VolumesDeleted: string[] }>('POST', '/volumes/prune', { query: { filters: JSON.stringify({ all: ['true'], label: ['team=a'] }) } });
    assert.deepEqual(all.VolumesDeleted, [name('api')]);
    assert.equal(existsSync(join(vols, name('api'))), false);
    (await c.send('DELETE', `/volumes/${name('gone')}`, { query: { force: '1' } })).resume();
  });

  it('docker CLI: volume verbs, -v named volume shared between containers, rm refused while in use, events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const v = name('cli');
    assert.equal(ok(d.docker(['volume', 'create', '--label', 'k=v', v]), 'volume create'), `${v}\n`);
    assert.match(ok(d.docker(['volume', 'ls']), 'ls'), new RegExp(`DRIVER\\s+VOLUME NAME\\n(.*\\n)*local\\s+${v}\\n`));
    assert.equal(ok(d.docker(['volume', 'ls', '-q', '--filter', 'label=k=v']), 'ls -q'), `${v}\n`);
    assert.equal(ok(d.docker(['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Labels}}', '--filter', `name=${v}`]), 'ls --format'), `${v} local k=v\n`);
    assert.equal(ok(d.docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', v]), 'inspect'), `${join(vols, v, '_data')}\n`);

    ok(d.docker(['run', '--name', name('w'), '-v', `${v}:/data`, 'busybox', 'sh', '-c', 'echo persisted > /data/f']), 'writer');
    assert.equal(readFileSync(join(vols, v, '_data', 'f'), 'utf8'), 'persisted\n');
    assert.equal(ok(d.docker(['run', '--rm', '-v', `${v}:/d:ro`, 'busybox', 'sh', '-c', 'cat /d/f; touch /d/x 2>&1 || true']), 'reader'),
      'persisted\ntouch: /d/x: Read-only file system\n');
    const mounts = JSON.parse(ok(d.docker(['inspect', '-f', '{{json .Mounts}}', name('w')]), 'inspect mounts')) as Record<string, unknown>[];
    assert.deepEqual(mounts, [{ Type: 'volume', Name: v, Source: join(vols, v, '_data'), Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]);

    const id = ok(d.docker(['inspect', '-f', '{{.Id}}', name('w')]), 'id').trim();
    const rm = d.docker(['volume', 'rm', v]);
    assert.equal(rm.code, 1);
    assert.equal(rm.stderr, `Error response from daemon: remove ${v}: volume is in use - [${id}]\n`);
    assert.equal(d.docker(['volume', 'rm', '-f', v]).code, 1, 'force does not remove a volume in use');
    assert.match(ok(d.docker(['volume', 'ls', '-q', '--filter', 'dangling=false']), 'dangling'), new RegExp(v));
    // rm -v keeps named volumes.
    ok(d.docker(['rm', '-v', name('w')]), 'rm -v');
    assert.ok(existsSync(join(vols, v, '_data', 'f')));
    assert.equal(ok(d.docker(['volume', 'rm', v]), 'volume rm'), `${v}\n`);
    const missing = d.docker(['volume', 'inspect', v]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such volume/);

    const ev = ok(d.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}}']), 'events');
    for (const a of ['create', 'mount', 'unmount', 'destroy']) assert.match(ev, new RegExp(`^${a} ${v}$`, 'm'), ev);
  });

  it('anonymous volumes: image VOLUME and -v /path, seeded from the image, removed by rm -v and --rm, kept by plain rm', async () => {
    const img = `${name('volimg')}:1`;
    const tar = await makeTar([
      ...busyboxMembers(),
      { name: 'seed/', type: 'dir', mode: 0o710, uid: 1234, gid: 5678 },
      { name: 'seed/sub/', type: 'dir', uid: 1234, gid: 5678 },
      { name: 'seed/sub/file', type: 'file', body: 'from-image\n', mode: 0o640, uid: 1234, gid: 5678, xattrs: { 'user.peti': Buffer.from('kept') } },
      { name: 'seed/link', type: 'symlink', linkname: '/etc/shadow' },
    ]);
    ok(d.peti(['import', '-c', 'VOLUME /seed', '-c', 'CMD ["sh"]', '-', img], { input: tar }), 'import');
    const before = new Set(readdirSync(vols));
    const fresh = (): string[] => readdirSync(vols).filter((n) => !before.has(n) && /^[a-f0-9]{64}$/.test(n));

    ok(d.docker(['run', '--name', name('a1'), '-v', '/scratch', img, 'sh', '-c', 'cat /seed/sub/file; echo s > /scratch/x']), 'run');
    const anon = fresh();
    assert.equal(anon.length, 2);
    const seedVol = anon.find((n) => existsSync(join(vols, n, '_data', 'sub')));
    assert.ok(seedVol, 'the VOLUME was seeded');
    const data = join(vols, seedVol, '_data');
    const st = statSync(data);
    assert.equal(st.uid, 1234);
    assert.equal(st.gid, 5678);
    assert.equal(st.mode & 0o7777, 0o710);
    assert.equal(readFileSync(join(data, 'sub', 'file'), 'utf8'), 'from-image\n');
    assert.equal(statSync(join(data, 'sub', 'file')).mode & 0o7777, 0o640);
    assert.equal(statSync(join(data, 'sub', 'file')).uid, 1234);
    const xattr = spawnSync('getfattr', ['--only-values', '-n', 'user.peti', join(data, 'sub', 'file')]);
    assert.equal(xattr.stdout?.toString(), 'kept', `xattr kept: ${xattr.stderr?.toString()}`);
    assert.ok(lstatSync(join(data, 'link')).isSymbolicLink(), 'symlinks copied as links');
    assert.equal(readlinkSync(join(data, 'link')), '/etc/shadow');
    const mounts = JSON.parse(ok(d.docker(['inspect', '-f', '{{json .Mounts}}', name('a1')]), 'inspect')) as { Name: string; Destination: string }[];
    assert.deepEqual(mounts.map((m) => m.Destination).sort(), ['/scratch', '/seed']);
    assert.deepEqual(JSON.parse(ok(d.docker(['volume', 'inspect', '-f', '{{json .Labels}}', seedVol]), 'labels')), { 'com.docker.volume.anonymous': '' });

    // Plain rm keeps them; rm -v removes them.
    ok(d.docker(['run', '--name', name('a2'), img, 'true']), 'run a2');
    const a2vol = fresh().filter((n) => !anon.includes(n));
    assert.equal(a2vol.length, 1);
    ok(d.docker(['rm', name('a2')]), 'rm');
    assert.ok(existsSync(join(vols, a2vol[0]!)));
    ok(d.docker(['rm', '-v', name('a1')]), 'rm -v');
    for (const n of anon) assert.equal(existsSync(join(vols, n)), false, `anonymous volume ${n} left after rm -v`);
    // --rm removes the anonymous volumes too.
    const count = fresh().length;
    ok(d.docker(['run', '--rm', img, 'true']), 'run --rm');
    assert.equal(fresh().length, count, 'run --rm left its anonymous volume');
    // nocopy: a new named volume stays empty.
    ok(d.docker(['run', '--rm', '-v', `${name('nocopy')}:/seed:nocopy`, img, 'true']), 'nocopy');
    assert.deepEqual(readdirSync(join(vols, name('nocopy'), '_data')), []);
    ok(d.docker(['run', '--rm', '--mount', `type=volume,source=${name('mcopy')},target=/seed,volume-nocopy`, img, 'true']), 'volume-nocopy');
    assert.deepEqual(readdirSync(join(vols, name('mcopy'), '_data')), []);
    // An existing, non-empty volume is not overwritten by a later seed.
    ok(d.docker(['run', '--rm', '-v', `${name('mcopy')}:/other`, 'busybox', 'sh', '-c', 'echo mine > /other/m']), 'fill');
    assert.equal(ok(d.docker(['run', '--rm', '-v', `${name('mcopy')}:/seed`, img, 'ls', '/seed']), 'no seed'), 'm\n');
    // The prune default is anonymous volumes only.
    const pr = ok(d.docker(['volume', 'prune', '-f']), 'prune');
    assert.match(pr, new RegExp(a2vol[0]!));
    assert.ok(existsSync(join(vols, name('nocopy'))));
    ok(d.docker(['volume', 'rm', name('nocopy'), name('mcopy')]), 'rm named');
    ok(d.docker(['rmi', img]), 'rmi');
  });

  it('--mount type=volume|bind|tmpfs, --volumes-from, binds: Docker options and errors', async () => {
    const host = join(d.dir, 'bind-src');
    mkdirSync(host, { recursive: true });
    writeFileSync(join(host, 'h'), 'host\n');
    ok(d.docker(['run', '--name', name('src'), '-v', `${host}:/b:ro`, '--mount', `type=volume,source=${name('mv')},target=/v,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m,volume-label=x=y`,
      '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m', 'busybox', 'sh', '-c', 'echo v > /v/f; df -k /v /t | tail -2']), 'src');
    assert.equal(ok(d.docker(['volume', 'inspect', '-f', '{{json .Options}} {{json .Labels}}', name('mv')]), 'opts'),
      '{"device":"tmpfs","o":"size=2m","type":"tmpfs"} {"x":"y"}\n');
    const mounts = JSON.parse(ok(d.docker(['inspect', '-f', '{{json .Mounts}}', name('src')]), 'inspect')) as Record<string, unknown>[];
    assert.deepEqual(mounts.map((m) => [m.Type, m.Destination, m.RW]).sort(), [['bind', '/b', false], ['tmpfs', '/t', true], ['volume', '/v', true]]);
    // The tmpfs volume stays mounted while a container uses it (its content lives there).
    assert.ok(mountsUnder(vols).includes(join(vols, name('mv'), '_data')));

    const out = ok(d.docker(['run', '--rm', '--volumes-from', `${name('src')}:ro`, 'busybox', 'sh', '-c', 'cat /b/h /v/f; touch /v/n 2>&1; ls /t 2>&1 | head -1']), 'volumes-from');
    assert.match(out, /^host\nv\ntouch: \/v\/n: Read-only file system\nls: \/t: No such file or directory\n$/);
    ok(d.docker(['rm', name('src')]), 'rm src');
    // Unused now: unmounted, its tmpfs content gone.
    assert.equal(mountsUnder(vols).includes(join(vols, name('mv'), '_data')), false);

    const miss = d.docker(['run', '--rm', '--mount', `type=bind,source=${join(d.dir, 'nope')},target=/x`, 'busybox', 'true']);
    assert.equal(miss.code, 125);
    assert.match(miss.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${join(d.dir, 'nope')}`));
    // -v creates a missing host source.
    ok(d.docker(['run', '--rm', '-v', `${join(d.dir, 'made')}:/m:rw,Z`, 'busybox', 'touch', '/m/f']), '-v creates source');
    assert.ok(existsSync(join(d.dir, 'made', 'f')));
    const badName = d.docker(['run', '--rm', '-v', 'bad$name:/d', 'busybox', 'true']);
    assert.equal(badName.code, 125);
    assert.match(badName.stderr, /create bad\$name: "bad\$name" includes invalid characters for a local volume name/);
    const dup = d.docker(['run', '--rm', '-v', `${name('d1')}:/d`, '--mount', `type=volume,source=${name('d2')},target=/d`, 'busybox', 'true']);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /Duplicate mount point: \/d/);
    const vf = d.docker(['run', '--rm', '--volumes-from', 'no-such-ctr', 'busybox', 'true']);
    assert.equal(vf.code, 125);
    assert.match(vf.stderr, /No such container: no-such-ctr/);

    // A bind-device volume: the host directory appears in the container; removing the volume keeps its files.
    const dev = join(d.dir, 'device');
    mkdirSync(dev);
    writeFileSync(join(dev, 'keep'), 'k\n');
    ok(d.docker(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${dev}`, name('bd')]), 'bind volume');
    assert.equal(ok(d.docker(['run', '--rm', '-v', `${name('bd')}:/d`, 'busybox', 'sh', '-c', 'cat /d/keep; echo w > /d/w']), 'use bind volume'), 'k\n');
    ok(d.docker(['volume', 'rm', name('bd')]), 'rm bind volume');
    assert.equal(readFileSync(join(dev, 'keep'), 'utf8'), 'k\n');
    assert.equal(readFileSync(join(dev, 'w'), 'utf8'), 'w\n');
    const gone = d.docker(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${join(d.dir, 'absent')}`, name('bd2')]);
    ok(gone, 'create with a missing device (fails at mount, as Docker)');
    const use = d.docker(['run', '--rm', '-v', `${name('bd2')}:/d`, 'busybox', 'true']);
    assert.notEqual(use.code, 0);
    assert.match(use.stderr, /failed to mount local volume/);
    ok(d.docker(['volume', 'rm', name('bd2'), name('mv')]), 'rm');
  });

  it('hostile image: symlinked VOLUME and -v targets stay inside the rootfs, the seeding copy follows no link out', async () => {
    const link = (n: string, linkname: string): Member => ({ name: n, type: 'symlink', linkname });
    const members: Member[] = [
      ...busyboxMembers(),
      { name: 'etc/', type: 'dir' },
      { name: 'etc/only-in-image', type: 'file', body: 'image\n' },
      { name: 'tmp/', type: 'dir', mode: 0o1777 },
      { name: 'tmp/only-in-image-tmp', type: 'file', body: 'image\n' },
      // VOLUME /data climbs out with a relative link; /abs is an absolute link to /tmp (the host's holds this test).
      link('data', '../../../../../../../../etc'),
      link('abs', '/tmp'),
      { name: 'inner/', type: 'dir' },
      link('inner/shadow', '/etc/shadow'),
      link('inner/up', '../../../../../../../../../'),
    ];
    const img = `${name('hostile')}:1`;
    ok(d.peti(['import', '-c', 'VOLUME ["/data", "/inner"]', '-c', 'CMD ["sh"]', '-', img], { input: await makeTar(members) }), 'import');
    const beforeEtc = readdirSync('/etc').sort();

    const beforeTmp = readdirSync('/tmp').sort();
    const out = ok(d.docker(['run', '--name', name('h'), '-v', `${name('hv')}:/abs`, img, 'sh', '-c', 'ls /etc; readlink /inner/shadow; touch /abs/written /data/written']), 'run hostile');
    assert.match(out, /only-in-image/);
    assert.doesNotMatch(out, /passwd/, 'the host /etc was seen');
    assert.match(out, /\/etc\/shadow/);
    // The named volume got the image's /tmp, never the host's; the anonymous /data one the image's /etc.
    const hv = join(vols, name('hv'), '_data');
    assert.deepEqual(readdirSync(hv).sort(), ['only-in-image-tmp', 'written']);
    const mounts = JSON.parse(ok(d.docker(['inspect', '-f', '{{json .Mounts}}', name('h')]), 'inspect')) as { Name: string; Destination: string }[];
    const dataVol = mounts.find((m) => m.Destination === '/data');
    assert.ok(dataVol);
    const dv = join(vols, dataVol.Name, '_data');
    assert.ok(existsSync(join(dv, 'only-in-image')));
    assert.ok(existsSync(join(dv, 'written')));
    assert.equal(existsSync(join(dv, 'passwd')), false);
    assert.equal(existsSync('/etc/written'), false);
    assert.equal(existsSync('/tmp/written'), false);
    assert.deepEqual(readdirSync('/etc').sort(), beforeEtc);
    assert.deepEqual(readdirSync('/tmp').filter((n) => !beforeTmp.includes(n) && !n.startsWith('peti-')), []);
    // The /inner volume holds the links as links.
    const inner = mounts.find((m) => m.Destination === '/inner');
    assert.ok(inner);
    const innerData = join(vols, inner.Name, '_data');
    assert.equal(readlinkSync(join(innerData, 'shadow')), '/etc/shadow');
    assert.ok(lstatSync(join(innerData, 'up')).isSymbolicLink());
    ok(d.docker(['rm', '-v', name('h')]), 'rm');
    ok(d.docker(['volume', 'rm', name('hv')]), 'rm volume');
    ok(d.docker(['rmi', img]), 'rmi');
  });

  it('peti CLI: volume create/ls/inspect/rm/prune, run -v, system df', () => {
    const v = name('peti');
    assert.equal(ok(d.peti(['volume', 'create', '--label', 'p=1', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', v]), 'create'), `${v}\n`);
    assert.match(ok(d.peti(['volume', 'ls', '--filter', `name=${v}`]), 'ls'), new RegExp(`^DRIVER\\s+VOLUME NAME\\nlocal\\s+${v}\\n$`));
    assert.equal(ok(d.peti(['volume', 'ls', '-q', '--filter', 'label=p=1']), 'ls -q'), `${v}\n`);
    assert.equal(ok(d.peti(['volume', 'inspect', '--format', '{{.Driver}} {{.Scope}} {{.Options.type}}', v]), 'inspect'), 'local local tmpfs\n');
    assert.equal(ok(d.peti(['run', '--rm', '-v', `${v}:/t`, 'busybox', 'sh', '-c', 'echo x > /t/x && cat /t/x']), 'run'), 'x\n');
    assert.match(ok(d.peti(['system', 'df']), 'df'), /Local Volumes/);
    const bad = d.peti(['volume', 'rm', 'no-such-volume']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no such volume/);
    ok(d.peti(['volume', 'rm', '-f', 'no-such-volume']), 'rm -f missing');
    ok(d.peti(['volume', 'create', name('pr')]), 'create pr');
    assert.doesNotMatch(ok(d.peti(['volume', 'prune', '-f']), 'prune'), new RegExp(name('pr')));
    assert.match(ok(d.peti(['volume', 'prune', '-a', '-f', '--filter', 'label!=p=1']), 'prune -a'), new RegExp(`Deleted Volumes:\\n(.*\\n)*${name('pr')}\\n`));
    assert.equal(ok(d.peti(['volume', 'rm', v]), 'rm'), `${v}\n`);
  });
});
