/**
 * dockerode (the most used Node Docker client) against petid over its unix socket: run with an output stream,
 * create/start/wait/logs (demuxed, followed and not), exec with a hijacked stdin (dockerode sends the exec start
 * body chunk-encoded on the upgraded socket), inspect, list and remove.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import Docker from 'dockerode';
import { startDaemon, makeBusybox, type TestDaemon } from '../helpers/daemon.js';
import { removeAll } from '../helpers/containers.js';

/** Collect a stream's text. */
function collect(s: PassThrough): () => string {
  let out = '';
  s.on('data', (b: Buffer) => { out += b.toString(); });
  return () => out;
}

function ended(s: Readable | Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('end', () => resolve());
    s.once('close', () => resolve());
    s.once('error', reject);
  });
}

describe('dockerode against petid', () => {
  let d: TestDaemon;
  let docker: Docker;

  before(async () => {
    d = await startDaemon();
    makeBusybox(d);
    docker = new Docker({ socketPath: d.socket });
  });
  after(async () => {
    if (d) await removeAll(d);
    await d?.cleanup();
  });

  it('ping and version', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    const v = await docker.version();
    assert.equal(v.ApiVersion, '1.50');
  });

  it('run with an output stream, demuxed into stdout and stderr', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const o = collect(out);
    const e = collect(err);
    const [result, container] = (await docker.run('busybox', ['sh', '-c', 'echo to-out; echo to-err >&2; exit 3'], [out, err], { name: 'dr-run', Tty: false })) as [{ StatusCode: number }, Docker.Container];
    assert.equal(result.StatusCode, 3);
    assert.equal(o(), 'to-out\n');
    assert.equal(e(), 'to-err\n');
    const info = await container.inspect();
    assert.equal(info.State.ExitCode, 3);
    assert.equal(info.Name, '/dr-run');
    await container.remove();
  });

  it('run with a TTY gets raw output', async () => {
    const out = new PassThrough();
    const o = collect(out);
    const [result, container] = (await docker.run('busybox', ['sh', '-c', 'tty; echo tty-out'], out, { Tty: true })) as [{ StatusCode: number }, Docker.Container];
    assert.equal(result.StatusCode, 0);
    assert.match(o(), /^\/dev\/pts\/0\r\ntty-out\r\n$/);
    await container.remove({ force: true });
  });

  it('createContainer, start, wait, logs (plain and followed, demuxed)', async () => {
    const c = await docker.createContainer({
      Image: 'busybox', name: 'dr-logs', Env: ['WHO=dockerode'], Labels: { suite: 'dockerode' },
      Cmd: ['sh', '-c', 'for i in 1 2 3; do echo out$i $WHO; echo err$i >&2; sleep 0.2; done; exit 2'],
      HostConfig: { Memory: 64 * 1024 * 1024 },
    });
    assert.match(c.id, /^[a-f0-9]{64}$/);
    const created = await c.inspect();
    assert.equal(created.State.Status, 'created');
    await c.start();
    // Follow while it runs: the stream ends when the container exits.
    const followed = (await c.logs({ follow: true, stdout: true, stderr: true })) as unknown as Readable;
    const fo = new PassThrough();
    const fe = new PassThrough();
    const fout = collect(fo);
    const ferr = collect(fe);
    c.modem.demuxStream(followed, fo, fe);
    const done = ended(followed);
    const w = (await c.wait()) as { StatusCode: number };
    assert.equal(w.StatusCode, 2);
    await done;
    assert.equal(fout(), 'out1 dockerode\nout2 dockerode\nout3 dockerode\n');
    assert.equal(ferr(), 'err1\nerr2\nerr3\n');
    // Not followed: dockerode hands back the whole multiplexed body as a Buffer.
    const buf = (await c.logs({ follow: false, stdout: true, stderr: true, timestamps: true })) as unknown as Buffer;
    assert.ok(Buffer.isBuffer(buf));
    const po = new PassThrough();
    const pe = new PassThrough();
    const pout = collect(po);
    const perr = collect(pe);
    const src = new PassThrough();
    c.modem.demuxStream(src, po, pe);
    src.end(buf);
    await ended(src);
    await new Promise((r) => setImmediate(r));
    const lines = pout().trim().split('\n');
    assert.equal(lines.length, 3);
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\d dockerode$/);
    assert.equal(perr().trim().split('\n').length, 3);
    const tail = (await c.logs({ stdout: true, tail: 1 })) as unknown as Buffer;
    assert.equal(tail.subarray(8).toString(), 'out3 dockerode\n');
    const info = await c.inspect();
    assert.equal(info.State.Status, 'exited');
    assert.equal(info.State.ExitCode, 2);
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.ok(info.Config.Env.includes('WHO=dockerode'));
    assert.equal(info.Config.Labels['suite'], 'dockerode');
    await c.remove();
    await assert.rejects(c.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  it('exec with hijack and stdin: chunked start body, piped stdin, exit code', async () => {
    const c = await docker.createContainer({ Image: 'busybox', name: 'dr-exec', Cmd: ['sleep', '60'] });
    await c.start();
    const ex = await c.exec({ Cmd: ['sh', '-c', 'cat; echo err-side >&2; exit 4'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const stream = (await ex.start({ hijack: true, stdin: true })) as Duplex;
    const so = new PassThrough();
    const se = new PassThrough();
    const out = collect(so);
    const err = collect(se);
    c.modem.demuxStream(stream, so, se);
    const done = ended(stream);
    stream.write('hello from dockerode\n');
    stream.write('second line\n');
    stream.end();
    await done;
    assert.equal(out(), 'hello from dockerode\nsecond line\n');
    assert.equal(err(), 'err-side\n');
    const info = await ex.inspect();
    assert.equal(info.ExitCode, 4);
    assert.equal(info.Running, false);

    // Without stdin: plain output, exit code 0.
    const ex2 = await c.exec({ Cmd: ['sh', '-c', 'echo $A; pwd'], Env: ['A=exec-env'], WorkingDir: '/tmp', AttachStdout: true, AttachStderr: true });
    const s2 = (await ex2.start({ hijack: true })) as Duplex;
    const o2 = new PassThrough();
    const out2 = collect(o2);
    c.modem.demuxStream(s2, o2, new PassThrough());
    await ended(s2);
    assert.equal(out2(), 'exec-env\n/tmp\n');
    assert.equal((await ex2.inspect()).ExitCode, 0);

    // Detached exec.
    const ex3 = await c.exec({ Cmd: ['sh', '-c', 'echo bg > /tmp/bg'] });
    await ex3.start({ Detach: true });
    for (let i = 0; i < 100 && (await ex3.inspect()).Running !== false; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await ex3.inspect()).ExitCode, 0);
    await c.remove({ force: true });
  });

  it('listContainers, inspect, stop, remove', async () => {
    const a = await docker.createContainer({ Image: 'busybox', name: 'dr-list-a', Cmd: ['sleep', '60'], Labels: { grp: 'dr' } });
    const b = await docker.createContainer({ Image: 'busybox', name: 'dr-list-b', Cmd: ['true'], Labels: { grp: 'dr' } });
    await a.start();
    const running = await docker.listContainers();
    assert.ok(running.some((c) => c.Id === a.id));
    assert.ok(!running.some((c) => c.Id === b.id));
    const all = await docker.listContainers({ all: true, filters: { label: ['grp=dr'] } });
    assert.deepEqual(all.map((c) => c.Names[0]).sort(), ['/dr-list-a', '/dr-list-b']);
    const sa = all.find((c) => c.Id === a.id)!;
    assert.equal(sa.State, 'running');
    assert.equal(sa.Image, 'busybox');
    assert.equal(sa.Command, 'sleep 60');
    assert.match(sa.Status, /^Up /);
    assert.equal(all.find((c) => c.Id === b.id)!.State, 'created');
    const i = await a.inspect();
    assert.equal(i.State.Running, true);
    assert.ok(i.State.Pid > 0);
    await assert.rejects(a.remove(), (e: { statusCode?: number }) => e.statusCode === 409);
    await a.stop({ t: 1 });
    assert.equal((await a.inspect()).State.Running, false);
    await a.remove({ v: true });
    await b.remove();
    assert.equal((await docker.listContainers({ all: true, filters: { label: ['grp=dr'] } })).length, 0);
    await assert.rejects(docker.getContainer('dr-list-a').inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });
});
