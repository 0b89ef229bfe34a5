/**
 * Dockerfile builds, side by side for every engine installed here (Peti, Docker's classic builder, Podman/Buildah),
 * one engine at a time, all FROM the same busybox. The reference Dockerfile has 10 steps: several RUNs, a COPY of a
 * 10 MB file (random, so incompressible) and metadata steps. Per engine, median of runs:
 *   cold:   `<cli> build --no-cache -t IMAGE ctx`   (every step executes)
 *   cached: `<cli> build -t IMAGE ctx`              (unchanged context: every step a cache hit)
 * Docker runs with DOCKER_BUILDKIT=0 (the classic /build path, as on this machine without buildx).
 * Run: node --import tsx bench/build.ts [peti|docker|podman ...]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX, busyboxInPeti, importBusybox } from './lib/busybox.js';
import { availableEngines, markdownTable, median, removeTree, runTimed, which, withEngine, type Engine, type EngineName } from './lib/engines.js';
import { startNullEngine } from './lib/null-engine.js';

const COLD_RUNS = 3;
const CACHED_RUNS = 5;
const IMAGE = 'peti-bench/build:latest';

const DOCKERFILE = `FROM ${BUSYBOX}
ENV APP=/app
WORKDIR /app
RUN echo one > /app/one && sleep 0.1
COPY big.bin /app/big.bin
RUN md5sum /app/big.bin > /app/big.md5
RUN for i in 1 2 3 4 5 6 7 8 9 10; do echo $i >> /app/count; done
COPY conf.txt /etc/app.conf
RUN wc -c /app/big.bin /etc/app.conf > /app/sizes
CMD ["cat", "/app/sizes"]
`;

function makeContext(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(dir, 'big.bin'), randomBytes(10 * 1024 * 1024));
  writeFileSync(join(dir, 'conf.txt'), 'key=value\n');
}

async function buildOnce(e: Engine, ctx: string, noCache: boolean): Promise<number> {
  const args = ['build', ...(noCache ? ['--no-cache'] : []), '-t', IMAGE, ctx];
  if (e.name === 'peti') args.splice(1, 0, '--progress=plain');
  const env = e.name === 'docker' ? { ...e.cliEnv, DOCKER_BUILDKIT: '0' } : e.cliEnv;
  const r = await runTimed(e.cliCmd, [...e.cliArgs, ...args], env, { capture: true });
  if (!noCache && e.name !== 'podman' && !/Using cache/.test(r.stdout + r.stderr)) throw new Error(`${e.name}: the cached build did not use the cache:\n${r.stdout}`);
  return r.ms;
}

interface Row { engine: EngineName; version: string; cold: number; cached: number }

async function main(): Promise<void> {
  const want = process.argv.slice(2) as EngineName[];
  const engines = availableEngines().filter((n) => want.length === 0 || want.includes(n));
  const work = mkdtempSync(join(tmpdir(), 'peti-bench-build-'));
  const rows: Row[] = [];
  let floorMs: number | undefined;
  try {
    const ctx = join(work, 'ctx');
    makeContext(ctx);
    console.log(`Reference Dockerfile (context: 10 MiB random big.bin + conf.txt):\n\n${DOCKERFILE.split('\n').map((l) => `    ${l}`).join('\n')}`);
    let tar = '';
    // Peti first: it makes the busybox tar the other engines import.
    for (const name of ['peti', ...engines.filter((n) => n !== 'peti')] as EngineName[]) {
      if (!engines.includes(name)) continue;
      await withEngine(name, async (e) => {
        console.log(`\n### ${name} ${e.version}`);
        if (name === 'peti') tar = await busyboxInPeti(e, work);
        else await importBusybox(e, tar);
        const cold: number[] = [];
        for (let i = 0; i < COLD_RUNS; i++) cold.push(await buildOnce(e, ctx, true));
        const cached: number[] = [];
        for (let i = 0; i < CACHED_RUNS; i++) cached.push(await buildOnce(e, ctx, false));
        console.log(`  cold:   ${cold.map((x) => x.toFixed(0)).join(', ')} ms`);
        console.log(`  cached: ${cached.map((x) => x.toFixed(0)).join(', ')} ms`);
        const check = await e.cli(['run', '--rm', IMAGE]);
        if (!/10485760/.test(check.stdout)) throw new Error(`${name}: built image gave ${JSON.stringify(check.stdout)}`);
        rows.push({ engine: name, version: e.version, cold: median(cold), cached: median(cached) });
        if (name === 'peti') {
          // The same engine driven by the docker CLI: the client's start-up (Go ~15 ms, Node ~70 ms) set aside.
          const viaDocker = { ...e, name: 'docker' as EngineName, cliCmd: 'docker', cliArgs: [], cliEnv: { DOCKER_HOST: e.cliEnv.PETI_HOST ?? '', DOCKER_CONFIG: join(work, 'docker-config') } };
          const cold2: number[] = [];
          for (let i = 0; i < COLD_RUNS; i++) cold2.push(await buildOnce(viaDocker, ctx, true));
          const cached2: number[] = [];
          for (let i = 0; i < CACHED_RUNS; i++) cached2.push(await buildOnce(viaDocker, ctx, false));
          console.log(`  docker CLI -> petid: cold ${cold2.map((x) => x.toFixed(0)).join(', ')} ms; cached ${cached2.map((x) => x.toFixed(0)).join(', ')} ms`);
          rows.push({ engine: 'peti', version: '(docker CLI 28 -> petid)', cold: median(cold2), cached: median(cached2) });
        }
      });
    }
    if (which('docker') !== undefined) {
      // The docker CLI's own floor: the same context sent to the null engine, which answers at once.
      const nul = await startNullEngine(join(work, 'null.sock'));
      try {
        const env = { DOCKER_HOST: nul.host, DOCKER_CONFIG: join(work, 'docker-config-null'), DOCKER_BUILDKIT: '0' };
        const floor: number[] = [];
        for (let i = 0; i < CACHED_RUNS + 1; i++) {
          const r = await runTimed('docker', ['build', '-t', IMAGE, ctx], env, { capture: true });
          if (i > 0) floor.push(r.ms);
        }
        console.log(`\n### docker CLI -> null engine (bench/lib/null-engine.ts: reads the whole context, answers at once)\n  ${floor.map((x) => x.toFixed(0)).join(', ')} ms`);
        floorMs = median(floor);
      } finally {
        await nul.close();
      }
    }
  } finally {
    removeTree(work);
  }
  console.log('');
  console.log(markdownTable(['engine', `cold build (median of ${COLD_RUNS})`, `cached rebuild (median of ${CACHED_RUNS})`],
    rows.map((r) => [`${r.engine} ${r.version}`, `${r.cold.toFixed(0)} ms`, `${r.cached.toFixed(0)} ms`])));
  for (const peti of rows.filter((r) => r.engine === 'peti')) {
    for (const r of rows) {
      if (r.engine === 'peti') continue;
      console.log(`ratio ${r.engine}/peti ${peti.version}: cold ${(r.cold / peti.cold).toFixed(2)}x, cached ${(r.cached / peti.cached).toFixed(2)}x`);
    }
  }
  const viaDocker = rows.find((r) => r.engine === 'peti' && r.version.startsWith('(docker CLI'));
  const dockerd = rows.find((r) => r.engine === 'docker');
  if (floorMs !== undefined) {
    console.log(`client floor: the docker CLI sends this context to a daemon that does nothing in ${floorMs.toFixed(0)} ms (median)`);
    if (viaDocker && dockerd) {
      const own = (x: number): number => x - floorMs!;
      console.log(`daemon share of a cached rebuild (less the floor): dockerd ${own(dockerd.cached).toFixed(0)} ms, petid ${own(viaDocker.cached).toFixed(0)} ms: ` +
        `${(own(dockerd.cached) / own(viaDocker.cached)).toFixed(1)}x; a 3x total needs <= ${(dockerd.cached / 3).toFixed(0)} ms, ` +
        `${(dockerd.cached / 3) < floorMs ? 'below the client floor' : 'above the client floor'}`);
    }
  }
}

await main();
