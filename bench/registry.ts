/**
 * Registry push and pull, side by side: Peti (petid + `peti registry serve`) and Docker (dockerd + Debian's
 * `docker-registry`) when installed, one engine at a time, each also against the other's registry (so client and
 * server costs separate). Two images, made once and cached in /tmp/peti-bench-registry/ as docker-save archives with
 * gzip layers (loaded into each engine before timing):
 *   big:   one layer, a 100 MB tar of pseudo-random compressible data (~1000 files; gzip -6 takes it to ~40%)
 *   small: 20 layers of ~200 KB each
 * Per engine, registry and image, 3 runs each, median:
 *   push:  `<cli> push 127.0.0.1:PORT/bench/IMG:1` into an empty registry (stopped, wiped, restarted before each run)
 *   pull:  `<cli> pull 127.0.0.1:PORT/bench/IMG:1` with no layer of it present (`rmi` of every tag before each run,
 *          not timed), so every layer is downloaded, verified and unpacked
 * plus the daemon's CPU during each pull: user+sys (its threads and reaped children) from /proc/<pid>/stat before
 * and after, divided by the wall time; 100% is one core busy, 200% both cores of this machine.
 * Docker recompresses layers on push (it keeps them uncompressed); Peti keeps and pushes the distributed blobs.
 * Run: node --import tsx bench/registry.ts [peti|docker ...]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BUILD, availableEngines, debianPackageOf, markdownTable, median, removeTree, which, withEngine, type Engine, type EngineName } from './lib/engines.js';
import { makePool, prng } from './lib/data.js';
import { freePort } from './lib/clients.js';

const CACHE = '/tmp/peti-bench-registry';
const RUNS = 3;
const BIG = 100 * 1024 * 1024;
const BIG_FILES = 1000;
const SMALL_LAYERS = 20;
const SMALL_LAYER = 200 * 1024;

type RegistryName = 'peti registry' | 'docker-registry';
type ImageName = 'big' | 'small';

/** A ustar header + body + padding, for regular files and directories (names < 100 bytes). */
function tarEntry(name: string, body: Buffer | undefined, mode: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  const oct = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0');
  h.write(oct(mode, 8), 100);
  h.write(oct(0, 8), 108);
  h.write(oct(0, 8), 116);
  h.write(oct(body?.length ?? 0, 12), 124);
  h.write(oct(1_700_000_000, 12), 136);
  h.write('        ', 148);
  h.write(body ? '0' : '5', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${oct(sum, 7)}\0`, 148);
  if (!body) return h;
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/** A layer tar of `files` files (log-uniform sizes, scaled to `total`) in a few dirs under `prefix`. */
function layerTar(rnd: () => number, pool: Buffer, prefix: string, files: number, total: number): Buffer {
  const raw = Array.from({ length: files }, () => Math.exp(Math.log(256) + rnd() * (Math.log(4 * 1024 * 1024) - Math.log(256))));
  const scale = total / raw.reduce((a, b) => a + b, 0);
  const dirs = Array.from({ length: Math.min(files, 20) }, (_, j) => `${prefix}/d${j}`);
  const parts: Buffer[] = [tarEntry(`${prefix}/`, undefined, 0o755), ...dirs.map((d) => tarEntry(`${d}/`, undefined, 0o755))];
  for (let i = 0; i < files; i++) {
    const size = Math.max(1, Math.min(pool.length, Math.round((raw[i] as number) * scale)));
    const off = Math.floor(rnd() * (pool.length - size));
    parts.push(tarEntry(`${dirs[i % dirs.length] as string}/f${i}.dat`, pool.subarray(off, off + size), 0o644));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A docker-save archive (gzip layers) of an image with these layer tars, tagged `tag`; made with tar(1). */
function saveArchive(file: string, tag: string, layers: Buffer[]): void {
  const dir = mkdtempSync(join(CACHE, 'mk-'));
  try {
    const names: string[] = [];
    const diffIds: string[] = [];
    for (const [i, l] of layers.entries()) {
      const gz = gzipSync(l, { level: 6 });
      const name = `${String(i).padStart(2, '0')}-${sha(gz).slice(0, 12)}/layer.tar`;
      mkdirSync(join(dir, name, '..'));
      writeFileSync(join(dir, name), gz);
      names.push(name);
      diffIds.push(`sha256:${sha(l)}`);
    }
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z',
      config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
    }));
    const cfgName = `${sha(config)}.json`;
    writeFileSync(join(dir, cfgName), config);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: cfgName, RepoTags: [tag], Layers: names }]));
    const tmp = `${file}.tmp`;
    const r = spawnSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', tmp, '.'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`tar -cf exited ${r.status}`);
    renameSync(tmp, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface BenchImage {
  name: ImageName;
  archive: string;
  /** The tag the archive loads as. */
  local: string;
  layers: number;
  /** Uncompressed bytes. */
  bytes: number;
}

function images(): BenchImage[] {
  mkdirSync(CACHE, { recursive: true });
  const big: BenchImage = { name: 'big', archive: join(CACHE, 'big.tar'), local: 'peti-bench/reg-big:1', layers: 1, bytes: BIG };
  const small: BenchImage = { name: 'small', archive: join(CACHE, 'small.tar'), local: 'peti-bench/reg-small:1', layers: SMALL_LAYERS, bytes: SMALL_LAYERS * SMALL_LAYER };
  const rnd = prng(0x2545f491);
  const pool = makePool(16 * 1024 * 1024, rnd);
  if (!existsSync(big.archive)) saveArchive(big.archive, big.local, [layerTar(rnd, pool, 'data', BIG_FILES, BIG)]);
  if (!existsSync(small.archive)) {
    saveArchive(small.archive, small.local, Array.from({ length: SMALL_LAYERS }, (_, i) => layerTar(rnd, pool, `l${i}`, 8, SMALL_LAYER)));
  }
  return [big, small];
}

// ---------------------------------------------------------------------------------------------------------------------
// Registries, on 127.0.0.1 only.


interface Registry {
  name: RegistryName;
  host: string;
  /** How it was started, for the header. */
  command: string;
  stop(): Promise<void>;
}

async function startRegistry(name: RegistryName, root: string, port: number): Promise<Registry> {
  mkdirSync(root, { recursive: true });
  let cmd: string;
  let args: string[];
  if (name === 'peti registry') {
    cmd = process.execPath;
    args = [join(BUILD, 'dist/peti-registry.js'), 'serve', '--addr', `127.0.0.1:${port}`, '--root', join(root, 'data'), '--log-level', 'warn'];
  } else {
    const cfg = join(root, 'config.yml');
    writeFileSync(cfg, `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(root, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
    cmd = 'docker-registry';
    args = ['serve', cfg];
  }
  const logFile = join(root, 'registry.log');
  const fd = openSync(logFile, 'a');
  let proc: ChildProcess;
  try {
    proc = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
  const end = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    if (await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200, () => false)) break;
    if (Date.now() > end) {
      await stop();
      throw new Error(`${name} did not start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name, host: `127.0.0.1:${port}`, command: [name === 'peti registry' ? 'node dist/peti-registry.js' : cmd, ...args.slice(name === 'peti registry' ? 1 : 0)].join(' '), stop };
}

// ---------------------------------------------------------------------------------------------------------------------
// CPU of the daemon's processes: every process whose command line mentions the engine's temp dir.

/** Clock ticks per second (USER_HZ), 100 on Linux unless getconf says otherwise. */
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function cpuTicks(dir: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      if (!readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(dir)) continue;
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14-17 (utime stime cutime cstime) are f[11..14].
      out.set(Number(n), [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0));
    } catch {
      // raced with an exit
    }
  }
  return out;
}

function cpuSeconds(before: Map<number, number>, after: Map<number, number>): number {
  let t = 0;
  for (const [pid, ticks] of after) t += ticks - (before.get(pid) ?? 0);
  return t / HZ;
}

// ---------------------------------------------------------------------------------------------------------------------

interface Row {
  engine: EngineName;
  registry: RegistryName;
  image: ImageName;
  pushMs: number[];
  pullMs: number[];
  /** Daemon CPU seconds during each pull. */
  pullCpu: number[];
}

async function benchPair(e: Engine, regName: RegistryName, imgs: BenchImage[], work: string, shown: Set<string>): Promise<Row[]> {
  const cli = async (args: string[], timed = true): Promise<number> => {
    const s = e.show(args);
    if (timed && !shown.has(s)) {
      shown.add(s);
      console.log(`  $ ${s}`);
    }
    return (await e.cli(args, { capture: false, timeoutMs: 600_000 })).ms;
  };
  const rows: Row[] = [];
  const root = join(work, `${e.name}-${regName.replace(/\W/g, '')}`);
  const port = await freePort();
  for (const img of imgs) {
    const row: Row = { engine: e.name, registry: regName, image: img.name, pushMs: [], pullMs: [], pullCpu: [] };
    let reg: Registry | undefined;
    try {
      for (let i = 0; i < RUNS; i++) {
        // An empty registry for every push: nothing to skip, nothing to mount.
        await reg?.stop();
        removeTree(root);
        reg = await startRegistry(regName, root, port);
        if (i === 0) console.log(`  ${regName}: ${reg.command}`);
        const remote = `${reg.host}/bench/${img.name}:1`;
        if (i === 0) await cli(['tag', img.local, remote], false);
        row.pushMs.push(await cli(['push', remote]));
      }
      const remote = `${reg!.host}/bench/${img.name}:1`;
      await cli(['rmi', img.local], false);
      for (let i = 0; i < RUNS; i++) {
        await cli(['rmi', remote], false);
        const c0 = cpuTicks(e.dir);
        const ms = await cli(['pull', remote]);
        row.pullMs.push(ms);
        row.pullCpu.push(cpuSeconds(c0, cpuTicks(e.dir)));
      }
      // Back to the state the next registry starts from: the image under its local tag only.
      await cli(['tag', remote, img.local], false);
      await cli(['rmi', remote], false);
    } finally {
      await reg?.stop();
      removeTree(root);
    }
    const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
    console.log(`  ${img.name}: push [${fmt(row.pushMs)}] ms; pull [${fmt(row.pullMs)}] ms, daemon CPU [${row.pullCpu.map((c, j) => `${((c * 100_000) / (row.pullMs[j] as number)).toFixed(0)}%`).join(', ')}]`);
    rows.push(row);
  }
  return rows;
}

async function benchEngine(e: Engine, imgs: BenchImage[], registries: RegistryName[], work: string): Promise<Row[]> {
  console.log(`${e.name}: ${e.version}`);
  const shown = new Set<string>();
  for (const img of imgs) await e.cli(['load', '-i', img.archive], { capture: false, timeoutMs: 600_000 });
  const rows: Row[] = [];
  for (const r of registries) rows.push(...(await benchPair(e, r, imgs, work, shown)));
  return rows;
}

export async function main(only: string[] = []): Promise<Row[]> {
  const engines = availableEngines().filter((n) => n !== 'podman' && (only.length === 0 || only.includes(n)));
  const registries: RegistryName[] = ['peti registry'];
  if (which('docker-registry')) registries.push('docker-registry');
  const t0 = performance.now();
  const imgs = images();
  const mk = performance.now() - t0;
  for (const img of imgs) {
    console.log(`image ${img.name}: ${img.layers} layer(s), ${(img.bytes / 1024 / 1024).toFixed(1)} MiB uncompressed, archive ${img.archive}${mk > 100 ? '' : ' (cached)'}`);
  }
  console.log(`engines: ${engines.join(', ')}; registries: ${registries.join(', ')} (docker-registry: ${debianPackageOf(which('docker-registry'))}); ${RUNS} runs each, median; one engine at a time`);
  const work = mkdtempSync('/tmp/peti-bench-registry-run-');
  const rows: Row[] = [];
  try {
    for (const name of engines) rows.push(...(await withEngine(name, (e) => benchEngine(e, imgs, registries, work))));
  } finally {
    removeTree(work);
  }
  const ms = (xs: number[]): string => median(xs).toFixed(0);
  const cpu = (r: Row): string => `${median(r.pullCpu.map((c, j) => (c * 100_000) / (r.pullMs[j] as number))).toFixed(0)}%`;
  console.log('');
  console.log(markdownTable(
    ['engine', 'registry', 'image', 'push ms', 'pull ms', 'daemon CPU in pull'],
    rows.map((r) => [r.engine, r.registry, r.image === 'big' ? 'big (1 x 100 MB)' : `small (${SMALL_LAYERS} layers)`, ms(r.pushMs), ms(r.pullMs), cpu(r)]),
  ));
  const own = (engine: EngineName, image: ImageName): Row | undefined =>
    rows.find((r) => r.engine === engine && r.image === image && r.registry === (engine === 'peti' ? 'peti registry' : 'docker-registry'));
  const parts: string[] = [];
  for (const image of ['big', 'small'] as const) {
    const p = own('peti', image);
    const d = own('docker', image);
    if (p && d) parts.push(`${image} push ${(median(p.pushMs) / median(d.pushMs)).toFixed(2)}, pull ${(median(p.pullMs) / median(d.pullMs)).toFixed(2)}`);
  }
  if (parts.length) console.log(`\npeti (peti registry) / docker (docker-registry) time ratio: ${parts.join('; ')}`);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
