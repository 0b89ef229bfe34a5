// Lint beyond tsc: the dependency direction of DESIGN.md §3 (cli -> client -> wire -> lib; api -> engine, wire -> lib;
// registry -> engine/content -> lib), no default exports, no `any`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const root = resolve('src');
const allowed = {
  lib: ['lib'],
  wire: ['wire', 'lib'],
  engine: ['engine', 'lib'],
  api: ['api', 'engine', 'wire', 'lib'],
  registry: ['registry', 'engine/content', 'lib'],
  client: ['client', 'wire', 'lib'],
  cli: ['cli', 'client', 'wire', 'lib'],
  daemon: ['daemon', 'api', 'engine', 'wire', 'lib'],
};
function walk(d, out = []) {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}
const problems = [];
for (const file of walk(root)) {
  const rel = relative(root, file);
  const area = rel.split('/')[0];
  const src = readFileSync(file, 'utf8');
  if (/^export default/m.test(src)) problems.push(`${rel}: export default`);
  if (/:\s*any\b|<any>|as any\b/.test(src)) problems.push(`${rel}: uses any`);
  for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
    const target = relative(root, resolve(dirname(file), m[1]));
    if (target.startsWith('..')) { problems.push(`${rel}: imports outside src: ${m[1]}`); continue; }
    const ok = (allowed[area] ?? []).some((a) => target === a || target.startsWith(a + '/'));
    if (!ok) problems.push(`${rel}: ${area} must not import ${target}`);
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
