/**
 * Pull and push through petid against real registries on 127.0.0.1: Debian's docker-registry (anonymous and
 * htpasswd), `peti registry`, a proxy that cuts a blob mid-body (resume with Range) and a fake registry serving a
 * corrupt blob. Driven through the Engine API, the peti CLI and the real docker CLI; skopeo for interop.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { hashSync } from 'bcryptjs';
import { REPO, makeBusybox, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { makeTar } from '../helpers/tars.js';
import { freePort } from '../helpers/net.js';

interface Msg { status?: string; id?: string; progressDetail?: { current?: number; total?: number }; aux?: { Tag: string; Digest: string; Size: number } }
interface Inspect { Id: string; RepoTags: string[]; RepoDigests: string[]; RootFS: { Layers: string[] } }

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const authHeader = (username: string, password: string, serveraddress: string): string =>
  Buffer.from(JSON.stringify({ username, password, serveraddress })).toString('base64url');


interface Proc { host: string; proc: ChildProcess; stop(): Promise<void> }

async function waitHttp(url: string, proc: ChildProcess, logs: () => string): Promise<void> {
  const end = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited:\n${logs()}`);
    if (await fetch(url).then((r) => r.status === 200 || r.status === 401, () => false)) return;
    if (Date.now() > end) throw new Error(`server did not start:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopper(proc: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };
}

/** Debian's docker-registry (distribution 2.8) with filesystem storage, optionally htpasswd-protected. */
async function dockerRegistry(dir: string, htpasswd?: string): Promise<Proc> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const auth = htpasswd ? `auth:\n  htpasswd:\n    realm: docker-registry\n    path: ${htpasswd}\n` : '';
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`);
  const proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  await waitHttp(`http://127.0.0.1:${port}/v2/`, proc, () => log);
  return { host: `127.0.0.1:${port}`, proc, stop: stopper(proc) };
}

async function petiRegistry(dir: string): Promise<Proc> {
  const port = await freePort();
  const proc = spawn(process.execPath, [join(REPO, 'dist/peti-registry.js'), 'serve', '--addr', `127.0.0.1:${port}`, '--root', dir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  await waitHttp(`http://127.0.0.1:${port}/v2/`, proc, () => log);
  return { host: `127.0.0.1:${port}`, proc, stop: stopper(proc) };
}

async function listen(s: Server): Promise<string> {
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', () => ok()));
  return `127.0.0.1:${(s.address() as { port: number }).port}`;
}

/** Forwards to `target`; the first GET of a blob whose path contains `cut` is dropped after `after` bytes. */
function cuttingProxy(target: string, cut: string, afterBytes: number): { server: Server; ranges: string[] } {
  const ranges: string[] = [];
  let done = false;
  const server = createServer((req, res) => {
    const blob = req.method === 'GET' && req.url!.includes(`/blobs/${cut}`);
    if (blob) ranges.push(String(req.headers.range ?? ''));
    const up = request(`http://${target}${req.url}`, { method: req.method, headers: { ...req.headers, host: target } }, (ur) => {
      res.writeHead(ur.statusCode!, ur.headers);
      if (!blob || done) {
        ur.pipe(res);
        return;
      }
      done = true;
      let sent = 0;
      ur.on('data', (c: Buffer) => {
        if (sent >= afterBytes) return;
        const part = c.subarray(0, afterBytes - sent);
        sent += part.length;
        res.write(part);
        if (sent >= afterBytes) {
          ur.destroy();
          res.socket?.destroy();
        }
      });
    });
    req.pipe(up);
  });
  return { server, ranges };
}

async function pull(d: TestDaemon, fromImage: string, tag: string, auth = 'e30='): Promise<Msg[]> {
  const res = await d.client.send('POST', '/images/create', { query: { fromImage, tag }, headers: { 'X-Registry-Auth': auth } });
  const out: Msg[] = [];
  for await (const m of d.client.jsonLines<Msg>(res)) out.push(m);
  return out;
}

async function push(d: TestDaemon, name: string, tag: string, auth = 'e30='): Promise<Msg[]> {
  const res = await d.client.send('POST', `/images/${name}/push`, { query: { tag }, headers: { 'X-Registry-Auth': auth } });
  const out: Msg[] = [];
  for await (const m of d.client.jsonLines<Msg>(res)) out.push(m);
  return out;
}

const inspect = (d: TestDaemon, ref: string): Promise<Inspect> => d.client.json<Inspect>('GET', `/images/${ref}/json`);
const statuses = (ms: Msg[]): string[] => ms.map((m) => `${m.id ? `${m.id}: ` : ''}${m.status ?? ''}`);

async function tag(d: TestDaemon, src: string, repo: string, t: string): Promise<void> {
  (await d.client.send('POST', `/images/${src}/tag`, { query: { repo, tag: t } })).resume();
}

async function rmi(d: TestDaemon, ...refs: string[]): Promise<void> {
  for (const r of refs) await d.client.json('DELETE', `/images/${r}`, { query: { force: true } });
}

/** A docker-save archive of the fixture's first two layers: an image sharing layers with peti-fixture:v1. */
async function twoLayerArchive(): Promise<Buffer> {
  const fx = join(REPO, 'test/fixtures/docker20-single.tar');
  const x = (name: string): Buffer => spawnSync('tar', ['xOf', fx, name]).stdout;
  const man = JSON.parse(x('manifest.json').toString()) as { Config: string; Layers: string[] }[];
  const cfg = JSON.parse(x(man[0]!.Config).toString()) as { rootfs: { diff_ids: string[] }; history?: { empty_layer?: boolean }[]; config: { Labels: Record<string, string> } };
  cfg.rootfs.diff_ids = cfg.rootfs.diff_ids.slice(0, 2);
  delete cfg.history;
  cfg.config.Labels = { derived: 'yes' };
  const cfgBytes = Buffer.from(JSON.stringify(cfg));
  const layers = man[0]!.Layers.slice(0, 2);
  return makeTar([
    { name: 'manifest.json', type: 'file', body: JSON.stringify([{ Config: `${sha(cfgBytes).slice(7)}.json`, RepoTags: ['derived:v1'], Layers: layers.map((_, i) => `l${i}/layer.tar`) }]) },
    { name: `${sha(cfgBytes).slice(7)}.json`, type: 'file', body: cfgBytes },
    ...layers.map((l, i) => ({ name: `l${i}/layer.tar`, type: 'file' as const, body: x(l) })),
  ]);
}

async function load(d: TestDaemon, tar: Buffer): Promise<void> {
  const res = await d.client.send('POST', '/images/load', { raw: tar, query: { quiet: true } });
  for await (const m of d.client.jsonLines<Msg>(res)) void m;
}

describe('pull and push', () => {
  let d: TestDaemon;
  let reg: Proc;
  let secure: Proc;
  const htpasswd = (): string => join(d.dir, 'htpasswd');
  before(async () => {
    d = await startDaemon();
    makeBusybox(d);
    await load(d, readFileSync(join(REPO, 'test/fixtures/docker20-single.tar')));
    await load(d, await twoLayerArchive());
    reg = await dockerRegistry(join(d.dir, 'reg'));
    writeFileSync(htpasswd(), `alice:${hashSync('s3cret', 8)}\n`);
    secure = await dockerRegistry(join(d.dir, 'secure'), htpasswd());
  });
  after(async () => {
    await reg?.stop();
    await secure?.stop();
    await d?.cleanup();
  });

  it('pushes busybox and pulls it back with the same digests', async () => {
    const before = await inspect(d, 'busybox:latest');
    await tag(d, 'busybox:latest', `${reg.host}/bb`, '1');
    const pushed = await push(d, `${reg.host}/bb`, '1');
    const st = statuses(pushed);
    assert.equal(st[0], `The push refers to repository [${reg.host}/bb]`);
    assert.ok(st.some((s) => s.endsWith(': Pushed')), st.join('\n'));
    const aux = pushed.find((m) => m.aux)!.aux!;
    assert.match(aux.Digest, /^sha256:[a-f0-9]{64}$/);
    assert.ok(st.includes(`1: digest: ${aux.Digest} size: ${aux.Size}`));
    // A second push finds every blob there already.
    assert.ok(statuses(await push(d, `${reg.host}/bb`, '1')).some((s) => s.endsWith(': Layer already exists')));

    await rmi(d, `${reg.host}/bb:1`, 'busybox:latest');
    const pulled = statuses(await pull(d, `${reg.host}/bb`, '1'));
    assert.equal(pulled[0], `1: Pulling from ${reg.host}/bb`);
    for (const s of ['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']) {
      assert.ok(pulled.some((x) => x.endsWith(`: ${s}`)), `${s} missing in\n${pulled.join('\n')}`);
    }
    assert.ok(pulled.includes(`Digest: ${aux.Digest}`));
    assert.equal(pulled.at(-1), `Status: Downloaded newer image for ${reg.host}/bb:1`);
    const after = await inspect(d, `${reg.host}/bb:1`);
    assert.equal(after.Id, before.Id);
    assert.deepEqual(after.RootFS.Layers, before.RootFS.Layers);
    assert.deepEqual(after.RepoDigests, [`${reg.host}/bb@${aux.Digest}`]);
    assert.equal(statuses(await pull(d, `${reg.host}/bb`, '1')).at(-1), `Status: Image is up to date for ${reg.host}/bb:1`);
    // By digest, verified against the manifest bytes.
    assert.ok(statuses(await pull(d, `${reg.host}/bb`, aux.Digest)).includes(`Digest: ${aux.Digest}`));
  });

  it('round-trips a 3-layer image, mounts shared blobs, reuses layers on pull', async () => {
    const fixture = await inspect(d, 'peti-fixture:v1');
    const derived = await inspect(d, 'derived:v1');
    await tag(d, 'peti-fixture:v1', `${reg.host}/multi`, 'v1');
    await tag(d, 'derived:v1', `${reg.host}/derived`, 'v1');
    const p1 = statuses(await push(d, `${reg.host}/multi`, 'v1'));
    assert.equal(p1.filter((s) => s.endsWith(': Pushed')).length, 3, p1.join('\n'));
    const p2 = statuses(await push(d, `${reg.host}/derived`, 'v1'));
    assert.equal(p2.filter((s) => s.endsWith(': Mounted from multi')).length, 2, p2.join('\n'));

    await rmi(d, `${reg.host}/multi:v1`, 'peti-fixture:v1', `${reg.host}/derived:v1`, 'derived:v1');
    const first = await pull(d, `${reg.host}/multi`, 'v1');
    assert.equal(statuses(first).filter((s) => s.endsWith(': Pull complete')).length, 3);
    assert.equal((await inspect(d, `${reg.host}/multi:v1`)).Id, fixture.Id);
    const second = statuses(await pull(d, `${reg.host}/derived`, 'v1'));
    assert.equal(second.filter((s) => s.endsWith(': Already exists')).length, 2, second.join('\n'));
    assert.ok(!second.some((s) => s.endsWith(': Downloading')));
    assert.equal((await inspect(d, `${reg.host}/derived:v1`)).Id, derived.Id);
  });

  it('pulls every tag with an empty tag (docker pull -a) and pushes every tag of a repository', async () => {
    await tag(d, `${reg.host}/multi:v1`, `${reg.host}/all`, 'a');
    await tag(d, `${reg.host}/derived:v1`, `${reg.host}/all`, 'b');
    const pushed = await push(d, `${reg.host}/all`, '');
    assert.deepEqual(pushed.filter((m) => m.aux).map((m) => m.aux!.Tag), ['a', 'b']);
    await rmi(d, `${reg.host}/all:a`, `${reg.host}/all:b`);
    const r = d.peti(['pull', '-a', `${reg.host}/all`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`a: Pulling from ${reg.host}/all`));
    assert.match(r.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/all\n`));
    assert.ok((await inspect(d, `${reg.host}/all:a`)).Id && (await inspect(d, `${reg.host}/all:b`)).Id);
  });

  it('reports Docker\'s errors: unknown repository, missing tag, no registry', async () => {
    await assert.rejects(pull(d, `${reg.host}/nope`, 'latest'), /manifest for 127\.0\.0\.1:\d+\/nope:latest not found: manifest unknown/);
    const r = d.docker(['pull', `${reg.host}/nope:1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: manifest for 127\.0\.0\.1:\d+\/nope:1 not found/);
    await assert.rejects(pull(d, `${secure.host}/nope`, 'latest'), /pull access denied for 127\.0\.0\.1:\d+\/nope, repository does not exist or may require 'docker login'/);
    await assert.rejects(pull(d, 'docker.io/library/alpine', 'latest'), /registry-1\.docker\.io/);
  });

  it('logs in (peti and docker CLI), pushes and pulls with htpasswd credentials; a wrong password fails clearly', async () => {
    const bad = d.docker(['login', '-u', 'alice', '--password-stdin', secure.host], { input: 'wrong\n' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /login attempt to http:\/\/127\.0\.0\.1:\d+\/v2\/ failed with status: 401 Unauthorized/);
    await assert.rejects(d.client.json('POST', '/auth', { body: { username: 'alice', password: 'nope', serveraddress: secure.host } }), /401 Unauthorized/);
    const ok = d.docker(['login', '-u', 'alice', '--password-stdin', secure.host], { input: 's3cret\n' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    await tag(d, `${reg.host}/multi:v1`, `${secure.host}/team/app`, '1');
    const dp = d.docker(['push', `${secure.host}/team/app:1`]);
    assert.equal(dp.code, 0, dp.stderr);
    assert.match(dp.stdout, /1: digest: sha256:[a-f0-9]{64} size: \d+/);
    // Without credentials the registry refuses.
    await assert.rejects(push(d, `${secure.host}/team/app`, '1'), /unauthorized/);

    const env = { DOCKER_CONFIG: join(d.dir, 'peti-config') };
    const pl = d.peti(['login', '-u', 'alice', '--password-stdin', secure.host], { input: 's3cret\n', env });
    assert.equal(pl.code, 0, pl.stderr);
    const cfg = JSON.parse(readFileSync(join(d.dir, 'peti-config/config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[secure.host]!.auth, 'base64').toString(), 'alice:s3cret');
    await rmi(d, `${secure.host}/team/app:1`);
    const pp = d.peti(['pull', `${secure.host}/team/app:1`], { env });
    assert.equal(pp.code, 0, pp.stderr);
    assert.match(pp.stdout, /Status: (Downloaded newer image|Image is up to date) for 127\.0\.0\.1:\d+\/team\/app:1/);
    const ps = d.peti(['push', '-q', `${secure.host}/team/app:1`], { env });
    assert.equal(ps.code, 0, ps.stderr);
    assert.equal(ps.stdout.trim(), `${secure.host}/team/app:1`);
    const lo = d.peti(['logout', secure.host], { env });
    assert.match(lo.stdout, /Removing login credentials/);
    const after = JSON.parse(readFileSync(join(d.dir, 'peti-config/config.json'), 'utf8')) as { auths: Record<string, unknown> };
    assert.equal(after.auths[secure.host], undefined);
    // The header from the docker CLI's config is honoured by the API too.
    const msgs = await pull(d, `${secure.host}/team/app`, '1', authHeader('alice', 's3cret', secure.host));
    assert.ok(statuses(msgs).at(-1)?.startsWith('Status: '));
  });

  it('docker CLI pull, push and run auto-pull work against petid', async () => {
    await tag(d, `${reg.host}/bb:1`, `${reg.host}/cli/bb`, 'x');
    const p = d.docker(['push', `${reg.host}/cli/bb:x`]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /Mounted from bb|Layer already exists/);
    await rmi(d, `${reg.host}/cli/bb:x`);
    const pl = d.docker(['pull', `${reg.host}/cli/bb:x`]);
    assert.equal(pl.code, 0, pl.stderr);
    assert.match(pl.stdout, /x: Pulling from 127\.0\.0\.1:\d+\/cli\/bb/);
    assert.match(pl.stdout, new RegExp(`${reg.host.replace(/\./g, '\\.')}/cli/bb:x\\n$`));
    await tag(d, `${reg.host}/bb:1`, `${reg.host}/runme`, '1');
    assert.equal(d.docker(['push', `${reg.host}/runme:1`]).code, 0);
    await rmi(d, `${reg.host}/runme:1`);
    const run = d.docker(['run', '--rm', `${reg.host}/runme:1`, 'echo', 'pulled-and-ran']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'pulled-and-ran\n');
    assert.match(run.stderr, /Unable to find image '127\.0\.0\.1:\d+\/runme:1' locally/);
    assert.match(run.stderr, /Status: Downloaded newer image/);
    const pr = d.peti(['run', '--rm', `${reg.host}/runme:1`, 'echo', 'again']);
    assert.equal(pr.stdout, 'again\n');
  });

  it('resumes a layer download cut mid-body with a Range request', async () => {
    const img = await inspect(d, `${reg.host}/bb:1`);
    const man = await fetch(`http://${reg.host}/v2/bb/manifests/1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } }).then((r) => r.json()) as { layers: { digest: string; size: number }[] };
    const layer = man.layers[0]!;
    assert.ok(layer.size > 1_000_000);
    const { server, ranges } = cuttingProxy(reg.host, layer.digest, 600_000);
    const host = await listen(server);
    try {
      await rmi(d, ...(await d.client.json<{ RepoTags: string[] }[]>('GET', '/images/json')).filter((i) => i.RepoTags.some((t) => t.includes('/bb:') || t.includes('runme') || t.includes('cli/bb'))).flatMap((i) => i.RepoTags));
      const msgs = statuses(await pull(d, `${host}/bb`, '1'));
      assert.equal(msgs.at(-1), `Status: Downloaded newer image for ${host}/bb:1`);
      // The second request asks for the rest from what arrived (the cut may lose bytes still in flight).
      assert.equal(ranges.length, 2, ranges.join(','));
      assert.equal(ranges[0], '');
      const from = Number(/^bytes=(\d+)-$/.exec(ranges[1]!)?.[1]);
      assert.ok(from > 0 && from <= 600_000, ranges[1]);
      assert.equal((await inspect(d, `${host}/bb:1`)).Id, img.Id);
      assert.match(d.logs(), /blob download interrupted, resuming/);
    } finally {
      server.close();
    }
  });

  it('refuses a corrupt blob from a fake registry and records nothing', async () => {
    const tar = await makeTar([{ name: 'hello', type: 'file', body: 'hello\n' }]);
    const gz = gzipSync(tar);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(tar)] } }));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(gz), size: gz.length }],
    }));
    const corrupt = Buffer.from(gz);
    corrupt[corrupt.length - 5] = corrupt[corrupt.length - 5]! ^ 0xff;
    const server = createServer((req, res) => {
      const u = req.url!;
      if (u === '/v2/') res.end('{}');
      else if (u.endsWith('/manifests/latest')) {
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json', 'Docker-Content-Digest': sha(manifest) });
        res.end(manifest);
      } else if (u.endsWith(`/blobs/${sha(config)}`)) res.end(config);
      else if (u.endsWith(`/blobs/${sha(gz)}`)) res.end(corrupt);
      else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}');
      }
    });
    const host = await listen(server);
    try {
      await assert.rejects(pull(d, `${host}/bad`, 'latest'), new RegExp(`filesystem layer verification failed for digest ${sha(gz)}`));
      await assert.rejects(inspect(d, `${host}/bad:latest`), /No such image/);
      assert.ok(!existsSync(join(d.dataRoot, 'content/blobs/sha256', sha(gz).slice(7))));
      assert.ok(!readdirSync(join(d.dataRoot, 'content/blobs/sha256')).includes(sha(config).slice(7)));
    } finally {
      server.close();
    }
  });

  it('docker CLI -> petid -> peti registry round trip, and skopeo interop', { skip: !existsSync(join(REPO, 'dist/peti-registry.js')) && 'peti registry not built' }, async () => {
    const pr = await petiRegistry(join(d.dir, 'peti-reg'));
    try {
      const src = (await d.client.json<{ RepoTags: string[] }[]>('GET', '/images/json')).find((i) => i.RepoTags.some((t) => t.endsWith('/multi:v1')))!.RepoTags.find((t) => t.endsWith('/multi:v1'))!;
      const want = await inspect(d, src);
      assert.equal(d.docker(['tag', src, `${pr.host}/rt/multi:v1`]).code, 0);
      const p = d.docker(['push', `${pr.host}/rt/multi:v1`]);
      assert.equal(p.code, 0, p.stderr);
      const digest = /v1: digest: (sha256:[a-f0-9]{64})/.exec(p.stdout)![1]!;
      assert.equal(d.docker(['rmi', `${pr.host}/rt/multi:v1`]).code, 0);
      const pl = d.docker(['pull', `${pr.host}/rt/multi:v1`]);
      assert.equal(pl.code, 0, pl.stderr);
      assert.match(pl.stdout, new RegExp(`Digest: ${digest}`));
      assert.equal((await inspect(d, `${pr.host}/rt/multi:v1`)).Id, want.Id);

      if (spawnSync('sh', ['-c', 'command -v skopeo']).status !== 0) return;
      const oci = join(d.dir, 'oci');
      const c1 = spawnSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${pr.host}/rt/multi:v1`, `oci:${oci}:v1`]);
      assert.equal(c1.status, 0, c1.stderr.toString());
      const c2 = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${oci}:v1`, `docker://${pr.host}/rt/copied:v1`]);
      assert.equal(c2.status, 0, c2.stderr.toString());
      const ins = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${pr.host}/rt/copied:v1`]);
      assert.equal(ins.status, 0, ins.stderr.toString());
      const info = JSON.parse(ins.stdout.toString()) as { Digest: string; Layers: string[] };
      assert.equal(info.Layers.length, 3);
      const msgs = statuses(await pull(d, `${pr.host}/rt/copied`, 'v1'));
      assert.ok(msgs.includes(`Digest: ${info.Digest}`), msgs.join('\n'));
      // skopeo converts to OCI on the way (a new config, so a new ID); the layers are the same.
      assert.deepEqual((await inspect(d, `${pr.host}/rt/copied:v1`)).RootFS.Layers, want.RootFS.Layers);
    } finally {
      await pr.stop();
    }
  });
});
