/**
 * Layer unpack speed: applyLayer vs GNU `tar -xzf` on the same 100 MB gzip layer (~2000 files of mixed sizes,
 * directories, symlinks). The layer is made once and cached under the temp dir. 3 runs each, median.
 * Run: node --import tsx bench/unpack.ts
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { applyLayer } from '../src/engine/snapshots/index.js';
import { markdownTable } from './lib/engines.js';

const TOTAL = 100 * 1024 * 1024;
const FILES = 2000;
const RUNS = 3;

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    c.once('error', reject);
    c.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

/** Deterministic-enough text from a random vocabulary: compresses about 2-3x, like real layers. */
function makePool(size: number): Buffer {
  const vocab = Array.from({ length: 4000 }, () => randomBytes(2 + Math.floor(Math.random() * 8)).toString('base64url'));
  const parts: string[] = [];
  let len = 0;
  while (len < size) {
    const w = vocab[Math.floor(Math.random() * vocab.length)] as string;
    parts.push(w);
    len += w.length + 1;
  }
  return Buffer.from(parts.join(Math.random() < 0.1 ? '\n' : ' ')).subarray(0, size);
}

async function makeLayer(cache: string): Promise<string> {
  const file = join(cache, 'layer.tar.gz');
  if (existsSync(file)) return file;
  await mkdir(cache, { recursive: true });
  const src = await mkdtemp(join(cache, 'src-'));
  try {
    const pool = makePool(8 * 1024 * 1024);
    const raw = Array.from({ length: FILES }, () => Math.exp(Math.log(512) + Math.random() * (Math.log(4 * 1024 * 1024) - Math.log(512))));
    const scale = TOTAL / raw.reduce((a, b) => a + b, 0);
    const dirs: string[] = [];
    for (let i = 0; i < 20; i++) for (let j = 0; j < 5; j++) dirs.push(`usr/d${i}/s${j}`);
    for (const d of dirs) await mkdir(join(src, d), { recursive: true });
    for (let i = 0; i < FILES; i++) {
      const size = Math.max(1, Math.round((raw[i] as number) * scale));
      const off = Math.floor(Math.random() * (pool.length - Math.min(size, pool.length)));
      const body = size <= pool.length ? pool.subarray(off, off + size) : Buffer.concat([pool, pool]).subarray(0, size);
      await writeFile(join(src, dirs[i % dirs.length] as string, `f${i}.dat`), body);
    }
    for (let i = 0; i < 100; i++) await symlink(`s0/f${i}.dat`, join(src, `usr/d${i % 20}`, `link${i}`));
    const tmp = `${file}.tmp`;
    await run('tar', ['-C', src, '-czf', tmp, '.']);
    await rename(tmp, file);
  } finally {
    await rm(src, { recursive: true, force: true });
  }
  return file;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function timeIt(fn: (dir: string) => Promise<void>, base: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = await mkdtemp(join(base, 'x-'));
    try {
      const t0 = performance.now();
      await fn(dir);
      out.push(performance.now() - t0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}

export async function main(): Promise<{ peti: number; tar: number; ratio: number }> {
  const cache = join(tmpdir(), 'peti-bench-unpack');
  const layer = await makeLayer(cache);
  const base = await mkdtemp(join(cache, 'runs-'));
  try {
    let entries = 0;
    let size = 0;
    const peti = await timeIt(async (dir) => {
      const r = await applyLayer(createReadStream(layer, { highWaterMark: 1024 * 1024 }), dir, { compression: 'gzip' });
      entries = r.entries;
      size = r.size;
    }, base);
    const tar = await timeIt((dir) => run('tar', ['-xzf', layer, '-C', dir]), base);
    const p = median(peti);
    const t = median(tar);
    const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
    console.log(`layer: ${layer} (${entries} entries, ${(size / 1024 / 1024).toFixed(1)} MiB uncompressed)`);
    console.log(`  $ applyLayer(createReadStream(${layer}), DIR, { compression: 'gzip' })   (x${RUNS}, in-process)`);
    console.log(`  $ tar -xzf ${layer} -C DIR   (x${RUNS})`);
    console.log('');
    console.log(markdownTable(['tool', 'runs ms', 'median ms'], [
      ['applyLayer', fmt(peti), p.toFixed(0)],
      ['tar -xzf', fmt(tar), t.toFixed(0)],
    ]));
    console.log(`\nratio applyLayer / tar = ${(p / t).toFixed(2)} (goal <= 1.30)`);
    return { peti: p, tar: t, ratio: p / t };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
