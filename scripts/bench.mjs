// Runs the benchmarks in bench/*.ts, one after another (never two at once: they start daemons and time things),
// each as `node --import tsx bench/<name>.ts`, then prints all their tables again together.
// Usage: npm run bench [-- NAME...]   e.g. `npm run bench -- unpack`; names: see BENCHES.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const BENCHES = ['unpack', 'save-load', 'cli-start', 'containers', 'container-ops', 'network', 'registry', 'build'];

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  console.log(`Usage: npm run bench [-- NAME...]\nBenches: ${BENCHES.join(', ')} (default: all, in this order)`);
  process.exit(0);
}
const unknown = args.filter((a) => !BENCHES.includes(a) || !existsSync(`bench/${a}.ts`));
if (unknown.length) {
  console.error(`bench: unknown bench ${unknown.join(', ')}; known: ${BENCHES.join(', ')}`);
  process.exit(2);
}
const picked = args.length ? BENCHES.filter((b) => args.includes(b)) : BENCHES;

// The benches run bin/peti and bin/petid: they need a fresh build.
console.log('$ npm run build');
const b = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (b.status !== 0) {
  console.error('bench: build failed');
  process.exit(1);
}

// On Ctrl-C the bench (same process group) gets the signal too and cleans up its daemons and temp dirs: wait for it
// rather than dying first and breaking its stdout.
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { interrupted = true; });

function runBench(name) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const c = spawn(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => {
      out += d.toString();
      process.stdout.write(d);
    });
    c.once('error', (e) => resolve({ name, code: -1, out: `${out}\n${e.message}`, ms: performance.now() - t0 }));
    c.once('close', (code, signal) => resolve({ name, code: code ?? (signal ? 128 : -1), out, ms: performance.now() - t0 }));
  });
}

const results = [];
const t0 = performance.now();
for (const name of picked) {
  if (interrupted) break;
  console.log(`\n## ${name}\n\n$ node --import tsx bench/${name}.ts`);
  const r = await runBench(name);
  results.push(r);
  console.log(`\n(${name}: ${r.code === 0 ? 'ok' : `FAILED, exit ${r.code}`}, ${(r.ms / 1000).toFixed(1)} s)`);
}

// Every markdown table (and the ratio lines right after one), bench by bench.
console.log('\n# Summary\n');
for (const r of results) {
  const lines = r.out.split('\n');
  const keep = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith('|')) keep.push(l);
    else if (keep.length && keep[keep.length - 1].startsWith('|')) {
      keep.push('');
      // A one-line conclusion below a table (e.g. a ratio) belongs to it.
      const next = l.trim() === '' ? lines[i + 1] : l;
      if (next && !next.startsWith('|') && /ratio|\//.test(next) && !next.startsWith('  $')) keep.push(next.trim(), '');
    }
  }
  console.log(`## ${r.name}${r.code === 0 ? '' : ` (FAILED, exit ${r.code})`}\n`);
  console.log(keep.length ? keep.join('\n').trimEnd() : '(no table)');
  console.log('');
}
console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exit(interrupted ? 130 : results.every((r) => r.code === 0) ? 0 : 1);
