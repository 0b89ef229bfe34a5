/**
 * Image import / save / load, side by side for every engine installed here (Peti, Docker, Podman), one engine at a
 * time. The image is a 100 MB rootfs tar of ~1000 files of pseudo-random, compressible data, made once and cached in
 * /tmp/peti-bench-saveload/. Per engine, 3 runs each, median:
 *   import:  `<cli> import rootfs.tar IMAGE`              (an `rmi IMAGE` before runs 2 and 3, not timed)
 *   save:    `<cli> save -o image.tar IMAGE`
 *   load:    `<cli> rmi IMAGE && <cli> load -i image.tar`  (timed together)
 * plus the idle daemon's RSS right after start.
 * Run: node --import tsx bench/save-load.ts [peti|docker|podman ...]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { availableEngines, markdownTable, median, mib, removeTree, withEngine, type Engine, type EngineName } from './lib/engines.js';
import { makePool, prng } from './lib/data.js';

const CACHE = '/tmp/peti-bench-saveload';
const TOTAL = 100 * 1024 * 1024;
const FILES = 1000;
const RUNS = 3;
const IMAGE = 'peti-bench/saveload:latest';

/** The rootfs tar: made once, cached. */
function rootfsTar(): string {
  const file = join(CACHE, 'rootfs.tar');
  if (existsSync(file)) return file;
  mkdirSync(CACHE, { recursive: true });
  const src = mkdtempSync(join(CACHE, 'src-'));
  try {
    const rnd = prng(0x9e3779b9);
    const pool = makePool(16 * 1024 * 1024, rnd);
    // Log-uniform sizes from 256 B to 4 MiB, scaled to TOTAL.
    const raw = Array.from({ length: FILES }, () => Math.exp(Math.log(256) + rnd() * (Math.log(4 * 1024 * 1024) - Math.log(256))));
    const scale = TOTAL / raw.reduce((a, b) => a + b, 0);
    const dirs: string[] = [];
    for (const top of ['bin', 'etc', 'lib', 'usr/bin', 'usr/lib', 'usr/share', 'var/lib', 'opt/app']) {
      for (let j = 0; j < 5; j++) dirs.push(`${top}/d${j}`);
    }
    for (const d of [...dirs, 'tmp', 'root', 'proc', 'sys', 'dev']) mkdirSync(join(src, d), { recursive: true });
    writeFileSync(join(src, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(src, 'etc/group'), 'root:x:0:\n');
    for (let i = 0; i < FILES; i++) {
      const size = Math.max(1, Math.min(pool.length, Math.round((raw[i] as number) * scale)));
      const off = Math.floor(rnd() * (pool.length - size));
      writeFileSync(join(src, dirs[i % dirs.length] as string, `f${i}.dat`), pool.subarray(off, off + size));
    }
    const tmp = `${file}.tmp`;
    const r = spawnSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', src, '-cf', tmp, '.'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`tar -cf exited ${r.status}`);
    renameSync(tmp, file);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  return file;
}

export interface SaveLoadResult {
  engine: EngineName;
  version: string;
  importMs: number[];
  saveMs: number[];
  loadMs: number[];
  archiveBytes: number;
  idleRssKiB: number | undefined;
  rssOf: string;
}

async function benchEngine(e: Engine, tar: string, work: string): Promise<SaveLoadResult> {
  const archive = join(work, `${e.name}-image.tar`);
  const shown = new Set<string>();
  const show = (args: string[]): void => {
    const s = e.show(args);
    if (!shown.has(s)) console.log(`  $ ${s}`);
    shown.add(s);
  };
  const cli = async (args: string[]): Promise<number> => {
    show(args);
    return (await e.cli(args, { capture: false })).ms;
  };
  console.log(`${e.name}: ${e.version}; idle RSS ${mib(e.idleRssKiB)} MiB (${e.rssOf})`);
  const importMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i > 0) await cli(['rmi', IMAGE]);
    importMs.push(await cli(['import', tar, IMAGE]));
  }
  const saveMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rmSync(archive, { force: true });
    saveMs.push(await cli(['save', '-o', archive, IMAGE]));
  }
  const archiveBytes = statSync(archive).size;
  const loadMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const rmi = await cli(['rmi', IMAGE]);
    loadMs.push(rmi + (await cli(['load', '-i', archive])));
  }
  // The loaded image must be there under its name.
  await e.cli(['image', 'inspect', IMAGE], { capture: false });
  const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(`  import [${fmt(importMs)}] ms; save [${fmt(saveMs)}] ms; rmi+load [${fmt(loadMs)}] ms; archive ${(archiveBytes / 1024 / 1024).toFixed(1)} MiB; RSS after ${mib(e.rssNow())} MiB`);
  return { engine: e.name, version: e.version, importMs, saveMs, loadMs, archiveBytes, idleRssKiB: e.idleRssKiB, rssOf: e.rssOf };
}

export async function main(only: string[] = []): Promise<SaveLoadResult[]> {
  const engines = availableEngines().filter((n) => only.length === 0 || only.includes(n));
  const t0 = performance.now();
  const tar = rootfsTar();
  const tarMs = performance.now() - t0;
  console.log(`rootfs: ${tar} (${(statSync(tar).size / 1024 / 1024).toFixed(1)} MiB, ${FILES} files${tarMs > 100 ? `, made in ${tarMs.toFixed(0)} ms` : ', cached'})`);
  console.log(`engines: ${engines.join(', ')}${availableEngines().includes('podman') ? '' : ' (podman not installed)'}; ${RUNS} runs each, median`);
  const work = mkdtempSync('/tmp/peti-bench-saveload-run-');
  const results: SaveLoadResult[] = [];
  try {
    for (const name of engines) results.push(await withEngine(name, (e) => benchEngine(e, tar, work)));
  } finally {
    removeTree(work);
  }
  const ms = (xs: number[]): string => median(xs).toFixed(0);
  console.log('');
  console.log(markdownTable(
    ['engine', 'import ms', 'save ms', 'rmi+load ms', 'archive MiB', 'idle daemon RSS MiB'],
    results.map((r) => [r.engine, ms(r.importMs), ms(r.saveMs), ms(r.loadMs), (r.archiveBytes / 1024 / 1024).toFixed(1), `${mib(r.idleRssKiB)}${r.idleRssKiB === undefined ? '' : ` (${r.rssOf})`}`]),
  ));
  const peti = results.find((r) => r.engine === 'peti');
  const docker = results.find((r) => r.engine === 'docker');
  if (peti && docker) {
    const ratio = (a: number[], b: number[]): string => (median(a) / median(b)).toFixed(2);
    console.log(`\npeti / docker: import ${ratio(peti.importMs, docker.importMs)}, save ${ratio(peti.saveMs, docker.saveMs)}, rmi+load ${ratio(peti.loadMs, docker.loadMs)}` +
      (peti.idleRssKiB && docker.idleRssKiB ? `, idle RSS ${(peti.idleRssKiB / docker.idleRssKiB).toFixed(2)}` : ''));
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
