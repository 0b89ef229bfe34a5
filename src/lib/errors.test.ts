import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, InvalidArgument, NotFound, Conflict, AlreadyExists, errorFromStatus, statusOf } from './errors.js';

function walk(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('every PETI_ERR_* code used in src/ is documented in ERROR_CODES, and codes are unique', () => {
  const used = new Set<string>();
  for (const f of walk(join(import.meta.dirname, '..'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/PETI_ERR_[A-Z_]+/g)) used.add(m[0]);
  }
  for (const c of used) assert.ok(c in ERROR_CODES, `${c} is used but not documented in lib/errors.ts`);
  const descriptions = Object.values(ERROR_CODES);
  assert.equal(new Set(Object.keys(ERROR_CODES)).size, descriptions.length);
});

test('classes map to Docker statuses and back', () => {
  assert.equal(statusOf(new NotFound('x')), 404);
  assert.equal(statusOf(new InvalidArgument('x')), 400);
  assert.equal(statusOf(new Conflict('x')), 409);
  assert.equal(statusOf(new AlreadyExists('x')), 409);
  assert.equal(statusOf(new Error('x')), 500);
  assert.ok(errorFromStatus(404, 'm') instanceof NotFound);
  assert.ok(errorFromStatus(409, 'm') instanceof Conflict);
});
