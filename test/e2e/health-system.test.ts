/**
 * Healthchecks and the system verbs against a real petid, through the API, the peti CLI and the real docker CLI:
 * healthy/unhealthy transitions, `(healthy)` in ps, the health= filter, health_status and exec events, a hanging
 * check killed at its timeout, checks that go on after petid is SIGKILLed and restarted; system prune (-f, -a,
 * --volumes, --filter until=/label=), system df -v, info, and Docker's event filter table. Every container is removed
 * at the end, even when a test fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAll } from '../../src/client/index.js';
import { TarWriter } from '../../src/lib/tar/index.js';
import { startDaemon, makeBusybox, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { removeAll } from '../helpers/containers.js';

interface Health { Status: string; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] }
interface Ev { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; status?: string; id?: string; from?: string; scope: string; time: number; timeNano: number }

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const nsParam = (ns: bigint): string => `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('healthchecks and system verbs', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'peti-health-'));
  let d: TestDaemon;

  const docker = (...args: string[]): string => {
    const r = d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const peti = (...args: string[]): string => {
    const r = d.peti(args);
    assert.equal(r.code, 0, `peti ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const health = async (ref: string): Promise<Health | undefined> =>
    (await d.client.json<{ State: { Health?: Health } }>('GET', `/containers/${ref}/json`)).State.Health;
  const waitHealth = (ref: string, status: string, ms = 15_000): Promise<Health> =>
    waitFor(async () => { const h = await health(ref); return h?.Status === status ? h : undefined; }, `${ref} ${status}`, ms);
  const events = async (since: bigint, filters: Record<string, string[]> = {}, until = nowNs()): Promise<Ev[]> => {
    const res = await d.client.send('GET', '/events', { query: { since: nsParam(since), until: nsParam(until), filters: JSON.stringify(filters) } });
    return (await readAll(res)).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
  };
  const psNames = (...filters: string[]): string[] =>
    docker('ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f])).split('\n').filter(Boolean).sort();

  before(async () => {
    http.globalAgent = new http.Agent({ keepAlive: false });
    d = await startDaemon({ dir });
    makeBusybox(d);
  });

  after(async () => {
    try {
      if (d.proc.exitCode !== null || d.proc.signalCode !== null) d = await startDaemon({ dir });
      await removeAll(d);
      if (process.env.PETI_TEST_LOG) writeFileSync(process.env.PETI_TEST_LOG, d.logs());
    } finally {
      await d.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('healthy and unhealthy transitions, ps status, health= filter, State.Health, events (docker CLI)', async () => {
    const t0 = nowNs();
    docker('run', '-d', '--name', 'hc-ok', '--health-cmd', 'echo ok', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '300');
    docker('run', '-d', '--name', 'hc-bad', '--health-cmd', 'echo failing >&2; exit 3', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '300');
    docker('run', '-d', '--name', 'hc-none', 'busybox', 'sleep', '300');
    // Right after start: `starting`, shown as `(health: starting)` (the first check runs after one interval).
    const early = docker('ps', '--filter', 'name=hc-ok', '--format', '{{.Status}}').trim();
    assert.match(early, /^Up .*\((health: starting|healthy)\)$/);

    const ok = await waitHealth('hc-ok', 'healthy');
    assert.equal(ok.FailingStreak, 0);
    assert.equal(ok.Log.at(-1)!.ExitCode, 0);
    assert.equal(ok.Log.at(-1)!.Output, 'ok\n');
    assert.ok(Date.parse(ok.Log.at(-1)!.End) >= Date.parse(ok.Log.at(-1)!.Start));
    const bad = await waitHealth('hc-bad', 'unhealthy');
    assert.ok(bad.FailingStreak >= 2, JSON.stringify(bad));
    assert.equal(bad.Log.at(-1)!.ExitCode, 3);
    assert.equal(bad.Log.at(-1)!.Output, 'failing\n');

    assert.match(docker('ps', '--filter', 'name=hc-ok', '--format', '{{.Status}}').trim(), /^Up .* \(healthy\)$/);
    assert.match(docker('ps', '--filter', 'name=hc-bad', '--format', '{{.Status}}').trim(), /^Up .* \(unhealthy\)$/);
    assert.match(docker('ps', '--filter', 'name=hc-none', '--format', '{{.Status}}').trim(), /^Up [^(]*$/);
    assert.deepEqual(psNames('health=healthy'), ['hc-ok']);
    assert.deepEqual(psNames('health=unhealthy'), ['hc-bad']);
    assert.deepEqual(psNames('health=none', 'name=hc-'), ['hc-none']);
    assert.deepEqual(psNames('health=starting'), []);
    const badFilter = d.docker(['ps', '--filter', 'health=sick']);
    assert.notEqual(badFilter.code, 0);
    assert.match(badFilter.stderr, /Unrecognised filter value for health: sick/);
    // The log keeps the last five results.
    await waitFor(async () => ((await health('hc-ok'))?.Log.length ?? 0) >= 5, 'five results');
    await sleep(500);
    assert.equal((await health('hc-ok'))!.Log.length, 5);
    assert.equal(docker('inspect', '-f', '{{.State.Health.Status}}', 'hc-ok').trim(), 'healthy');
    assert.equal(docker('inspect', '-f', '{{json .State.Health}}', 'hc-none').trim(), 'null');

    // health_status events (once per change), and exec events for every check, as Docker emits them.
    const hs = await events(t0, { event: ['health_status'] });
    assert.deepEqual(hs.map((e) => `${e.Actor.Attributes.name} ${e.Action}`).sort(), ['hc-bad health_status: unhealthy', 'hc-ok health_status: healthy']);
    assert.equal(hs[0]!.status, hs[0]!.Action);
    assert.equal(hs[0]!.from, 'busybox');
    const exact = await events(t0, { event: ['health_status: healthy'] });
    assert.deepEqual(exact.map((e) => e.Actor.Attributes.name), ['hc-ok']);
    const execs = await events(t0, { container: ['hc-ok'], event: ['exec_create', 'exec_start', 'exec_die'] });
    assert.ok(execs.some((e) => e.Action === 'exec_create: /bin/sh -c echo ok'), execs.map((e) => e.Action).join(','));
    assert.ok(execs.some((e) => e.Action === 'exec_start: /bin/sh -c echo ok'));
    assert.ok(execs.some((e) => e.Action === 'exec_die' && e.Actor.Attributes.exitCode === '0'));
    const cli = docker('events', '--since', nsParam(t0), '--until', nsParam(nowNs()), '--filter', 'event=health_status', '--filter', 'container=hc-bad');
    assert.match(cli.trim(), /^\S+ container health_status: unhealthy [0-9a-f]{64} \(.*name=hc-bad.*\)$/);
  });

  it('a hanging check is killed at its timeout; stop makes it unhealthy; start makes it starting again', async () => {
    docker('run', '-d', '--name', 'hc-hang', '--health-cmd', 'sleep 60', '--health-timeout', '300ms', '--health-interval', '200ms', '--health-retries', '1', 'busybox', 'sleep', '300');
    const h = await waitHealth('hc-hang', 'unhealthy');
    const last = h.Log.at(-1)!;
    assert.equal(last.ExitCode, -1);
    assert.equal(last.Output, 'Health check exceeded timeout (300ms)');
    assert.ok(Date.parse(last.End) - Date.parse(last.Start) < 3000, JSON.stringify(last));
    // The killed probes do not pile up in the container.
    await sleep(1000);
    const procs = docker('exec', 'hc-hang', 'ps', '-o', 'args').split('\n').filter((l) => l.trim() === 'sleep 60');
    assert.ok(procs.length <= 1, procs.join('|'));

    docker('stop', '-t', '0', 'hc-ok');
    const stopped = await health('hc-ok');
    assert.equal(stopped!.Status, 'unhealthy');
    const logLen = stopped!.Log.length;
    await sleep(600);
    assert.equal((await health('hc-ok'))!.Log.length, logLen, 'no checks while stopped');
    docker('start', 'hc-ok');
    assert.equal((await health('hc-ok'))!.Status, 'starting');
    await waitHealth('hc-ok', 'healthy');
  });

  it('peti CLI: run with --health-*, ps (healthy), --filter health=, inspect; Healthcheck NONE, CMD form, start period; an imported image\'s HEALTHCHECK', async () => {
    peti('run', '-d', '--name', 'hc-peti', '--health-cmd', 'test -e /etc/passwd', '--health-interval', '200ms', 'busybox', 'sleep', '300');
    await waitHealth('hc-peti', 'healthy');
    const ps = peti('ps', '--filter', 'health=healthy', '--format', '{{.Names}} {{.Status}}');
    assert.match(ps, /^hc-peti Up .* \(healthy\)$/m);
    assert.doesNotMatch(ps, /hc-bad/);
    assert.equal(peti('inspect', '-f', '{{.State.Health.Status}}', 'hc-peti').trim(), 'healthy');

    // An imported image's HEALTHCHECK (`--change`) lands in its config.
    const w = new TarWriter();
    const tar = readAll(w.stream);
    await w.add({ name: 'marker', type: 'file', mode: 0o644, size: 2 }, Buffer.from('hi'));
    await w.finalize();
    const imp = await d.client.send('POST', '/images/create', {
      query: { fromSrc: '-', repo: 'hc-image', tag: '1', changes: 'HEALTHCHECK CMD ["/bin/busybox", "true"]' }, raw: await tar, headers: { 'Content-Type': 'application/x-tar' },
    });
    await readAll(imp);
    const img = await d.client.json<{ Config: { Healthcheck?: { Test: string[] } } }>('GET', '/images/hc-image:1/json');
    assert.deepEqual(img.Config.Healthcheck?.Test, ['CMD', '/bin/busybox', 'true']);
    const create = async (name: string, body: Record<string, unknown>): Promise<void> => {
      const r = await d.client.json<{ Id: string }>('POST', '/containers/create', { body: { Image: 'busybox', Cmd: ['sleep', '300'], ...body }, query: { name } });
      (await d.client.send('POST', `/containers/${r.Id}/start`)).resume();
    };
    await create('hc-off', { Healthcheck: { Test: ['NONE'] } });
    await sleep(500);
    assert.equal(await health('hc-off'), undefined);
    assert.deepEqual(psNames('health=none', 'name=hc-off'), ['hc-off']);
    // CMD exec form, no shell.
    await create('hc-exec', { Healthcheck: { Test: ['CMD', '/bin/echo', 'exec form'], Interval: 200_000_000 } });
    const ex = await waitHealth('hc-exec', 'healthy');
    assert.equal(ex.Log.at(-1)!.Output, 'exec form\n');
    // Start period: failures inside it do not count.
    await create('hc-grace', { Healthcheck: { Test: ['CMD-SHELL', 'exit 1'], Interval: 100_000_000, Retries: 1, StartPeriod: 60_000_000_000, StartInterval: 100_000_000 } });
    await waitFor(async () => ((await health('hc-grace'))?.Log.length ?? 0) >= 3, 'grace checks');
    const grace = (await health('hc-grace'))!;
    assert.equal(grace.Status, 'starting');
    assert.equal(grace.FailingStreak, 0);
  });

  it('checks go on after petid is SIGKILLed and restarted, from the persisted state', async () => {
    const before = (await health('hc-peti'))!;
    assert.equal(before.Status, 'healthy');
    await d.stop('SIGKILL');
    const restartedAt = Date.now();
    d = await startDaemon({ dir });
    const h = await health('hc-peti');
    assert.equal(h?.Status, 'healthy', 'status carried over');
    await waitFor(async () => (await health('hc-peti'))!.Log.some((l) => Date.parse(l.Start) > restartedAt), 'a check after the restart');
    assert.equal((await health('hc-peti'))!.Status, 'healthy');
    // The unhealthy one stays unhealthy and keeps failing; streaks continue from the saved count.
    const bad = (await health('hc-bad'))!;
    assert.equal(bad.Status, 'unhealthy');
    await waitFor(async () => (await health('hc-bad'))!.FailingStreak > bad.FailingStreak, 'streak continues');
    assert.match(docker('ps', '--filter', 'name=hc-peti', '--format', '{{.Status}}'), /\(healthy\)/);
    // Clean up the health containers now: the prune tests count what is left.
    docker('rm', '-f', 'hc-ok', 'hc-bad', 'hc-none', 'hc-hang', 'hc-peti', 'hc-off', 'hc-exec', 'hc-grace');
  });

  it('info: docker info, peti info and GET /info carry Docker\'s fields', async () => {
    const info = await d.client.json<Record<string, unknown>>('GET', '/info');
    for (const k of ['ID', 'Containers', 'ContainersRunning', 'ContainersPaused', 'ContainersStopped', 'Images', 'Driver', 'DriverStatus', 'Plugins',
      'MemoryLimit', 'SwapLimit', 'CpuCfsPeriod', 'CpuCfsQuota', 'CPUShares', 'CPUSet', 'PidsLimit', 'IPv4Forwarding', 'NFd', 'SystemTime',
      'LoggingDriver', 'CgroupDriver', 'CgroupVersion', 'NEventsListener', 'KernelVersion', 'OperatingSystem', 'OSType', 'Architecture',
      'IndexServerAddress', 'RegistryConfig', 'NCPU', 'MemTotal', 'DockerRootDir', 'Name', 'Labels', 'ServerVersion', 'Runtimes', 'DefaultRuntime',
      'Swarm', 'LiveRestoreEnabled', 'InitBinary', 'SecurityOptions', 'CDISpecDirs']) {
      assert.ok(k in info, `missing ${k}`);
    }
    assert.equal(info.DockerRootDir, d.dataRoot);
    assert.ok(Number(info.NFd) > 0);
    assert.ok(Number(info.NCPU) > 0 && Number(info.MemTotal) > 0);
    assert.ok(Object.keys(info.Runtimes as object).includes(String(info.DefaultRuntime)));
    assert.equal((info.Swarm as { LocalNodeState: string }).LocalNodeState, 'inactive');

    const text = docker('info');
    for (const re of [/Server Version: 0\.1\.0/, /Storage Driver: overlayfs/, /Cgroup Version: [12]/, /Swarm: inactive/, /Kernel Version: /, /Docker Root Dir: /, /Security Options:\n\s+seccomp/]) {
      assert.match(text, re);
    }
    assert.equal(docker('info', '--format', '{{.Swarm.LocalNodeState}} {{.OSType}}').trim(), 'inactive linux');
    const p = peti('info');
    assert.match(p, /Containers: \d+\n  Running: \d+/);
    assert.match(p, /Storage Driver: overlayfs\n  driver-type: io\.containerd\.snapshotter\.v1/);
    assert.match(p, /Default Runtime: (crun|runc)/);
    assert.equal(peti('info', '--format', '{{.Name}}').trim(), info.Name);
    // A client following events counts as a listener.
    const follow = await d.client.send('GET', '/events');
    const n = (await d.client.json<{ NEventsListener: number }>('GET', '/info')).NEventsListener;
    follow.destroy();
    assert.ok(n >= 1);
  });

  it('events: Docker\'s filter table (API and docker CLI)', async () => {
    const t0 = nowNs();
    docker('run', '--name', 'ev-a', '--label', 'tier=front', '--label', 'env=prod', 'busybox', 'true');
    docker('run', '--name', 'ev-b', '--label', 'tier=back', 'busybox', 'true');
    docker('tag', 'busybox', 'ev-tag:1');
    docker('rmi', 'ev-tag:1');
    const t1 = nowNs();
    const idA = docker('inspect', '-f', '{{.Id}}', 'ev-a').trim();
    const acts = async (f: Record<string, string[]>): Promise<string[]> => (await events(t0, f, t1)).map((e) => `${e.Type}:${e.Actor.Attributes.name ?? ''}:${e.Action}`);
    assert.deepEqual(await acts({ container: ['ev-a'], event: ['start', 'die'] }), ['container:ev-a:start', 'container:ev-a:die']);
    assert.deepEqual(await acts({ container: [idA.slice(0, 10)], event: ['create'] }), ['container:ev-a:create']);
    assert.deepEqual(await acts({ container: ['ev-'], event: ['create'] }), ['container:ev-a:create', 'container:ev-b:create'], 'name prefix');
    assert.deepEqual(await acts({ label: ['tier=front'], event: ['create'] }), ['container:ev-a:create']);
    assert.deepEqual(await acts({ label: ['tier'], event: ['create'] }), ['container:ev-a:create', 'container:ev-b:create']);
    assert.deepEqual(await acts({ label: ['tier=front', 'env=prod'], event: ['create'] }), ['container:ev-a:create'], 'labels AND');
    assert.deepEqual(await acts({ label: ['tier=back', 'env=prod'], event: ['create'] }), [], 'labels AND');
    assert.deepEqual(await acts({ type: ['image'] }), ['image:ev-tag:1:tag', 'image:ev-tag:1:untag']);
    assert.deepEqual(await acts({ image: ['ev-tag'] }), ['image:ev-tag:1:tag', 'image:ev-tag:1:untag'], 'image without tag');
    const byImage = await acts({ image: ['busybox'], event: ['create'] });
    assert.deepEqual(byImage, ['container:ev-a:create', 'container:ev-b:create']);
    assert.deepEqual(await acts({ image: ['busybox:latest'], event: ['create'] }), [], 'a tag the container was not created with');
    assert.deepEqual(await acts({ type: ['container'], event: ['destroy'] }), []);
    assert.deepEqual(await acts({ scope: ['swarm'] }), []);
    assert.ok((await acts({ scope: ['local'], container: ['ev-b'] })).length >= 3);
    assert.deepEqual(await acts({ type: ['volume', 'network'], container: ['ev-a'] }), []);
    // since/until bound the window.
    assert.deepEqual(await events(t1, {}, nowNs()).then((l) => l.filter((e) => e.Actor.Attributes.name === 'ev-a')), []);
    // The docker CLI: its own since/until forms and filters, Docker's line format.
    const out = docker('events', '--since', nsParam(t0), '--until', nsParam(t1), '--filter', 'container=ev-b', '--filter', 'event=die');
    assert.match(out.trim(), /^\S+ container die [0-9a-f]{64} \(.*exitCode=0.*image=busybox.*name=ev-b.*tier=back\)$/);
    const json = docker('events', '--since', nsParam(t0), '--until', nsParam(t1), '--filter', 'type=image', '--format', '{{json .}}').trim().split('\n');
    assert.equal(json.length, 2);
    assert.equal((JSON.parse(json[0]!) as Ev).Type, 'image');
    const p = peti('events', '--since', nsParam(t0), '--until', nsParam(t1), '--filter', 'label=tier=front', '--filter', 'event=create', '--format', '{{.Actor.Attributes.name}} {{.Action}}');
    assert.equal(p.trim(), 'ev-a create');
    docker('rm', 'ev-a', 'ev-b');
  });

  it('system prune: -f, --filter label= / until=, -a, --volumes (docker and peti CLIs); system df -v', async () => {
    // An image no container uses (tagged, so not dangling): -a takes it, plain prune leaves it.
    const w = new TarWriter();
    const tar = readAll(w.stream);
    await w.add({ name: 'only-file', type: 'file', mode: 0o644, size: 3 }, Buffer.from('abc'));
    await w.finalize();
    await readAll(await d.client.send('POST', '/images/create', { query: { fromSrc: '-', repo: 'prune-me', tag: '1' }, raw: await tar, headers: { 'Content-Type': 'application/x-tar' } }));
    docker('create', '--name', 'pr-keep', '--label', 'keep=yes', 'busybox', 'true');
    docker('create', '--name', 'pr-go', '--label', 'keep=no', 'busybox', 'true');
    docker('run', '-d', '--name', 'pr-running', 'busybox', 'sleep', '300');

    // `until=1h`: only what was created more than an hour ago: nothing here.
    let out = docker('system', 'prune', '-f', '--filter', 'until=1h');
    assert.doesNotMatch(out, /Deleted Containers/);
    assert.match(out, /Total reclaimed space: /);
    assert.deepEqual(psNames('name=pr-'), ['pr-go', 'pr-keep', 'pr-running']);
    // label=: only the matching stopped container.
    out = docker('system', 'prune', '-f', '--filter', 'label=keep=no');
    const goId = out.match(/Deleted Containers:\n([0-9a-f]{64})\n/)?.[1];
    assert.ok(goId, out);
    assert.deepEqual(psNames('name=pr-'), ['pr-keep', 'pr-running']);
    // Without -a the unused tagged image stays; the confirmation prompt is skipped with -f only.
    out = docker('system', 'prune', '-f');
    assert.match(out, /Deleted Containers:\n[0-9a-f]{64}\n/);
    assert.deepEqual(psNames('name=pr-'), ['pr-running']);
    assert.match(docker('images', '--format', '{{.Repository}}:{{.Tag}}'), /prune-me:1/);
    // peti system prune -a: the unused image goes, busybox (used by pr-running) stays.
    const p = peti('system', 'prune', '-a', '-f');
    assert.match(p, /Deleted Images:\n(untagged: \S+\n)+(deleted: sha256:[0-9a-f]{64}\n)+\n/);
    assert.match(p, /^untagged: prune-me:1$/m);
    assert.match(p, /Total reclaimed space: /);
    const imgs = docker('images', '--format', '{{.Repository}}:{{.Tag}}');
    assert.doesNotMatch(imgs, /prune-me/);
    assert.match(imgs, /busybox:latest/);
    // --volumes with until is refused (as the docker CLI does, before asking anything).
    const refused = d.docker(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /The "until" filter is not supported with "--volumes"/);
    assert.equal(d.peti(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']).code, 1);
    // --volumes: the anonymous volume of a pruned container goes, a named one stays.
    docker('volume', 'create', 'pr-named');
    docker('create', '--name', 'pr-anon', '-v', '/data', 'busybox', 'true');
    const anon = JSON.parse(docker('inspect', '-f', '{{json .Mounts}}', 'pr-anon')) as { Name: string }[];
    out = docker('system', 'prune', '-f', '--volumes');
    assert.match(out, /Deleted Containers:/);
    assert.match(out, new RegExp(`Deleted Volumes:\\n${anon[0]!.Name}\\n`));
    const vols = docker('volume', 'ls', '-q');
    assert.match(vols, /pr-named/);
    assert.doesNotMatch(vols, new RegExp(anon[0]!.Name));
    // The prompt: answering no cancels, quietly and with status 0 (docker 28).
    docker('create', '--name', 'pr-kept', 'busybox', 'true');
    const no = d.docker(['system', 'prune'], { input: 'n\n' });
    assert.equal(no.code, 0);
    assert.match(no.stdout, /WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache/);
    const pno = d.peti(['system', 'prune', '--volumes'], { input: 'n\n' });
    assert.equal(pno.code, 0);
    assert.match(pno.stdout, /all anonymous volumes not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue\? \[y\/N\] $/);
    assert.deepEqual(psNames('name=pr-kept'), ['pr-kept']);
    docker('rm', 'pr-kept');

    // system df: the summary and the verbose sections.
    const df = docker('system', 'df');
    assert.match(df, /TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+1\s+1\s/);
    assert.match(df, /Containers\s+1\s+1\s/);
    assert.match(df, /Local Volumes\s+1\s+0\s/);
    const dv = docker('system', 'df', '-v');
    assert.match(dv, /Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\nbusybox\s+latest\s/);
    assert.match(dv, /Containers space usage:\n\nCONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES\n[0-9a-f]{12}\s+busybox\s+"sleep 300"\s+0\s+\S+\s+.*pr-running/);
    assert.match(dv, /Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\npr-named\s+0\s+0B/);
    assert.match(dv, /Build cache usage: /);
    const pv = peti('system', 'df', '-v');
    assert.match(pv, /Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\nbusybox\s+latest\s/);
    assert.match(pv, /CONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES\n[0-9a-f]{12}\s+busybox\s+"sleep 300"/);
    assert.match(pv, /VOLUME NAME\s+LINKS\s+SIZE\npr-named\s+0\s+0B/);
    assert.match(peti('system', 'df'), /Local Volumes\s+1\s+0\s/);
    docker('rm', '-f', 'pr-running');
    docker('volume', 'rm', 'pr-named');
  });
});
