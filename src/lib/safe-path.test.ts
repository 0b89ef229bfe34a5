import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secureJoin, secureJoinSync } from './safe-path.js';
import { InvalidArgument } from './errors.js';

function makeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'peti-safepath-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  return root;
}

async function both(root: string, p: string): Promise<string> {
  const a = await secureJoin(root, p);
  const b = secureJoinSync(root, p);
  assert.equal(a, b, `async and sync disagree for ${p}`);
  return a;
}

test('plain paths resolve under root', async (t) => {
  const root = makeRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(await both(root, '/etc/passwd'), join(root, 'etc/passwd'));
  assert.equal(await both(root, 'etc/passwd'), join(root, 'etc/passwd'));
  assert.equal(await both(root, '/'), root);
  assert.equal(await both(root, ''), root);
  assert.equal(await both(root, '//etc//./passwd/'), join(root, 'etc/passwd'));
});

test('.. never climbs above root', async (t) => {
  const root = makeRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(await both(root, '../../etc/passwd'), join(root, 'etc/passwd'));
  assert.equal(await both(root, '/usr/../../../../etc/passwd'), join(root, 'etc/passwd'));
  assert.equal(await both(root, '/usr/lib/../..'), root);
});

test('absolute symlinks are re-rooted', async (t) => {
  const root = makeRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  symlinkSync('/etc', join(root, 'hostetc'));
  symlinkSync('/etc/passwd', join(root, 'pw'));
  assert.equal(await both(root, '/hostetc/passwd'), join(root, 'etc/passwd'));
  assert.equal(await both(root, '/pw'), join(root, 'etc/passwd'));
  // A target that does not exist inside root still stays inside root.
  symlinkSync('/etc/shadow', join(root, 'shadow'));
  assert.equal(await both(root, '/shadow'), join(root, 'etc/shadow'));
});

test('relative symlinks with .. stay confined', async (t) => {
  const root = makeRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  symlinkSync('../../../../../../etc', join(root, 'usr/lib/up'));
  assert.equal(await both(root, '/usr/lib/up/passwd'), join(root, 'etc/passwd'));
  symlinkSync('../etc/passwd', join(root, 'usr/rel'));
  assert.equal(await both(root, '/usr/rel'), join(root, 'etc/passwd'));
});

test('symlinked parents are followed, then .. applies to the target', async (t) => {
  const root = makeRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'a/b/c'), { recursive: true });
  symlinkSync('/a/b/c', join(root, 'link'));
  // link -> /a/b/c, so link/.. is /a/b (the kernel's answer), not root.
  assert.equal(await both(root, '/link/..'), join(root, 'a/b'));
  assert.equal(await both(root, '/link/new/file'), join(root, 'a/b/c/new/file'));
});

test('symlink chains and loops', async (t) => {
  const root = makeRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  symlinkSync('l2', join(root, 'l1'));
  symlinkSync('l3', join(root, 'l2'));
  symlinkSync('/etc', join(root, 'l3'));
  assert.equal(await both(root, '/l1/passwd'), join(root, 'etc/passwd'));

  symlinkSync('loopb', join(root, 'loopa'));
  symlinkSync('loopa', join(root, 'loopb'));
  await assert.rejects(secureJoin(root, '/loopa/x'), InvalidArgument);
  assert.throws(() => secureJoinSync(root, '/loopa/x'), InvalidArgument);
  symlinkSync('.', join(root, 'self'));
  assert.equal(await both(root, '/self/self/etc'), join(root, 'etc'));
  symlinkSync('selfloop/x', join(root, 'selfloop'));
  await assert.rejects(secureJoin(root, '/selfloop'), /too many levels of symbolic links/);
});

test('missing components and components under files resolve lexically', async (t) => {
  const root = makeRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(await both(root, '/nope/a/../b'), join(root, 'nope/b'));
  assert.equal(await both(root, '/etc/passwd/x'), join(root, 'etc/passwd/x'));
});

test('a root given with a trailing slash or relative form is normalised', async (t) => {
  const root = makeRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(await both(root + '/', '/etc'), join(root, 'etc'));
});
