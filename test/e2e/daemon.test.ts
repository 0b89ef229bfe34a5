import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { PETID, startDaemon, type TestDaemon } from '../helpers/daemon.js';

function raw(d: TestDaemon, method: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('petid', () => {
  let d: TestDaemon;
  before(async () => { d = await startDaemon(); });
  after(async () => { await d.cleanup(); });

  it('answers ping on versioned and unversioned paths with Docker headers', async () => {
    for (const [m, p] of [['GET', '/_ping'], ['HEAD', '/_ping'], ['GET', '/v1.24/_ping'], ['GET', '/v1.50/_ping']] as const) {
      const r = await raw(d, m, p);
      assert.equal(r.status, 200, `${m} ${p}`);
      assert.equal(r.headers['api-version'], '1.50');
      assert.equal(r.headers['ostype'], 'linux');
      if (m === 'GET') assert.equal(r.body, 'OK');
    }
  });

  it('refuses API versions out of range with a JSON message', async () => {
    const hi = await raw(d, 'GET', '/v1.99/version');
    assert.equal(hi.status, 400);
    assert.match(JSON.parse(hi.body).message, /too new/);
    const lo = await raw(d, 'GET', '/v1.12/version');
    assert.equal(lo.status, 400);
    assert.match(JSON.parse(lo.body).message, /too old/);
    const nf = await raw(d, 'GET', '/v1.50/nothing/here');
    assert.equal(nf.status, 404);
    assert.equal(typeof JSON.parse(nf.body).message, 'string');
  });

  it('serves /version and /info with the fields clients read', async () => {
    const v = await d.client.json<Record<string, unknown>>('GET', '/version');
    assert.equal(v.ApiVersion, '1.50');
    assert.equal(v.MinAPIVersion, '1.24');
    assert.equal(v.Os, 'linux');
    const i = await d.client.json<Record<string, unknown>>('GET', '/info');
    assert.equal(i.DockerRootDir, d.dataRoot);
    assert.equal(typeof i.NCPU, 'number');
    assert.equal((i.Swarm as Record<string, unknown>).LocalNodeState, 'inactive');
  });

  it('makes the socket 0660 and the data root private', () => {
    assert.equal(statSync(d.socket).mode & 0o777, 0o660);
    assert.equal(statSync(d.dataRoot).mode & 0o077, 0o011);
  });

  it('refuses a second daemon on the same data root', () => {
    const r = spawnSync(process.execPath, [PETID, '--data-root', d.dataRoot, '--exec-root', `${d.execRoot}2`, '-H', `unix://${d.socket}2`], { timeout: 20000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.toString(), /already using this data root/);
    // The first one still serves.
    return d.client.send('GET', '/_ping').then((r) => { r.resume(); });
  });

  it('writes structured JSON logs on stderr', () => {
    const first = d.logs().split('\n').find((l) => l.includes('petid ready'));
    assert.ok(first, d.logs());
    const rec = JSON.parse(first) as Record<string, unknown>;
    assert.equal(rec.level, 'info');
    assert.equal(typeof rec.time, 'string');
  });
});

describe('petid shutdown', () => {
  it('stops cleanly on SIGTERM and removes its socket and lock', async () => {
    const d = await startDaemon();
    try {
      const code = await d.stop('SIGTERM');
      assert.equal(code, 0);
      assert.equal(existsSync(d.socket), false);
      assert.equal(existsSync(`${d.dataRoot}/petid.pid`), false);
    } finally {
      await d.cleanup();
    }
  });

  it('takes over a lock left by a dead daemon', async () => {
    const d = await startDaemon();
    await d.stop('SIGKILL');
    const d2 = await startDaemon({ dir: d.dir });
    try {
      (await d2.client.send('GET', '/_ping')).resume();
    } finally {
      await d2.cleanup();
      await d.cleanup();
    }
  });
});
