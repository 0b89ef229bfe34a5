import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { startDaemon, makeBusybox, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { runDetached, inspect, waitExit, logs, removeAll } from '../helpers/containers.js';

describe('containers: lifecycle through the API', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    makeBusybox(d);
  });
  after(async () => {
    await removeAll(d);
    await d.cleanup();
  });

  it('runs a command, records its exit code and output', async () => {
    const id = await runDetached(d, { Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    assert.equal(await waitExit(d, id), 3);
    const st = await inspect(d, id);
    assert.equal(st.State.Status, 'exited');
    assert.equal(st.State.ExitCode, 3);
    assert.deepEqual(await logs(d, id), { stdout: 'out\n', stderr: 'err\n' });
    assert.deepEqual(await logs(d, id, { stderr: '0' }), { stdout: 'out\n', stderr: '' });
  });

  it('Config.NetworkDisabled gives loopback alone', async () => {
    const id = await runDetached(d, { Cmd: ['sh', '-c', 'ls /sys/class/net'], NetworkDisabled: true });
    assert.equal(await waitExit(d, id), 0);
    assert.deepEqual(await logs(d, id), { stdout: 'lo\n', stderr: '' });
  });

  it('answers 404 for a missing image and 409 for a taken name', async () => {
    const e = await d.client.json('POST', '/containers/create', { body: { Image: 'nope:1', Cmd: ['true'] } }).catch((x: Error) => x);
    assert.ok(e instanceof Error && e.message === 'No such image: nope:1', String(e));
    await d.client.json('POST', '/containers/create', { body: { Image: 'busybox', Cmd: ['true'] }, query: { name: 'taken' } });
    const c = await d.client.json('POST', '/containers/create', { body: { Image: 'busybox', Cmd: ['true'] }, query: { name: 'taken' } }).catch((x: Error) => x);
    assert.ok(c instanceof Error && /is already in use by container/.test(c.message), String(c));
  });

  it('stops with the stop signal, then kills after the timeout', async () => {
    const id = await runDetached(d, { Cmd: ['sh', '-c', 'trap "exit 7" TERM; while true; do sleep 0.1; done'] });
    await waitFor(async () => (await inspect(d, id)).State.Running, 'running');
    (await d.client.send('POST', `/containers/${id}/stop`, { query: { t: '5' } })).resume();
    const st = await inspect(d, id);
    assert.equal(st.State.Status, 'exited');
    assert.equal(st.State.ExitCode, 7);
    const id2 = await runDetached(d, { Cmd: ['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done'] });
    await waitFor(async () => (await inspect(d, id2)).State.Running, 'running');
    const t0 = Date.now();
    (await d.client.send('POST', `/containers/${id2}/stop`, { query: { t: '1' } })).resume();
    assert.ok(Date.now() - t0 >= 900);
    assert.equal((await inspect(d, id2)).State.ExitCode, 137);
    const again = await d.client.send('POST', `/containers/${id2}/stop`);
    assert.equal(again.statusCode, 304);
  });

  it('kills with a signal and refuses to kill a stopped container', async () => {
    const id = await runDetached(d, { Cmd: ['sleep', '60'] });
    (await d.client.send('POST', `/containers/${id}/kill`, { query: { signal: 'SIGKILL' } })).resume();
    assert.equal(await waitExit(d, id), 137);
    const e = await d.client.send('POST', `/containers/${id}/kill`).catch((x: Error) => x);
    assert.ok(e instanceof Error && /is not running/.test(e.message));
  });

  it('waits: not-running answers at once for an exited container, next-exit and removed block', async () => {
    const id = await runDetached(d, { Cmd: ['true'] });
    assert.equal(await waitExit(d, id), 0);
    assert.equal(await waitExit(d, id), 0);
    const c = await d.client.json<{ Id: string }>('POST', '/containers/create', { body: { Image: 'busybox', Cmd: ['sh', '-c', 'exit 5'] } });
    const res = await d.client.send('POST', `/containers/${c.Id}/wait`, { query: { condition: 'removed' } });
    assert.equal(res.statusCode, 200, 'headers before the container even starts');
    (await d.client.send('POST', `/containers/${c.Id}/start`)).resume();
    assert.equal(await waitExit(d, c.Id), 5);
    (await d.client.send('DELETE', `/containers/${c.Id}`)).resume();
    const body = JSON.parse((await (await import('../../src/client/index.js')).readAll(res)).toString()) as { StatusCode: number };
    assert.equal(body.StatusCode, 5);
  });

  it('removes: refuses a running container without force, frees its mount and snapshot', async () => {
    const id = await runDetached(d, { Cmd: ['sleep', '60'] });
    const e = await d.client.send('DELETE', `/containers/${id}`).catch((x: Error) => x);
    assert.ok(e instanceof Error && /stop the container before removing or force remove/.test(e.message));
    (await d.client.send('DELETE', `/containers/${id}`, { query: { force: '1' } })).resume();
    const gone = await d.client.json('GET', `/containers/${id}/json`).catch((x: Error) => x);
    assert.ok(gone instanceof Error && gone.message === `No such container: ${id}`);
    const mounted = (): string[] => readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.includes(id));
    assert.ok(!mounted().includes(`${d.execRoot}/containers/${id}/rootfs`), 'rootfs unmounted');
    assert.ok(!existsSync(`${d.execRoot}/containers/${id}`));
    // Its network namespace is released in the background, moments after the exit.
    await waitFor(() => mounted().length === 0, 'no mount of the container left', 5000);
  });

  it('lists with all, limit and filters', async () => {
    const a = await runDetached(d, { Cmd: ['sleep', '60'], Labels: { role: 'web' } }, 'list-a');
    const b = await runDetached(d, { Cmd: ['true'] }, 'list-b');
    await waitExit(d, b);
    const ids = async (q: Record<string, string>): Promise<string[]> => (await d.client.json<{ Id: string }[]>('GET', '/containers/json', { query: q })).map((x) => x.Id);
    assert.ok((await ids({})).includes(a));
    assert.ok(!(await ids({})).includes(b));
    assert.ok((await ids({ all: '1' })).includes(b));
    assert.deepEqual(await ids({ filters: JSON.stringify({ label: { 'role=web': true } }) }), [a]);
    assert.deepEqual(await ids({ all: '1', filters: JSON.stringify({ name: { '^list-b$': true } }) }), [b]);
    assert.ok((await ids({ all: '1', filters: JSON.stringify({ status: { exited: true } }) })).includes(b));
    assert.deepEqual(await ids({ all: '1', filters: JSON.stringify({ exited: { '0': true }, name: { 'list-': true } }) }), [b]);
    assert.equal((await ids({ limit: '1' })).length, 1);
    const anc = await ids({ all: '1', filters: JSON.stringify({ ancestor: { busybox: true } }) });
    assert.ok(anc.includes(a) && anc.includes(b));
    (await d.client.send('DELETE', `/containers/${a}`, { query: { force: '1' } })).resume();
  });

  it('execs a process with its exit code and output', async () => {
    const id = await runDetached(d, { Cmd: ['sleep', '60'] });
    const ex = await d.client.json<{ Id: string }>('POST', `/containers/${id}/exec`, { body: { Cmd: ['sh', '-c', 'echo in-exec; exit 4'], AttachStdout: true, AttachStderr: true } });
    const r = d.docker(['exec', id, 'sh', '-c', 'echo hi; exit 2']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    (await d.client.send('POST', `/exec/${ex.Id}/start`, { body: { Detach: true } })).resume();
    await waitFor(async () => (await d.client.json<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${ex.Id}/json`)).ExitCode === 4, 'exec exit code');
    (await d.client.send('DELETE', `/containers/${id}`, { query: { force: '1' } })).resume();
  });

  it('prunes stopped containers', async () => {
    const id = await runDetached(d, { Cmd: ['true'] });
    await waitExit(d, id);
    const r = await d.client.json<{ ContainersDeleted: string[] }>('POST', '/containers/prune');
    assert.ok(r.ContainersDeleted.includes(id));
  });
});
