/**
 * Container operations against a real petid, through the API, the peti CLI and the real docker CLI: cp both ways
 * (running, stopped, bind mounts, hostile symlinks, hostile tars), diff, export, top, stats, update, pause and
 * rename. Every container is removed at the end, even when a test fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { readAll } from '../../src/client/index.js';
import { TarWriter, readTar } from '../../src/lib/tar/index.js';
import { startDaemon, makeBusybox, waitFor, pooledSandboxes, type TestDaemon } from '../helpers/daemon.js';
import { removeAll, runDetached, inspect } from '../helpers/containers.js';

async function tarOf(entries: { name: string; body?: string; type?: 'file' | 'dir' | 'symlink'; linkname?: string }[]): Promise<Buffer> {
  const w = new TarWriter();
  const done = readAll(w.stream);
  for (const e of entries) {
    const type = e.type ?? 'file';
    await w.add({ name: e.name, type, mode: type === 'dir' ? 0o755 : 0o644, ...(e.linkname ? { linkname: e.linkname } : {}), ...(type === 'file' ? { size: Buffer.byteLength(e.body ?? '') } : {}) }, type === 'file' ? Buffer.from(e.body ?? '') : undefined);
  }
  await w.finalize();
  return done;
}

async function tarNames(buf: Buffer): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of readTar([buf])) {
    const chunks: Buffer[] = [];
    for await (const c of e.body) chunks.push(c);
    out.set(e.header.name, e.header.type === 'file' ? Buffer.concat(chunks).toString() : e.header.type);
  }
  return out;
}

describe('container operations', { timeout: 240_000 }, () => {
  let d: TestDaemon;
  let host: string;
  before(async () => {
    // A pooled keep-alive socket the daemon closes after its 5 s idle timeout can be picked for the next request
    // (EPIPE): the EngineClient uses the global agent, so these tests use one that never pools.
    http.globalAgent = new http.Agent({ keepAlive: false });
    d = await startDaemon();
    makeBusybox(d);
    host = mkdtempSync(join(d.dir, 'host-'));
  });
  after(async () => {
    if (d) {
      await removeAll(d);
      if (process.env.PETI_TEST_LOG) writeFileSync(process.env.PETI_TEST_LOG, d.logs());
      await d.cleanup();
    }
  });

  const docker = (args: string[], input?: string | Buffer): string => {
    const r = d.docker(args, input === undefined ? undefined : { input });
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const peti = (args: string[], input?: string | Buffer): string => {
    const r = d.peti(args, input === undefined ? undefined : { input });
    assert.equal(r.code, 0, `peti ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const exec = (c: string, cmd: string): string => docker(['exec', c, 'sh', '-c', cmd]);

  it('archive API: HEAD stat header, GET tar, PUT tar, 404 and a hostile ../ tar', async () => {
    const id = await runDetached(d, { Cmd: ['sh', '-c', 'mkdir -p /data/sub && echo hello > /data/sub/f && sleep 1000'] }, 'api-cp');
    await waitFor(() => d.docker(['exec', 'api-cp', 'test', '-f', '/data/sub/f']).code === 0, 'file in container');
    const head = await d.client.send('HEAD', `/containers/${id}/archive`, { query: { path: '/data' } });
    head.resume();
    const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString()) as { name: string; mode: number; linkTarget: string; mtime: string };
    assert.equal(stat.name, 'data');
    assert.ok((stat.mode >>> 0) & 2 ** 31, 'directory bit set');
    assert.equal(stat.mode & 0o777, 0o755);
    assert.ok(!Number.isNaN(Date.parse(stat.mtime)));

    const get = await d.client.send('GET', `/containers/${id}/archive`, { query: { path: '/data/sub' } });
    const names = await tarNames(await readAll(get));
    assert.equal(names.get('sub/f'), 'hello\n');
    assert.equal(names.get('sub/'), 'dir');

    await assert.rejects(d.client.send('HEAD', `/containers/${id}/archive`, { query: { path: '/nope' } }), (e: Error) => e.constructor.name === 'NotFound');

    (await d.client.send('PUT', `/containers/${id}/archive`, { query: { path: '/data' }, raw: await tarOf([{ name: 'new/', type: 'dir' }, { name: 'new/x', body: 'put\n' }]) })).resume();
    assert.equal(exec('api-cp', 'cat /data/new/x'), 'put\n');

    // A tar climbing out with ../ is refused; nothing lands above the target, in the container or on the host.
    const hostile = await tarOf([{ name: '../../../../../../../../tmp/peti-escape', body: 'x' }]);
    await assert.rejects(d.client.send('PUT', `/containers/${id}/archive`, { query: { path: '/data' }, raw: hostile }), (e: Error) => /escapes/.test(e.message));
    assert.equal(existsSync('/tmp/peti-escape'), false);
    assert.doesNotMatch(exec('api-cp', 'ls -a /tmp /'), /peti-escape/);
    // A symlink planted by the tar is never written through by a later entry.
    const planted = await tarOf([{ name: 'link', type: 'symlink', linkname: '/' }, { name: 'link/tmp/peti-through', body: 'x' }]);
    await assert.rejects(d.client.send('PUT', `/containers/${id}/archive`, { query: { path: '/data' }, raw: planted }));
    assert.equal(existsSync('/tmp/peti-through'), false);
    // PUT onto a file is refused, as Docker.
    await assert.rejects(d.client.send('PUT', `/containers/${id}/archive`, { query: { path: '/data/sub/f' }, raw: await tarOf([{ name: 'y', body: 'y' }]) }), (e: Error) => /not a directory/.test(e.message));
  });

  it('docker cp and peti cp both ways: files, directories, -, -a, on running and stopped containers', async () => {
    docker(['run', '-d', '--name', 'cp1', 'busybox', 'sh', '-c', 'mkdir -p /srv/d/e && echo one > /srv/d/one && echo two > /srv/d/e/two && sleep 1000']);
    await waitFor(() => d.docker(['exec', 'cp1', 'test', '-f', '/srv/d/e/two']).code === 0, 'files');
    docker(['cp', 'cp1:/srv/d', join(host, 'd1')]);
    assert.equal(readFileSync(join(host, 'd1/e/two'), 'utf8'), 'two\n');
    docker(['cp', 'cp1:/srv/d/one', join(host, 'one.txt')]);
    assert.equal(readFileSync(join(host, 'one.txt'), 'utf8'), 'one\n');
    writeFileSync(join(host, 'in.txt'), 'into the container\n');
    mkdirSync(join(host, 'tree/sub'), { recursive: true });
    writeFileSync(join(host, 'tree/sub/leaf'), 'leaf\n');
    docker(['cp', join(host, 'in.txt'), 'cp1:/srv/']);
    docker(['cp', join(host, 'tree'), 'cp1:/srv/tree2']);
    assert.equal(exec('cp1', 'cat /srv/in.txt /srv/tree2/sub/leaf'), 'into the container\nleaf\n');
    // `-`: a tar on stdout, and a tar from stdin
    const tar = d.docker(['cp', 'cp1:/srv/d/one', '-']);
    assert.equal(tar.code, 0, tar.stderr);
    assert.equal((await tarNames(Buffer.from(tar.stdout, 'latin1'))).get('one'), 'one\n');
    docker(['cp', '-', 'cp1:/srv'], await tarOf([{ name: 'fromstdin', body: 'stdin\n' }]));
    assert.equal(exec('cp1', 'cat /srv/fromstdin'), 'stdin\n');

    // peti cp, the same ways
    peti(['cp', 'cp1:/srv/d', join(host, 'p1')]);
    assert.equal(readFileSync(join(host, 'p1/e/two'), 'utf8'), 'two\n');
    peti(['cp', 'cp1:/srv/d/.', join(host, 'p2')]);
    assert.equal(readFileSync(join(host, 'p2/one'), 'utf8'), 'one\n');
    peti(['cp', join(host, 'in.txt'), 'cp1:/srv/renamed.txt']);
    peti(['container', 'cp', join(host, 'tree'), 'cp1:/srv/']);
    assert.equal(exec('cp1', 'cat /srv/renamed.txt /srv/tree/sub/leaf'), 'into the container\nleaf\n');
    const ptar = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/peti'), 'cp', 'cp1:/srv/d/one', '-'], { env: { ...process.env, PETI_HOST: d.host } });
    assert.equal((await tarNames(ptar.stdout)).get('one'), 'one\n');
    peti(['cp', '-', 'cp1:/srv'], await tarOf([{ name: 'petistdin', body: 'p\n' }]));
    assert.equal(exec('cp1', 'cat /srv/petistdin'), 'p\n');
    // -a: owned by the container's user (docker's copyUIDGID); without it, the tar's owners
    docker(['run', '-d', '--name', 'cpuser', '--user', '1234:4321', 'busybox', 'sleep', '1000']);
    peti(['cp', '-a', join(host, 'in.txt'), 'cpuser:/tmp/owned']);
    assert.equal(docker(['exec', 'cpuser', 'stat', '-c', '%u:%g', '/tmp/owned']), '1234:4321\n');

    // a stopped container: its rootfs is mounted for the copy (and the copy sees the writes of its run)
    docker(['stop', '-t', '0', 'cp1']);
    docker(['cp', 'cp1:/srv/in.txt', join(host, 'stopped.txt')]);
    assert.equal(readFileSync(join(host, 'stopped.txt'), 'utf8'), 'into the container\n');
    docker(['cp', join(host, 'one.txt'), 'cp1:/srv/while-stopped']);
    docker(['create', '--name', 'cpcreated', 'busybox', 'true']);
    docker(['cp', join(host, 'one.txt'), 'cpcreated:/']);
    peti(['cp', 'cpcreated:/one.txt', join(host, 'back.txt')]);
    assert.equal(readFileSync(join(host, 'back.txt'), 'utf8'), 'one\n');
    docker(['start', 'cp1']);
    assert.equal(exec('cp1', 'cat /srv/while-stopped'), 'one\n');
    // errors keep Docker's wording
    const missing = d.docker(['cp', 'cp1:/no/such', join(host, 'x')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Could not find the file \/no\/such in container cp1/);
  });

  it('hostile symlinks in the container stay inside its root (running and stopped)', async () => {
    docker(['run', '-d', '--name', 'evil', 'busybox', 'sh', '-c', 'ln -sfn / /evil-root; ln -sfn /etc /evil-etc; ln -sfn ../../../../etc/shadow /evil-rel; echo container > /etc/marker; sleep 1000']);
    await waitFor(() => d.docker(['exec', 'evil', 'test', '-f', '/etc/marker']).code === 0, 'symlinks');
    let containerPasswd = '';
    let containerShadow = '';
    const check = (): void => {
      // out of the container: the container's /etc, never the host's
      docker(['cp', 'evil:/evil-etc/marker', join(host, 'marker')]);
      assert.equal(readFileSync(join(host, 'marker'), 'utf8'), 'container\n');
      docker(['cp', 'evil:/evil-root/etc/passwd', join(host, 'passwd')]);
      assert.equal(readFileSync(join(host, 'passwd'), 'utf8'), containerPasswd);
      // the link itself (no -L) comes out as a link, not as the host's /etc/shadow
      rmSync(join(host, 'shadow'), { force: true });
      peti(['cp', 'evil:/evil-rel', join(host, 'shadow')]);
      assert.ok(lstatSync(join(host, 'shadow')).isSymbolicLink());
      rmSync(join(host, 'shadow'), { force: true });
      // (the docker CLI refuses to write a link pointing out of the destination at all)
      assert.match(d.docker(['cp', 'evil:/evil-rel', join(host, 'shadow')]).stderr, /invalid symlink/);
      rmSync(join(host, 'shadow'), { force: true });
      // with -L: the target resolved inside the container: its /etc/shadow, never the host's
      docker(['cp', '-L', 'evil:/evil-rel', join(host, 'shadow')]);
      assert.equal(readFileSync(join(host, 'shadow'), 'utf8'), containerShadow);
      rmSync(join(host, 'shadow'), { force: true });
      // into the container through the links: lands in the container's /etc and /
      writeFileSync(join(host, 'pwned'), 'pwned\n');
      docker(['cp', join(host, 'pwned'), 'evil:/evil-etc/']);
      docker(['cp', join(host, 'pwned'), 'evil:/evil-root/tmp/']);
      assert.equal(existsSync('/etc/pwned'), false);
      assert.equal(existsSync('/tmp/pwned'), false);
    };
    containerPasswd = exec('evil', 'cat /etc/passwd');
    containerShadow = exec('evil', 'cat /etc/shadow');
    assert.notEqual(containerShadow, readFileSync('/etc/shadow', 'utf8'));
    assert.notEqual(containerPasswd, readFileSync('/etc/passwd', 'utf8'));
    check();
    assert.equal(exec('evil', 'cat /etc/pwned /tmp/pwned'), 'pwned\npwned\n');
    docker(['stop', '-t', '0', 'evil']);
    check();
    docker(['start', 'evil']);
    assert.equal(exec('evil', 'cat /etc/pwned'), 'pwned\n');
  });

  it('bind mounts: cp sees what the container sees (running and stopped)', async () => {
    const bind = join(host, 'bind');
    mkdirSync(bind);
    writeFileSync(join(bind, 'from-host'), 'host side\n');
    docker(['run', '-d', '--name', 'bindc', '-v', `${bind}:/mnt/b`, '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'echo tmp > /scratch/t; sleep 1000']);
    await waitFor(() => d.docker(['exec', 'bindc', 'test', '-f', '/scratch/t']).code === 0, 'tmpfs file');
    docker(['cp', 'bindc:/mnt/b/from-host', join(host, 'bound.txt')]);
    assert.equal(readFileSync(join(host, 'bound.txt'), 'utf8'), 'host side\n');
    docker(['cp', join(host, 'one.txt'), 'bindc:/mnt/b/']);
    assert.equal(readFileSync(join(bind, 'one.txt'), 'utf8'), 'one\n');
    // tmpfs of a running container: reached through its mount namespace
    docker(['cp', 'bindc:/scratch/t', join(host, 'tmpfs.txt')]);
    assert.equal(readFileSync(join(host, 'tmpfs.txt'), 'utf8'), 'tmp\n');
    docker(['stop', '-t', '0', 'bindc']);
    docker(['cp', join(host, 'in.txt'), 'bindc:/mnt/b/stopped-in']);
    assert.equal(readFileSync(join(bind, 'stopped-in'), 'utf8'), 'into the container\n');
    docker(['cp', 'bindc:/mnt/b/from-host', join(host, 'bound2.txt')]);
    assert.equal(readFileSync(join(host, 'bound2.txt'), 'utf8'), 'host side\n');
  });

  it('diff and export', async () => {
    docker(['run', '--name', 'chg', 'busybox', 'sh', '-c', 'echo x > /added && echo y >> /etc/passwd && rm /bin/vi && mkdir /newdir && touch /newdir/f']);
    const api = await d.client.json<{ Path: string; Kind: number }[]>('GET', '/containers/chg/changes');
    const kinds = new Map(api.map((c) => [c.Path, c.Kind]));
    assert.equal(kinds.get('/added'), 1);
    assert.equal(kinds.get('/etc/passwd'), 0);
    assert.equal(kinds.get('/etc'), 0);
    assert.equal(kinds.get('/bin/vi'), 2);
    assert.equal(kinds.get('/newdir'), 1);
    assert.equal(kinds.get('/newdir/f'), 1);
    assert.ok(!kinds.has('/etc/hosts') && !kinds.has('/dev') && !kinds.has('/proc'), JSON.stringify(api));
    const out = docker(['diff', 'chg']);
    assert.match(out, /^A \/added$/m);
    assert.match(out, /^C \/etc\/passwd$/m);
    assert.match(out, /^D \/bin\/vi$/m);
    assert.equal(peti(['diff', 'chg']), out);

    docker(['export', '-o', join(host, 'exp.tar'), 'chg']);
    const names = await tarNames(readFileSync(join(host, 'exp.tar')));
    assert.equal(names.get('added'), 'x\n');
    assert.ok(names.has('bin/busybox') || names.has('bin/sh'));
    assert.ok(!names.has('bin/vi'));
    assert.ok([...names.values()].includes('hardlink') || [...names.values()].includes('symlink'));
    peti(['export', '-o', join(host, 'exp2.tar'), 'chg']);
    const names2 = await tarNames(readFileSync(join(host, 'exp2.tar')));
    assert.deepEqual([...names2.keys()].sort(), [...names.keys()].sort());
  });

  it('top, stats (busy container), update applied live, pause/unpause, rename', async () => {
    const since = Math.floor(Date.now() / 1000);
    docker(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done']);
    const id = (await d.client.json<{ Id: string }>('GET', '/containers/busy/json')).Id;
    const top = await d.client.json<{ Titles: string[]; Processes: string[][] }>('GET', '/containers/busy/top');
    assert.ok(top.Titles.includes('PID') && top.Titles.includes('CMD'));
    assert.equal(top.Processes.length, 1);
    assert.match(top.Processes[0]!.at(-1)!, /while/);
    const custom = await d.client.json<{ Titles: string[]; Processes: string[][] }>('GET', '/containers/busy/top', { query: { ps_args: '-o pid,comm' } });
    assert.deepEqual(custom.Titles, ['PID', 'COMMAND']);
    assert.match(docker(['top', 'busy']), /UID\s+PID\s+PPID/);
    assert.match(peti(['top', 'busy', '-o', 'pid,args']), /PID\s+COMMAND\n\d+\s+sh -c while/);

    // stats: the docker CLI shows a busy loop near one CPU, real memory, and the process count
    const st = docker(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}} {{.NetIO}} {{.BlockIO}}', 'busy']);
    const [name, cpu, mem, , , pids] = st.trim().split(/\s+/);
    assert.equal(name, 'busy');
    // a busy loop: well above idle (other work on this 2-core machine may take its share)
    assert.ok(Number.parseFloat(cpu!) > 5, st);
    assert.match(mem!, /^\d+(\.\d+)?[KMG]iB$/);
    assert.equal(pids, '1');
    const table = docker(['stats', '--no-stream', 'busy']);
    assert.match(table, /CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS/);
    const ps = peti(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}}', 'busy']);
    assert.ok(Number.parseFloat(ps.split(' ')[1]!) > 5, ps);
    assert.match(peti(['stats', '--no-stream']), /CONTAINER ID\s+NAME\s+CPU %/);
    // the API stream: a frame a second, each with the previous one's CPU numbers
    const ctl = new AbortController();
    const res = await d.client.send('GET', '/containers/busy/stats', { signal: ctl.signal });
    const frames: { cpu_stats: { cpu_usage: { total_usage: number } }; precpu_stats: { cpu_usage: { total_usage: number } }; memory_stats: { usage: number; limit: number }; pids_stats: { current: number } }[] = [];
    for await (const f of d.client.jsonLines<(typeof frames)[number]>(res)) {
      frames.push(f);
      if (frames.length === 2) break;
    }
    ctl.abort();
    assert.equal(frames[1]!.precpu_stats.cpu_usage.total_usage, frames[0]!.cpu_stats.cpu_usage.total_usage);
    assert.ok(frames[1]!.memory_stats.usage > 0 && frames[1]!.pids_stats.current === 1);
    const oneShot = await d.client.json<{ precpu_stats: { cpu_usage: { total_usage: number } }; cpu_stats: { online_cpus: number } }>('GET', '/containers/busy/stats', { query: { stream: false, 'one-shot': true } });
    assert.equal(oneShot.precpu_stats.cpu_usage.total_usage, 0);
    assert.ok(oneShot.cpu_stats.online_cpus >= 1);

    // update: live cgroup limits, persisted HostConfig, Docker's answer
    docker(['update', '-m', '64m', '--memory-swap', '128m', '--cpus', '0.5', '--pids-limit', '20', '--restart', 'on-failure:3', 'busy']);
    const hc = (await inspect(d, 'busy')).HostConfig;
    assert.equal(hc.Memory, 64 * 1024 * 1024);
    assert.equal(hc.NanoCpus, 5e8);
    assert.equal(hc.PidsLimit, 20);
    assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    const pid = (await inspect(d, 'busy')).State.Pid;
    const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const v1 = (ctrl: string): string | undefined => cg.split('\n').map((l) => l.split(':')).find((f) => f[1]?.split(',').includes(ctrl))?.[2];
    if (v1('memory') !== undefined) {
      assert.equal(readFileSync(`/sys/fs/cgroup/memory${v1('memory')}/memory.limit_in_bytes`, 'utf8').trim(), String(64 * 1024 * 1024));
      assert.equal(readFileSync(`/sys/fs/cgroup/pids${v1('pids')}/pids.max`, 'utf8').trim(), '20');
      assert.equal(readFileSync(`/sys/fs/cgroup/cpu${v1('cpu')}/cpu.cfs_quota_us`, 'utf8').trim(), '50000');
    }
    const upd = await d.client.json<{ Warnings: string[] }>('POST', '/containers/busy/update', { body: { CpuShares: 512 } });
    assert.deepEqual(upd.Warnings, []);
    const limited = docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'busy']);
    assert.match(limited, /\/ 64MiB/);
    await assert.rejects(d.client.json('POST', '/containers/busy/update', { body: { Memory: 1024 } }), /Minimum memory limit/);

    // pause / unpause
    docker(['pause', 'busy']);
    assert.equal((await inspect(d, 'busy')).State.Status, 'paused');
    assert.match(docker(['ps', '--filter', 'name=busy']), /\(Paused\)/);
    const ex = d.docker(['exec', 'busy', 'true']);
    assert.notEqual(ex.code, 0);
    assert.match(ex.stderr, /is paused, unpause the container before exec/);
    const pauseAgain = d.docker(['pause', 'busy']);
    assert.match(pauseAgain.stderr, /already paused/);
    // cp of a paused container works and leaves it paused
    docker(['cp', 'busy:/etc/passwd', join(host, 'paused-passwd')]);
    assert.equal((await inspect(d, 'busy')).State.Status, 'paused');
    peti(['unpause', 'busy']);
    assert.equal((await inspect(d, 'busy')).State.Status, 'running');
    peti(['container', 'pause', 'busy']);
    docker(['stop', '-t', '1', 'busy']);
    assert.equal((await inspect(d, 'busy')).State.Status, 'exited');

    // rename
    docker(['create', '--name', 'taken', 'busybox', 'true']);
    const clash = d.docker(['rename', 'busy', 'taken']);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /is already in use by container/);
    await assert.rejects(d.client.send('POST', '/containers/busy/rename', { query: { name: 'taken' } }), (e: Error) => e.constructor.name === 'Conflict' || e.constructor.name === 'AlreadyExists');
    docker(['rename', 'busy', 'busy2']);
    peti(['rename', 'busy2', 'busy3']);
    assert.equal((await inspect(d, 'busy3')).Name, '/busy3');

    const evRes = await d.client.send('GET', '/events', { query: { since: String(since), until: String(Math.floor(Date.now() / 1000) + 1), filters: JSON.stringify({ container: [id] }) } });
    const events = (await readAll(evRes)).toString().trim().split('\n').map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: Record<string, string> } });
    const actions = events.map((e) => e.Action);
    for (const a of ['pause', 'unpause', 'update', 'rename']) assert.ok(actions.includes(a), `${a} in ${actions.join(',')}`);
    assert.equal(events.find((e) => e.Action === 'rename')!.Actor.Attributes.oldName, '/busy');
  });

  it('cleans up: no container and no stray mount left', async () => {
    await removeAll(d);
    assert.deepEqual(await d.client.json('GET', '/containers/json', { query: { all: '1' } }), []);
    // The namespaces petid keeps ready for the next containers are the only mounts it may have left.
    // A removed container's namespace is released in the background: within moments.
    const stray = (): string[] => {
      const pool = new Set(pooledSandboxes(d).ids.map((id) => join(d.execRoot, 'netns', id)));
      return readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(d.execRoot) && !pool.has(l.split(' ')[1] ?? ''));
    };
    await waitFor(() => stray().length === 0, 'no stray mount under the exec root', 5000).catch(() => undefined);
    assert.deepEqual(stray(), []);
    assert.deepEqual(readdirSync(join(d.execRoot, 'containers')), []);
  });
});
