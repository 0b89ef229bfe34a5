/**
 * Networking, side by side: Peti (the docker CLI against petid), Docker and Podman, each with its real bridge
 * networking (bench/lib/engines.ts, `network: true`: Docker's docker0 + iptables + docker-proxy, Podman's netavark,
 * Peti's own bridge and nft table on a free subnet), one engine at a time. Per engine:
 *   run cost:   `run --rm busybox true` on the default bridge against `run --rm --network none busybox true`,
 *               3 warm-ups of each, then 20 of each, alternating: medians and their difference
 *   throughput: a busybox httpd in a container serves a 100 MiB file; a Node TCP client on the host GETs it through
 *               `-p 127.0.0.1:PORT:8080` and from the container's IP:8080 directly, 1 warm-up then 11 of each,
 *               alternating: median MiB/s of each and the ratio
 * Before and after each engine the host's interfaces, `iptables-save`, the nft ruleset, ip_forward and the FORWARD
 * policy are compared; what the engine left behind is undone (engines.ts at stop, checked again here) and the check is
 * printed. Changes by other work on this shared host (other petids' veths and tables) are reported, never touched.
 * Goals (issue 6): bridge networking adds < 15 ms to a run; a published port carries >= 80% of the direct throughput.
 * Run: node --import tsx bench/network.ts [peti|docker|podman ...]
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUSYBOX, busyboxInPeti, importBusybox } from './lib/busybox.js';
import { cli, freePort, show, sleep, type Client } from './lib/clients.js';
import {
  availableEngines, debianPackageOf, forwardPolicy, hostNetChanges, markdownTable, median, removeTree, runTimed,
  snapshotHostNet, undoHostNet, which, withEngine, type Engine, type HostNet, type NetOwner,
} from './lib/engines.js';

const RUN_WARMUP = 3;
const RUN_RUNS = 20;
const XFER_RUNS = 11;
const FILE_MIB = 100;
const FILE_BYTES = FILE_MIB * 1024 * 1024;
const XFER_TIMEOUT_MS = 60_000;

interface Result {
  label: string;
  bridge: number[];
  none: number[];
  /** ms per transfer */
  published: number[];
  direct: number[];
  note: string;
  hostCheck: string;
}

const failures: string[] = [];


/**
 * GET /f over HTTP/1.0 with a bare Node socket (no HTTP parser, no copies beyond the socket's): ms from connect to
 * the server's close, and the body size, which must be the whole file.
 */
function download(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = connect({ host, port });
    let head = Buffer.alloc(0);
    let status = '';
    let body = 0;
    const timer = setTimeout(() => sock.destroy(new Error(`no complete transfer from ${host}:${port} in ${XFER_TIMEOUT_MS} ms`)), XFER_TIMEOUT_MS);
    sock.once('connect', () => sock.write(`GET /f HTTP/1.0\r\nHost: ${host}:${port}\r\n\r\n`));
    sock.on('data', (d: Buffer) => {
      if (status) {
        body += d.length;
        return;
      }
      head = Buffer.concat([head, d]);
      const i = head.indexOf('\r\n\r\n');
      if (i >= 0) {
        status = head.subarray(0, head.indexOf('\r\n')).toString();
        body = head.length - i - 4;
      }
    });
    sock.once('error', (e) => { clearTimeout(timer); reject(e); });
    sock.once('close', (hadError) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      if (hadError) return; // 'error' rejected
      if (!/^HTTP\/1\.[01] 200/.test(status)) reject(new Error(`${host}:${port}: ${status || 'no HTTP response'}`));
      else if (body !== FILE_BYTES) reject(new Error(`${host}:${port}: got ${body} bytes of ${FILE_BYTES}`));
      else resolve(ms);
    });
  });
}

const mibps = (ms: number): number => FILE_MIB / (ms / 1000);

async function runCost(c: Client): Promise<{ bridge: number[]; none: number[] }> {
  const bridgeArgs = ['run', '--rm', BUSYBOX, 'true'];
  const noneArgs = ['run', '--rm', '--network', 'none', BUSYBOX, 'true'];
  show(c, bridgeArgs, `   (x${RUN_RUNS} after ${RUN_WARMUP} warm-ups, alternating with:)`);
  show(c, noneArgs, `   (x${RUN_RUNS} after ${RUN_WARMUP} warm-ups)`);
  const bridge: number[] = [];
  const none: number[] = [];
  for (let i = 0; i < RUN_WARMUP; i++) {
    await cli(c, bridgeArgs, { capture: false });
    await cli(c, noneArgs, { capture: false });
  }
  for (let i = 0; i < RUN_RUNS; i++) {
    // Alternate which goes first, so neither always follows the other.
    const order = i % 2 === 0 ? [bridgeArgs, noneArgs] : [noneArgs, bridgeArgs];
    for (const a of order) {
      const r = await cli(c, a, { capture: false });
      (a === bridgeArgs ? bridge : none).push(r.ms);
    }
  }
  console.log(`  run --rm: bridge median ${median(bridge).toFixed(1)} ms, --network none median ${median(none).toFixed(1)} ms, ` +
    `difference ${(median(bridge) - median(none)).toFixed(1)} ms`);
  return { bridge, none };
}

async function throughput(c: Client): Promise<{ published: number[]; direct: number[]; note: string }> {
  const port = await freePort();
  const script = `dd if=/dev/zero of=/var/www/f bs=1M count=${FILE_MIB} 2>/dev/null && exec httpd -f -p 8080 -h /var/www`;
  const runArgs = ['run', '-d', '-p', `127.0.0.1:${port}:8080`, BUSYBOX, 'sh', '-c', script];
  show(c, runArgs);
  const id = (await cli(c, runArgs)).stdout.trim().split('\n').pop() as string;
  try {
    const fmt = ['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', id];
    show(c, fmt);
    const ip = (await cli(c, fmt)).stdout.trim().split(/\s+/).find((x) => x) ?? '';
    if (!ip) throw new Error(`${c.label}: the container has no IP address`);
    // Ready when the file is whole and httpd answers: the first full GET (a warm-up) succeeds.
    const end = Date.now() + 30_000;
    for (;;) {
      try {
        await download(ip, 8080);
        break;
      } catch (err) {
        if (Date.now() > end) throw new Error(`${c.label}: httpd in the container not serving after 30 s: ${(err as Error).message}`);
        await sleep(200);
      }
    }
    await download('127.0.0.1', port); // warm-up through the published port
    console.log(`  GET /f (${FILE_BYTES} bytes) with a Node TCP client: 127.0.0.1:${port} (published) and ${ip}:8080 (direct), ` +
      `1 warm-up then x${XFER_RUNS} each, alternating`);
    const published: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < XFER_RUNS; i++) {
      published.push(await download('127.0.0.1', port));
      direct.push(await download(ip, 8080));
    }
    const p = mibps(median(published));
    const d = mibps(median(direct));
    console.log(`  published ${p.toFixed(0)} MiB/s, direct ${d.toFixed(0)} MiB/s, ratio ${(p / d).toFixed(2)}` +
      `   (per run, MiB/s: published ${published.map((x) => mibps(x).toFixed(0)).join(' ')}; direct ${direct.map((x) => mibps(x).toFixed(0)).join(' ')})`);
    return { published, direct, note: `IP ${ip}` };
  } finally {
    // kill, then rm: Podman's rm -f waits 10 s for a PID 1 that ignores SIGTERM.
    show(c, ['kill', id.slice(0, 12)], '; rm -f');
    await cli(c, ['kill', id], { check: false, capture: false });
    await cli(c, ['rm', '-f', id], { check: false, capture: false });
  }
}

/** A short account of what an engine has changed on the host while it runs (proof that it really networks). */
function summarize(before: HostNet, during: HostNet, owner: NetOwner): string {
  const ch = hostNetChanges(before, during, owner).ours;
  const links = ch.filter((l) => l.startsWith('link ')).map((l) => l.replace(/^link (\S+).*?( added| removed)$/, '$1$2'));
  const save = during.save.iptables ?? [];
  const rules = save.filter((l) => l.startsWith('-A ')).length - (before.save.iptables ?? []).filter((l) => l.startsWith('-A ')).length;
  const tables = ch.filter((l) => l.startsWith('nft ')).map((l) => l.replace(/^nft table /, ''));
  const sysctls = ch.filter((l) => l.startsWith('net.'));
  return [
    links.length ? `links: ${links.join(', ')}` : 'no new links',
    `iptables rules: ${rules >= 0 ? '+' : ''}${rules}`,
    `FORWARD policy ${forwardPolicy(during)}`,
    tables.length ? `nft: ${tables.join(', ')}` : 'nft: no change',
    ...sysctls,
  ].join('; ');
}

function describe(s: HostNet): string {
  const tables = Object.keys(s.nft);
  return `${Object.keys(s.links).length} links, iptables-save ${(s.save.iptables ?? []).length} lines, nft tables [${tables.join(', ')}], ` +
    `ip_forward ${s.sysctls['ipv4/ip_forward']}, FORWARD ${forwardPolicy(s)}`;
}

/** Compare with the snapshot from before the engine; undo what is still its own; say what was found. */
function checkHost(name: string, before: HostNet, owner: NetOwner): string {
  let after = snapshotHostNet();
  let { ours, others } = hostNetChanges(before, after, owner);
  let verdict: string;
  if (ours.length === 0) {
    verdict = 'as before';
    console.log(`  host network after ${name}: as before (${describe(after)})`);
  } else {
    console.log(`  host network after ${name}: NOT as before: ${ours.join('; ')}; undoing`);
    undoHostNet(name, before, owner);
    after = snapshotHostNet();
    ({ ours, others } = hostNetChanges(before, after, owner));
    verdict = ours.length === 0 ? 'restored by the bench' : `LEFT CHANGED: ${ours.join('; ')}`;
    console.log(`  host network after ${name}, again: ${verdict}`);
  }
  if (others.length) console.log(`  (meanwhile other work on this host changed, not ${name}'s, left alone: ${others.join('; ')})`);
  return verdict;
}

function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** Busy share of all CPUs since a /proc/stat sample. */
function cpuTimes(): { busy: number; total: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

function clientOf(e: Engine, hasDocker: boolean): Client {
  if (e.name === 'peti' && hasDocker) {
    const host = e.cliEnv.PETI_HOST as string;
    return { label: 'peti (docker CLI)', engine: e, cmd: 'docker', args: [], env: { DOCKER_HOST: host, DOCKER_CONFIG: join(e.dir, 'docker-config') } };
  }
  return { label: `${e.name} (${e.name} CLI)`, engine: e, cmd: e.cliCmd, args: e.cliArgs, env: e.cliEnv };
}

export async function main(only: string[] = []): Promise<void> {
  const t0 = performance.now();
  const cpu0 = cpuTimes();
  const installed = availableEngines();
  const hasDocker = installed.includes('docker');
  const engines = installed.filter((n) => only.length === 0 || only.includes(n));
  if (!engines.includes('peti')) engines.unshift('peti'); // the busybox rootfs comes out of Peti (lib/busybox.ts)
  console.log('NOTE: wall times on a shared 2-core machine: other work running at the same time makes them noisy.');
  console.log(`engines: ${engines.join(', ')}${installed.includes('podman') ? '' : ' (podman not installed: apt-get install podman)'}` +
    `${hasDocker ? '' : ' (docker not installed: apt-get install docker.io)'}; one at a time, each with its bridge networking`);
  const iptables = (await runTimed('iptables', ['--version'], {}, { check: false })).stdout.trim();
  console.log(`node ${process.version}; ${iptables}; nft: ${debianPackageOf(which('nft'))}; netavark: ${debianPackageOf('/usr/lib/podman/netavark')}`);
  console.log(`load average at start: ${loadavg()}`);

  const work = mkdtempSync(join(tmpdir(), 'peti-bench-network-'));
  const results: Result[] = [];
  let tar = '';
  try {
    for (const name of engines) {
      const before = snapshotHostNet();
      let owner: NetOwner | undefined;
      const skip = name === 'peti' && only.length > 0 && !only.includes('peti'); // peti only made the image
      let r: Omit<Result, 'hostCheck'> | undefined;
      try {
        await withEngine(name, async (e) => {
          owner = e.netOwner;
          console.log(`\n${name}: ${e.version}   (load average ${loadavg()})`);
          for (const l of e.setup) console.log(`  ${l}`);
          if (name === 'peti') tar = await busyboxInPeti(e, work);
          else await importBusybox(e, tar);
          if (skip) return;
          const c = clientOf(e, hasDocker);
          console.log(`${c.label}:`);
          let cost = { bridge: [] as number[], none: [] as number[] };
          let xfer = { published: [] as number[], direct: [] as number[], note: '' };
          try {
            cost = await runCost(c);
          } catch (err) {
            failures.push(`${c.label}: run --rm: ${(err as Error).message.split('\n')[0]}`);
            console.log(`  FAILED: ${failures[failures.length - 1]}`);
          }
          try {
            xfer = await throughput(c);
          } catch (err) {
            failures.push(`${c.label}: published port: ${(err as Error).message.split('\n')[0]}`);
            console.log(`  FAILED: ${failures[failures.length - 1]}`);
          }
          if (owner) console.log(`  while running, ${name} had changed on the host: ${summarize(before, snapshotHostNet(), owner)}`);
          r = { label: c.label, ...cost, ...xfer };
        }, { network: true });
      } finally {
        const verdict = owner ? checkHost(name, before, owner) : 'n/a';
        if (r) results.push({ ...(r as Omit<Result, 'hostCheck'>), hostCheck: verdict });
      }
    }
  } finally {
    removeTree(work);
  }

  const f1 = (x: number): string => (Number.isNaN(x) ? 'failed' : x.toFixed(1));
  const f0 = (x: number): string => (Number.isNaN(x) ? 'failed' : x.toFixed(0));
  const rows = results.map((r) => {
    const add = median(r.bridge) - median(r.none);
    const p = mibps(median(r.published));
    const d = mibps(median(r.direct));
    return { r, add, p, d, ratio: p / d };
  });
  console.log('');
  console.log(markdownTable(
    ['engine (CLI)', 'run --rm bridge median ms', 'run --rm --network none median ms', 'bridge adds ms', `-p 127.0.0.1 MiB/s`,
      'container IP MiB/s', 'published / direct', 'host network after'],
    rows.map(({ r, add, p, d, ratio }) => [r.label, f1(median(r.bridge)), f1(median(r.none)), f1(add), f0(p), f0(d),
      Number.isNaN(ratio) ? 'failed' : ratio.toFixed(2), r.hostCheck]),
  ));
  console.log(`(run --rm: ${RUN_RUNS} of each, alternating, after ${RUN_WARMUP} warm-ups; throughput: median of ${XFER_RUNS} GETs of a ` +
    `${FILE_MIB} MiB file from busybox httpd by a Node TCP client on the host)`);
  console.log('');
  console.log(markdownTable(['goal', ...rows.map(({ r }) => r.label)], [
    ['bridge adds < 15 ms to run --rm', ...rows.map(({ add }) => (Number.isNaN(add) ? 'failed' : `${add < 15 ? 'yes' : 'no'} (${add.toFixed(1)} ms)`))],
    ['published port >= 80% of direct', ...rows.map(({ ratio }) => (Number.isNaN(ratio) ? 'failed' : `${ratio >= 0.8 ? 'yes' : 'no'} (${(ratio * 100).toFixed(0)}%)`))],
  ]));
  if (failures.length) console.log(`\nfailed (no number above):\n  ${failures.join('\n  ')}`);
  const cpu1 = cpuTimes();
  console.log(`\nload average at end: ${loadavg()}; CPU busy over the run (both cores, this bench included): ` +
    `${((100 * (cpu1.busy - cpu0.busy)) / (cpu1.total - cpu0.total)).toFixed(0)}%`);
  console.log(`network bench: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
