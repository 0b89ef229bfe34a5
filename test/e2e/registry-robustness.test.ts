/**
 * Registry robustness through petid and `peti registry`: SIGKILL of the registry while a big layer uploads and of
 * petid while it downloads leave no torn blob on either side, and a retry succeeds with the same digests; the
 * Docker token flow (`--token-realm`, htpasswd users, `--anonymous-pull`) with peti login/push/pull, scopes enforced,
 * and the real docker CLI's login + push through petid. Traffic goes through a throttling TCP proxy so a 24 MB
 * layer takes about a second to move and the kills land mid-transfer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { hashSync } from 'bcryptjs';
import { REPO, startDaemon, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { makeTar } from '../helpers/tars.js';
import { freePort } from '../helpers/net.js';

interface Msg { status?: string; error?: string; aux?: { Digest: string } }
interface Inspect { Id: string; RootFS: { Layers: string[] }; RepoDigests: string[] }

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;


interface Registry { proc: ChildProcess; kill(signal?: NodeJS.Signals): Promise<void> }

async function petiRegistry(root: string, port: number, extra: string[] = []): Promise<Registry> {
  const proc = spawn(process.execPath, [join(REPO, 'dist/peti-registry.js'), 'serve', '--addr', `127.0.0.1:${port}`, '--root', root, '--log-level', 'warn', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`peti registry exited:\n${log}`);
    return fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
  }, 'peti registry');
  return {
    proc,
    kill: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** TCP proxy to 127.0.0.1:target passing each chunk, either way, then pausing 1 ms: a few tens of MB/s. */
async function throttlingProxy(target: number): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const pace = (from: Socket, to: Socket): void => {
    from.on('data', (c: Buffer) => {
      from.pause();
      to.write(c, () => setTimeout(() => from.resume(), 1));
    });
    from.on('end', () => to.end());
    from.on('error', () => to.destroy());
    from.on('close', () => to.destroy());
  };
  const server = createServer((client) => {
    const up = createConnection(target, '127.0.0.1');
    sockets.add(client).add(up);
    client.on('close', () => sockets.delete(client));
    up.on('close', () => sockets.delete(up));
    pace(client, up);
    pace(up, client);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** Every file under a content store's blobs/sha256 dirs (anywhere below root) hashes to its name. */
function assertBlobsIntact(root: string): number {
  let n = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name === 'sha256' && dir.endsWith('blobs')) {
          for (const f of readdirSync(p)) {
            if (!/^[a-f0-9]{64}$/.test(f)) continue;
            assert.equal(sha(readFileSync(join(p, f))), `sha256:${f}`, `torn blob ${join(p, f)}`);
            n++;
          }
        } else walk(p);
      }
    }
  };
  walk(root);
  return n;
}

/** Size of the largest regular file under dir whose path contains `part`. */
function largest(dir: string, part: string): number {
  let best = 0;
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && p.includes(part)) {
        try {
          best = Math.max(best, statSync(p).size);
        } catch {
          // gone meanwhile
        }
      }
    }
  };
  walk(dir);
  return best;
}

/** A docker-save archive: one 24 MB incompressible layer plus a small one, tagged `tag`. */
async function bigImage(tag: string): Promise<Buffer> {
  let x = 0x12345678;
  const data = Buffer.alloc(24 * 1024 * 1024);
  for (let i = 0; i < data.length; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    data.writeUInt32LE(x, i);
  }
  const l1 = await makeTar([{ name: 'big/', type: 'dir' }, { name: 'big/random.bin', type: 'file', body: data }]);
  const l2 = await makeTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/hello', type: 'file', body: 'robust\n' }]);
  const gz = [gzipSync(l1, { level: 1 }), gzipSync(l2)];
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(l1), sha(l2)] } }));
  return makeTar([
    { name: 'manifest.json', type: 'file', body: JSON.stringify([{ Config: 'config.json', RepoTags: [tag], Layers: ['l1.tar.gz', 'l2.tar.gz'] }]) },
    { name: 'config.json', type: 'file', body: config },
    { name: 'l1.tar.gz', type: 'file', body: gz[0]! },
    { name: 'l2.tar.gz', type: 'file', body: gz[1]! },
  ]);
}

async function stream(d: TestDaemon, path: string, query: Record<string, string>, auth = 'e30='): Promise<Msg[]> {
  const res = await d.client.send('POST', path, { query, headers: { 'X-Registry-Auth': auth } });
  const out: Msg[] = [];
  for await (const m of d.client.jsonLines<Msg>(res)) out.push(m);
  return out;
}
const inspect = (d: TestDaemon, ref: string): Promise<Inspect> => d.client.json<Inspect>('GET', `/images/${ref}/json`);
const rmi = async (d: TestDaemon, ref: string): Promise<void> => { await d.client.json('DELETE', `/images/${ref}`, { query: { force: true } }); };
const tagAs = async (d: TestDaemon, src: string, repo: string, tag: string): Promise<void> => {
  (await d.client.send('POST', `/images/${src}/tag`, { query: { repo, tag } })).resume();
};

describe('registry robustness', () => {
  let d: TestDaemon;
  const regs: Registry[] = [];
  let proxy: Awaited<ReturnType<typeof throttlingProxy>> | undefined;
  let original: Inspect;
  before(async () => {
    d = await startDaemon();
    const res = await d.client.send('POST', '/images/load', { raw: await bigImage('robust:1'), query: { quiet: true } });
    for await (const m of d.client.jsonLines<Msg>(res)) void m;
    original = await inspect(d, 'robust:1');
  });
  after(async () => {
    await proxy?.close();
    for (const r of regs) await r.kill('SIGKILL');
    await d?.cleanup();
    // The daemon restarted in a test keeps the first one's directory: its cleanup leaves it for the caller.
    if (d) rmSync(d.dir, { recursive: true, force: true });
  });

  it('a registry killed mid-push keeps no torn blob; the retried push succeeds; killing petid mid-pull leaves nothing corrupt and the retry yields the same digests', async () => {
    const root = join(d.dir, 'reg');
    const port = await freePort();
    regs.push(await petiRegistry(root, port));
    proxy = await throttlingProxy(port);
    const host = `127.0.0.1:${proxy.port}`;
    await tagAs(d, 'robust:1', `${host}/robust/app`, '1');

    // Push, and SIGKILL the registry once the big layer's upload is under way.
    const pushing = stream(d, `/images/${host}/robust/app/push`, { tag: '1' }).then((ms) => ms, (e: Error) => [{ error: e.message }]);
    await waitFor(() => largest(join(root, 'uploads'), '') > 1024 * 1024, 'the upload to start', 20_000);
    await regs[0]!.kill('SIGKILL');
    const failed = await pushing;
    assert.ok(failed.some((m) => m.error), `the push should fail: ${JSON.stringify(failed.slice(-3))}`);
    assertBlobsIntact(root);
    assert.ok(!existsSync(join(root, 'content/blobs/sha256')) || largest(join(root, 'content/blobs/sha256'), '') < 20 * 1024 * 1024, 'no big blob yet');

    // Restart on the same root and port: the retry succeeds.
    regs.push(await petiRegistry(root, port));
    const pushed = await stream(d, `/images/${host}/robust/app/push`, { tag: '1' });
    assert.ok(!pushed.some((m) => m.error), JSON.stringify(pushed.filter((m) => m.error)));
    const digest = pushed.find((m) => m.aux)!.aux!.Digest;
    assert.ok(assertBlobsIntact(root) >= 4, 'layers, config and manifest stored');

    // Pull with no layer present, and SIGKILL petid while the big layer downloads.
    await rmi(d, `${host}/robust/app:1`);
    await rmi(d, 'robust:1');
    const pulling = stream(d, '/images/create', { fromImage: `${host}/robust/app`, tag: '1' }).catch((e: Error) => [{ error: e.message }]);
    await waitFor(() => largest(d.dataRoot, 'partial') > 1024 * 1024, 'the download to start', 20_000);
    await d.stop('SIGKILL');
    await pulling;
    assertBlobsIntact(d.dataRoot);

    d = await startDaemon({ dir: d.dir });
    assertBlobsIntact(d.dataRoot);
    // The extraction that streamed from the download was swept at startup.
    assert.match(d.logs(), /removing an interrupted layer extraction/);
    const snaps = readdirSync(d.dataRoot, { recursive: true }).map(String).filter((f) => f.endsWith('.json'));
    for (const f of snaps) assert.ok(!readFileSync(join(d.dataRoot, f), 'utf8').includes('"extract-'), `stale extraction in ${f}`);
    await assert.rejects(inspect(d, `${host}/robust/app:1`), /No such image/);
    const pulled = await stream(d, '/images/create', { fromImage: `${host}/robust/app`, tag: '1' });
    assert.ok(!pulled.some((m) => m.error), JSON.stringify(pulled.filter((m) => m.error)));
    assert.ok(pulled.some((m) => m.status === `Digest: ${digest}`), JSON.stringify(pulled.slice(-3)));
    const back = await inspect(d, `${host}/robust/app:1`);
    assert.equal(back.Id, original.Id);
    assert.deepEqual(back.RootFS.Layers, original.RootFS.Layers);
    assert.deepEqual(back.RepoDigests, [`${host}/robust/app@${digest}`]);
    assertBlobsIntact(d.dataRoot);
    const run = d.peti(['run', '--rm', '--network', 'none', `${host}/robust/app:1`, 'cat', '/etc/hello']);
    if (run.code === 0) assert.equal(run.stdout, 'robust\n');
    await tagAs(d, `${host}/robust/app:1`, 'robust', '1');
  });

  it('token flow: peti login, push and pull; anonymous pull only; docker CLI login and push through petid', async () => {
    const root = join(d.dir, 'token-reg');
    const port = await freePort();
    const htpasswd = join(d.dir, 'htpasswd');
    writeFileSync(htpasswd, `alice:${hashSync('s3cret', 8)}\n`);
    regs.push(await petiRegistry(root, port, ['--htpasswd', htpasswd, '--token-realm', `http://127.0.0.1:${port}/token`, '--anonymous-pull']));
    const host = `127.0.0.1:${port}`;
    const challenge = await fetch(`http://${host}/v2/`);
    assert.equal(challenge.status, 401);
    assert.match(challenge.headers.get('www-authenticate') ?? '', new RegExp(`^Bearer realm="http://127\\.0\\.0\\.1:${port}/token",service="[^"]+"`));

    const anon = { DOCKER_CONFIG: join(d.dir, 'anon-config') };
    const env = { DOCKER_CONFIG: join(d.dir, 'alice-config') };
    await tagAs(d, 'robust:1', `${host}/team/app`, '1');
    // Anonymous: no push (the token service grants anonymous callers pull only).
    const denied = d.peti(['push', `${host}/team/app:1`], { env: anon });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /unauthorized|denied|authentication required/i);

    const bad = d.peti(['login', '-u', 'alice', '--password-stdin', host], { input: 'wrong\n', env });
    assert.notEqual(bad.code, 0);
    const login = d.peti(['login', '-u', 'alice', '--password-stdin', host], { input: 's3cret\n', env });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    const push = d.peti(['push', `${host}/team/app:1`], { env });
    assert.equal(push.code, 0, push.stderr);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);

    // Anonymous pull works (pull scope), and so does alice's.
    await rmi(d, `${host}/team/app:1`);
    const apull = d.peti(['pull', `${host}/team/app:1`], { env: anon });
    assert.equal(apull.code, 0, apull.stderr);
    assert.ok(apull.stdout.includes(`Digest: ${digest}`), apull.stdout);
    await rmi(d, `${host}/team/app:1`);
    const upull = d.peti(['pull', `${host}/team/app:1`], { env });
    assert.equal(upull.code, 0, upull.stderr);
    assert.equal((await inspect(d, `${host}/team/app:1`)).Id, original.Id);

    // A pull-only token cannot push: the registry answers 401/403 with the spec's error.
    const tok = await fetch(`http://${host}/token?service=peti-registry&scope=repository:team/app:pull`);
    assert.equal(tok.status, 200);
    const token = ((await tok.json()) as { token: string }).token;
    const post = await fetch(`http://${host}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.ok(post.status === 401 || post.status === 403, String(post.status));
    assert.match(await post.text(), /"code":"(DENIED|UNAUTHORIZED)"/);

    // The real docker CLI: login, then push a new tag (docker CLI -> petid -> peti registry, token flow).
    const dl = d.docker(['login', '-u', 'alice', '--password-stdin', host], { input: 's3cret\n' });
    assert.equal(dl.code, 0, dl.stderr);
    assert.match(dl.stdout, /Login Succeeded/);
    await tagAs(d, 'robust:1', `${host}/team/cli`, '2');
    const dp = d.docker(['push', `${host}/team/cli:2`]);
    assert.equal(dp.code, 0, dp.stderr);
    assert.match(dp.stdout, new RegExp(`2: digest: ${digest} size: \\d+`));
    assert.match(dp.stdout, /Mounted from team\/app|Layer already exists/);
  });
});
