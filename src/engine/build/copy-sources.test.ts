import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkDestination, contextPath, isRemoteSource, matchesSource, parseChmod, parseChown, resolveDestination, sourcePattern,
  targetPath,
} from './copy-sources.js';
import { goMatch } from '../../lib/dockerignore/index.js';

test('sources stay inside the context: cleaned against it as root', () => {
  assert.equal(contextPath('../x'), 'x');
  assert.equal(contextPath('../../etc/passwd'), 'etc/passwd');
  assert.equal(contextPath('/abs/file'), 'abs/file');
  assert.equal(contextPath('./a/./b/../c'), 'a/c');
  assert.equal(contextPath('.'), '.');
  assert.equal(contextPath('dir/'), 'dir');
});

test('Go filepath.Match semantics', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'abc', true], ['*', 'a/b', false], ['a*', 'ab/c', false], ['*.go', 'main.go', true],
    ['?', 'a', true], ['?', '/', false], ['[a-c]x', 'bx', true], ['[^a-c]x', 'bx', false], ['[^a-c]x', 'dx', true],
    ['a\\*b', 'a*b', true], ['a\\*b', 'axb', false], ['*/*.txt', 'd/f.txt', true], ['*/*.txt', 'f.txt', false],
    ['**', 'a/b', false], ['ab[', 'ab', false],
  ];
  for (const [p, n, want] of cases) {
    if (p === 'ab[') assert.throws(() => goMatch(p, n), /syntax error in pattern/);
    else assert.equal(goMatch(p, n), want, `${p} ${n}`);
  }
});

test('source patterns', () => {
  const sp = sourcePattern('src/*.ts');
  assert.deepEqual(sp, { pattern: 'src/*.ts', wildcard: true, walkRoot: 'src' });
  assert.equal(matchesSource(sp, 'src/a.ts'), true);
  assert.equal(matchesSource(sp, 'src/sub/a.ts'), false);
  assert.deepEqual(sourcePattern('../app/'), { pattern: 'app', wildcard: false, walkRoot: 'app' });
  assert.equal(matchesSource(sourcePattern('file[12].txt'), 'file1.txt'), true);
  assert.deepEqual(sourcePattern('*').walkRoot, '.');
  assert.throws(() => sourcePattern('a['), /syntax error in pattern/);
});

test('destinations: WORKDIR, trailing slash, several sources', () => {
  assert.deepEqual(resolveDestination('app/', '/srv'), { path: '/srv/app', isDir: true });
  assert.deepEqual(resolveDestination('app', '/srv'), { path: '/srv/app', isDir: false });
  assert.deepEqual(resolveDestination('.', '/srv'), { path: '/srv', isDir: true });
  assert.deepEqual(resolveDestination('/opt/x/', '/srv'), { path: '/opt/x', isDir: true });
  assert.deepEqual(resolveDestination('../../..', '/srv'), { path: '/', isDir: false });
  assert.deepEqual(resolveDestination('x'), { path: '/x', isDir: false });
  assert.throws(() => checkDestination('COPY', '/app', 2), /^InvalidArgument: When using COPY with more than one source file, the destination must be a directory and end with a \/$/);
  checkDestination('ADD', '/app/', 3);
  checkDestination('COPY', '/app', 1);
});

test('where each source lands', () => {
  const dir = resolveDestination('/app/');
  const file = resolveDestination('/app/main');
  assert.equal(targetPath({ path: 'src/main.go', isDir: false }, dir), '/app/main.go');
  assert.equal(targetPath({ path: 'src/main.go', isDir: false }, file), '/app/main');
  assert.equal(targetPath({ path: 'src/main.go', isDir: false }, file, true), '/app/main/main.go');
  assert.equal(targetPath({ path: 'src', isDir: true }, file), '/app/main');
});

test('--chown and --chmod', () => {
  assert.deepEqual(parseChown('1000:1000'), { user: { kind: 'id', id: 1000 }, group: { kind: 'id', id: 1000 } });
  assert.deepEqual(parseChown('app'), { user: { kind: 'name', name: 'app' }, group: { kind: 'name', name: 'app' } });
  assert.deepEqual(parseChown('app:0'), { user: { kind: 'name', name: 'app' }, group: { kind: 'id', id: 0 } });
  assert.throws(() => parseChown('a:b:c'), /invalid chown string format: a:b:c/);
  assert.equal(parseChmod('755'), 0o755);
  assert.equal(parseChmod('0644'), 0o644);
  assert.throws(() => parseChmod('u+x'), /invalid chmod parameter: 'u\+x'/);
  assert.throws(() => parseChmod('17777'), /between 0 and 07777/);
});

test('remote sources', () => {
  assert.equal(isRemoteSource('https://example.com/x.tar.gz'), true);
  assert.equal(isRemoteSource('git@github.com:moby/moby.git'), true);
  assert.equal(isRemoteSource('http.txt'), false);
});
