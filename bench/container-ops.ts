/**
 * Container operations, side by side: Peti (driven by the docker CLI), Docker, Podman. One engine runs at a time. Per
 * engine:
 *   stats:   50 x `run -d --name pbops-N busybox sleep 600` (4 at a time), then
 *            `stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}}'`, 1 warm-up then 5: median. Every run
 *            must list all 50 containers, each with a plausible memory usage (> 0, < 64 MiB: busybox sleep uses well
 *            under 1 MiB); the range seen is reported.
 *   cp in:   `cp DIR C:/tmp/data-i` of a 100 MiB tree (500 files of pseudo-random compressible text in 20
 *            directories), into the first of those running containers, a fresh destination each time, 3 times: median
 *   cp out:  `cp C:/tmp/data-i OUT-i` to a fresh host dir, 3 times: median. Each OUT-i must have the checksum of the
 *            source tree (paths, file modes, sizes, SHA-256 of the contents), which checks that copy in and copy out.
 *            Before them, untimed: `cp FILE C:/` (a copy into the container's root directory), reported when it fails.
 *   then `kill` + `rm -f` of the 50 (Podman's `rm -f` waits 10 s on busybox sleep, which ignores SIGTERM).
 * The source tree is made once (seeded, so always the same bytes) and cached under /tmp/peti-bench-cp; it stays in the
 * page cache across engines, so no engine pays for a cold read. Everything uses the busybox image scripts/make-busybox.sh
 * builds (bench/lib/busybox.ts), imported into Docker and Podman from the same tar.
 * Run: node --import tsx bench/container-ops.ts [peti|docker|podman ...]
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BUSYBOX, busyboxInPeti, importBusybox } from './lib/busybox.js';
import { cli, pool, show, type Client } from './lib/clients.js';
import { prng } from './lib/data.js';
import { availableEngines, markdownTable, median, removeTree, withEngine, type Engine, type EngineName } from './lib/engines.js';

const CONTAINERS = 50;
const RUN_CONCURRENCY = 4;
const STATS_WARMUP = 1;
const STATS_RUNS = 5;
const CP_RUNS = 3;
const STATS_FORMAT = '{{.Name}} {{.CPUPerc}} {{.MemUsage}}';
/** Plausible memory usage of one busybox sleep, bytes: more than nothing, less than this. */
const MEM_MAX = 64 * 1024 * 1024;

const CP_CACHE = '/tmp/peti-bench-cp';
const TREE_VERSION = 'v1';
const TREE_BYTES = 100 * 1024 * 1024;
const TREE_DIRS = 20;
const TREE_FILES = 500;
const NAME_PREFIX = 'pbops-';
/** A 100 MiB copy takes about a second: a copy still going after this is stuck (reported, not waited for). */
const CP_TIMEOUT_MS = 60_000;

/** Verbs that failed (the bench goes on without their numbers): printed under the tables. */
const failures: string[] = [];

interface Result {
  label: string;
  engine: EngineName;
  stats: number[];
  /** "50/50, 0.2-0.4 MiB" or what was wrong. */
  statsCheck: string;
  cpIn: number[];
  cpOut: number[];
  cpCheck: string;
  load: string;
}

function loadNow(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

// ---------------------------------------------------------------------------------------------------------------------
// The source tree.

/** The same pseudo-random 32-bit words on every run and machine (lib/data.ts's xorshift32). */
function rng(seed: number): () => number {
  const next = prng(seed);
  return () => next() * 0x1_0000_0000;
}

/**
 * One checksum for a directory tree: per entry, sorted by path, its relative path, type, permission bits, size and
 * the SHA-256 of its content; then the SHA-256 of those lines. Returns the lines too, to say what differs.
 */
function treeSum(root: string): { sum: string; lines: string[]; bytes: number; files: number } {
  const lines: string[] = [];
  let bytes = 0;
  let files = 0;
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        lines.push(`${r}\td\t${mode}`);
        walk(r);
      } else if (st.isFile()) {
        lines.push(`${r}\tf\t${mode}\t${st.size}\t${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
        bytes += st.size;
        files++;
      } else {
        lines.push(`${r}\tother\t${mode}`);
      }
    }
  };
  walk('');
  return { sum: createHash('sha256').update(lines.join('\n')).digest('hex'), lines, bytes, files };
}

/** Makes the tree: TREE_FILES files in TREE_DIRS directories, TREE_BYTES in all, text made of a small vocabulary. */
function makeTree(dir: string): void {
  const next = rng(0x5eed_0001);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = Array.from({ length: 2048 }, () => {
    const n = 2 + (next() % 9);
    let w = '';
    for (let i = 0; i < n; i++) w += letters[next() % 26];
    return w;
  });
  // 4096 lines of 6-15 words: a file is a random sequence of them (gzip sees repeats; not trivially compressible).
  const lineBufs = Array.from({ length: 4096 }, () => {
    const n = 6 + (next() % 10);
    return Buffer.from(`${Array.from({ length: n }, () => words[next() % words.length]).join(' ')}\n`);
  });
  const weights = Array.from({ length: TREE_FILES }, () => 0.1 + (next() % 1000) / 555);
  const total = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.floor((w / total) * TREE_BYTES));
  sizes[sizes.length - 1] = (sizes[sizes.length - 1] as number) + TREE_BYTES - sizes.reduce((a, b) => a + b, 0);
  for (let d = 0; d < TREE_DIRS; d++) mkdirSync(join(dir, `d${String(d).padStart(2, '0')}`), { recursive: true });
  sizes.forEach((size, i) => {
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) off += (lineBufs[next() % lineBufs.length] as Buffer).copy(buf, off);
    const sub = `d${String(i % TREE_DIRS).padStart(2, '0')}`;
    writeFileSync(join(dir, sub, `f${String(i).padStart(3, '0')}.txt`), buf, { mode: 0o644 });
  });
}

/** The cached tree (made if missing or changed since it was made) and its checksum. */
function sourceTree(): { dir: string; sum: string; lines: string[]; bytes: number; files: number; gzipPct: number } {
  const dir = join(CP_CACHE, `tree-${TREE_VERSION}`);
  const sumFile = join(CP_CACHE, `tree-${TREE_VERSION}.sum`);
  const t0 = performance.now();
  let made = false;
  let t = existsSync(dir) && existsSync(sumFile) ? treeSum(dir) : undefined;
  if (!t || t.sum !== readFileSync(sumFile, 'utf8').trim()) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(sumFile, { force: true });
    mkdirSync(CP_CACHE, { recursive: true });
    const tmp = mkdtempSync(join(CP_CACHE, 'making-'));
    try {
      makeTree(tmp);
      renameSync(tmp, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    t = treeSum(dir);
    writeFileSync(sumFile, `${t.sum}\n`);
    made = true;
  }
  // How compressible: gzip (level 6) of the first file.
  const first = readFileSync(join(dir, 'd00', 'f000.txt'));
  const gzipPct = (100 * gzipSync(first).length) / first.length;
  console.log(`source tree: ${dir} (${made ? 'made' : 'cached'}, ${((performance.now() - t0) / 1000).toFixed(1)} s): ` +
    `${t.files} files in ${TREE_DIRS} directories, ${(t.bytes / 1048576).toFixed(1)} MiB, gzip -6 to ${gzipPct.toFixed(0)}% ` +
    `of its size; tree checksum ${t.sum.slice(0, 16)}`);
  return { dir, ...t, gzipPct };
}

/** "" when the copy has the same checksum, else what differs (first few lines). */
function compareTree(copy: string, want: { sum: string; lines: string[] }): string {
  const got = treeSum(copy);
  if (got.sum === want.sum) return '';
  const a = new Set(want.lines);
  const b = new Set(got.lines);
  const missing = want.lines.filter((l) => !b.has(l)).slice(0, 3);
  const extra = got.lines.filter((l) => !a.has(l)).slice(0, 3);
  return `checksum differs (${got.files} files, ${got.bytes} bytes): expected ${missing.join(' | ')}; got ${extra.join(' | ')}`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Stats.

const UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** "392KiB" / "1.036MB" / "0B" in bytes, or NaN. */
function parseSize(s: string): number {
  const m = /^([\d.]+)\s*([a-z]*)$/i.exec(s.trim());
  const unit = UNITS[(m?.[2] || 'b').toLowerCase()];
  return m && unit !== undefined ? Number(m[1]) * unit : NaN;
}

/** Checks one `stats --no-stream` output: every container listed once, with a plausible memory usage. */
function checkStats(out: string, names: string[]): { ok: boolean; text: string; minB: number; maxB: number } {
  const seen = new Map<string, number>();
  const bad: string[] = [];
  for (const line of out.trim().split('\n').filter(Boolean)) {
    // "<name> <cpu%> <usage> / <limit>": the usage may contain a space in some versions ("1.2 MiB")
    const m = /^\/?(\S+)\s+(\S+)\s+(.+?)\s*\/\s*(.+)$/.exec(line.trim());
    if (!m) {
      bad.push(`unparsed line "${line}"`);
      continue;
    }
    const mem = parseSize(m[3] as string);
    if (!(mem > 0 && mem < MEM_MAX)) bad.push(`${m[1]}: memory "${m[3]}"`);
    seen.set(m[1] as string, mem);
  }
  const missing = names.filter((n) => !seen.has(n));
  const mems = names.map((n) => seen.get(n)).filter((x): x is number => x !== undefined && x > 0);
  const minB = mems.length ? Math.min(...mems) : NaN;
  const maxB = mems.length ? Math.max(...mems) : NaN;
  const listed = names.length - missing.length;
  const problems = [...(missing.length ? [`missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}`] : []), ...bad.slice(0, 3)];
  const range = `${(minB / 1048576).toFixed(2)}-${(maxB / 1048576).toFixed(2)} MiB`;
  return { ok: problems.length === 0, text: `${listed}/${names.length} listed, mem ${range}${problems.length ? `; ${problems.join('; ')}` : ''}`, minB, maxB };
}

// ---------------------------------------------------------------------------------------------------------------------

async function benchClient(c: Client, tree: ReturnType<typeof sourceTree>, work: string): Promise<Result> {
  console.log(`${c.label}:   (load average ${loadNow()})`);
  const r: Result = { label: c.label, engine: c.engine.name, stats: [], statsCheck: '', cpIn: [], cpOut: [], cpCheck: '', load: '' };
  const names = Array.from({ length: CONTAINERS }, (_, i) => `${NAME_PREFIX}${String(i).padStart(2, '0')}`);
  const started: string[] = [];
  try {
    show(c, ['run', '-d', '--name', `${NAME_PREFIX}NN`, BUSYBOX, 'sleep', '600'], `   (x${CONTAINERS}, ${RUN_CONCURRENCY} at a time)`);
    const t0 = performance.now();
    await pool(names, RUN_CONCURRENCY, async (n) => {
      await cli(c, ['run', '-d', '--name', n, BUSYBOX, 'sleep', '600'], { capture: false });
      started.push(n);
    });
    console.log(`  (${CONTAINERS} started in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    // stats
    const statsArgs = ['stats', '--no-stream', '--format', STATS_FORMAT];
    show(c, statsArgs, `   (x${STATS_RUNS} after ${STATS_WARMUP} warm-up; each output checked)`);
    try {
      let lo = Infinity;
      let hi = 0;
      for (let i = 0; i < STATS_WARMUP + STATS_RUNS; i++) {
        const s = await cli(c, statsArgs);
        const chk = checkStats(s.stdout, names);
        if (!chk.ok) throw new Error(`run ${i + 1} (${s.ms.toFixed(0)} ms): ${chk.text}`);
        lo = Math.min(lo, chk.minB);
        hi = Math.max(hi, chk.maxB);
        if (i >= STATS_WARMUP) r.stats.push(s.ms);
        if (i === 0) console.log(`  (first lines: ${s.stdout.trim().split('\n').slice(0, 2).join(' | ')})`);
      }
      r.statsCheck = `${CONTAINERS}/${CONTAINERS} listed x${STATS_WARMUP + STATS_RUNS}, mem ${(lo / 1048576).toFixed(2)}-${(hi / 1048576).toFixed(2)} MiB`;
      console.log(`  stats: ${r.stats.map((x) => x.toFixed(0)).join(', ')} ms; ${r.statsCheck}`);
    } catch (err) {
      r.statsCheck = 'FAILED';
      failures.push(`${c.label}: stats: ${(err as Error).message.split('\n')[0]}`);
      console.log(`  FAILED: ${failures[failures.length - 1]}`);
    }

    // cp in and out, into the first container
    const ctr = names[0] as string;
    const probe = ['cp', join(tree.dir, 'd00', 'f000.txt'), `${ctr}:/`];
    show(c, probe, '   (untimed: a copy into the root directory of a running container)');
    const p = await cli(c, probe, { check: false, capture: false, timeoutMs: CP_TIMEOUT_MS });
    if (p.code !== 0) {
      const why = p.code === -1 ? `killed after ${CP_TIMEOUT_MS / 1000} s without an answer` : `exited ${p.code}`;
      failures.push(`${c.label}: cp FILE ${ctr}:/ ${why}: ${p.stderr.trim().split('\n')[0] ?? ''}`);
      console.log(`  FAILED: ${failures[failures.length - 1]}`);
    }
    const opts = { capture: false, timeoutMs: CP_TIMEOUT_MS };
    show(c, ['cp', tree.dir, `${ctr}:/tmp/data-N`], `   (x${CP_RUNS}, a fresh destination each time)`);
    show(c, ['cp', `${ctr}:/tmp/data-N`, join(work, `${c.engine.name}-out-N`)], `   (x${CP_RUNS}, each checked against the source tree)`);
    try {
      const bad: string[] = [];
      for (let i = 1; i <= CP_RUNS; i++) {
        r.cpIn.push((await cli(c, ['cp', tree.dir, `${ctr}:/tmp/data-${i}`], opts)).ms);
        const out = join(work, `${c.engine.name}-out-${i}`);
        r.cpOut.push((await cli(c, ['cp', `${ctr}:/tmp/data-${i}`, out], opts)).ms);
        const diff = compareTree(out, tree);
        if (diff) bad.push(`copy ${i}: ${diff}`);
        removeTree(out);
      }
      if (bad.length) throw new Error(bad.join('; '));
      r.cpCheck = `${CP_RUNS}/${CP_RUNS} trees identical`;
      console.log(`  cp in: ${r.cpIn.map((x) => x.toFixed(0)).join(', ')} ms; cp out: ${r.cpOut.map((x) => x.toFixed(0)).join(', ')} ms; ${r.cpCheck}`);
    } catch (err) {
      r.cpCheck = 'FAILED';
      const msg = (err as Error).message.split('\n')[0] ?? '';
      failures.push(`${c.label}: cp: ${msg}${/exited SIGKILL/.test(msg) ? ` (killed after ${CP_TIMEOUT_MS / 1000} s without an answer)` : ''}`);
      console.log(`  FAILED: ${failures[failures.length - 1]}`);
    }
  } finally {
    r.load = loadNow();
    if (started.length) {
      show(c, ['kill', `${NAME_PREFIX}..`], `   (the ${started.length}), then rm -f`);
      const t0 = performance.now();
      await cli(c, ['kill', ...started], { check: false, capture: false });
      await cli(c, ['rm', '-f', ...started], { capture: false });
      console.log(`  (removed in ${((performance.now() - t0) / 1000).toFixed(1)} s; load average ${r.load})`);
    }
  }
  return r;
}

function clientOf(e: Engine, hasDocker: boolean): Client {
  if (e.name === 'peti' && hasDocker) {
    return { label: 'peti (docker CLI)', engine: e, cmd: 'docker', args: [], env: { DOCKER_HOST: e.cliEnv.PETI_HOST as string, DOCKER_CONFIG: join(e.dir, 'docker-config') } };
  }
  return { label: `${e.name} (${e.name} CLI)`, engine: e, cmd: e.cliCmd, args: e.cliArgs, env: e.cliEnv };
}

export async function main(only: string[] = []): Promise<void> {
  const t0 = performance.now();
  const installed = availableEngines();
  const hasDocker = installed.includes('docker');
  const engines = installed.filter((n) => only.length === 0 || only.includes(n));
  if (!engines.includes('peti')) engines.unshift('peti'); // the busybox rootfs comes out of Peti (lib/busybox.ts)
  console.log('NOTE: wall times on a shared 2-core machine: other work running at the same time makes them noisy.');
  console.log(`engines: ${engines.join(', ')}${installed.includes('podman') ? '' : ' (podman not installed: apt-get install podman)'}` +
    `${hasDocker ? '' : ' (docker not installed: apt-get install docker.io; peti runs with its own CLI)'}; one at a time; ` +
    `node ${process.version}; load average at start ${loadNow()}`);
  const tree = sourceTree();

  const work = mkdtempSync(join(tmpdir(), 'peti-bench-container-ops-'));
  const results: Result[] = [];
  let tar = '';
  try {
    for (const name of engines) {
      await withEngine(name, async (e) => {
        console.log(`\n${name}: ${e.version}`);
        for (const l of e.setup) console.log(`  ${l}`);
        if (name === 'peti') tar = await busyboxInPeti(e, work);
        else await importBusybox(e, tar);
        if (name === 'peti' && only.length > 0 && !only.includes('peti')) return; // peti only made the image
        results.push(await benchClient(clientOf(e, hasDocker), tree, work));
      });
    }
  } finally {
    removeTree(work);
  }

  const f0 = (xs: number[]): string => (xs.length ? median(xs).toFixed(0) : 'failed');
  console.log('');
  console.log(markdownTable(
    ['engine (CLI)', `stats --no-stream (${CONTAINERS} running) median ms`, 'stats check', `cp in 100 MiB dir median ms`, `cp out median ms`, 'cp check', 'load avg after'],
    results.map((r) => [r.label, f0(r.stats), r.statsCheck, f0(r.cpIn), f0(r.cpOut), r.cpCheck, r.load]),
  ));

  // Ratios: peer time / Peti time (above 1: Peti is faster).
  const peti = results.find((r) => r.engine === 'peti');
  const peers = results.filter((r) => r.engine !== 'peti');
  if (peti && peers.length) {
    const ratio = (a: number[], b: number[]): string => (a.length && b.length ? `${(median(a) / median(b)).toFixed(2)}x` : 'n/a');
    const rows = [
      ['stats --no-stream', (r: Result) => r.stats],
      ['cp in', (r: Result) => r.cpIn],
      ['cp out', (r: Result) => r.cpOut],
    ] as const;
    console.log('');
    console.log(markdownTable(
      ['verb', ...peers.map((p) => `${p.engine} / peti (medians; > 1: peti faster)`)],
      rows.map(([verb, get]) => [verb, ...peers.map((p) => ratio(get(p), get(peti)))]),
    ));
  }
  if (failures.length) console.log(`\nfailed (a failed timing shows as "failed" above; the cp-to-/ probe is untimed):\n  ${failures.join('\n  ')}`);
  console.log(`\ncontainer-ops bench: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
