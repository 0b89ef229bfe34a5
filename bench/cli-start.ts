/**
 * CLI start-up: the peti CLI must start lean. Wall time of
 *   node -e 0                      (the floor for any Node CLI)
 *   bin/peti --version             (client only: no daemon, no socket)
 *   docker --version               (client only)
 *   bin/peti version               (one API round trip to petid)
 *   docker version                 (one API round trip to dockerd; and, for reference, to petid)
 * 10 runs each after one untimed warm-up, median; daemons are started one at a time, only for the rows that need one.
 * Run: node --import tsx bench/cli-start.ts
 */
import { pathToFileURL } from 'node:url';
import { PETI, availableEngines, markdownTable, median, runTimed, showCommand, which, withEngine } from './lib/engines.js';

const RUNS = 10;

interface Row {
  command: string;
  daemon: string;
  runs: number[];
}

async function measure(cmd: string, args: string[], env: Record<string, string>, daemon: string): Promise<Row> {
  const command = showCommand(cmd, args, env);
  console.log(`  $ ${command}   (x${RUNS} + 1 warm-up)`);
  await runTimed(cmd, args, env);
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) runs.push((await runTimed(cmd, args, env)).ms);
  return { command: [cmd === PETI ? 'bin/peti' : cmd, ...args].join(' '), daemon, runs };
}

export async function main(): Promise<Row[]> {
  const rows: Row[] = [];
  const hasDocker = availableEngines().includes('docker');
  console.log(`node ${process.version}; peti ${PETI}${hasDocker ? `; docker ${which('docker')}` : '; docker not installed'}`);

  console.log('client only:');
  rows.push(await measure(process.execPath, ['-e', '0'], {}, '-'));
  rows.push(await measure(PETI, ['--version'], {}, '-'));
  if (hasDocker) rows.push(await measure('docker', ['--version'], {}, '-'));

  console.log('with petid:');
  await withEngine('peti', async (e) => {
    rows.push(await measure(PETI, ['version'], e.cliEnv, 'petid'));
    if (hasDocker) rows.push(await measure('docker', ['version'], { DOCKER_HOST: e.cliEnv.PETI_HOST as string, DOCKER_CONFIG: `${e.dir}/docker-config` }, 'petid'));
  });
  if (hasDocker) {
    console.log('with dockerd:');
    await withEngine('docker', async (e) => {
      rows.push(await measure('docker', ['version'], e.cliEnv, `dockerd ${e.version.replace(/^.*server /, '')}`));
    });
  }

  const floor = median(rows[0]!.runs);
  console.log('');
  console.log(markdownTable(
    ['command', 'daemon', 'median ms', 'min ms', 'max ms', 'over node -e 0 ms'],
    rows.map((r) => {
      const m = median(r.runs);
      return [r.command.replace(process.execPath, 'node'), r.daemon, m.toFixed(1), Math.min(...r.runs).toFixed(1), Math.max(...r.runs).toFixed(1), r === rows[0] ? '-' : `${m - floor >= 0 ? '+' : ''}${(m - floor).toFixed(1)}`];
    }),
  ));
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
