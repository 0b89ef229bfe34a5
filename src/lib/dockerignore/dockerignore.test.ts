import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFilesToRemove, createMatcher, patternsForContextUpload, readDockerignore } from './dockerignore.js';

// [patterns, path, excluded]: patternmatcher's own table (MatchesOrParentMatches) and Docker's documented examples.
const cases: [string[], string, boolean][] = [
  [['**'], 'file', true],
  [['**'], 'dir/file', true],
  [['**/'], 'dir/file', true],
  [['**/**'], 'dir/file', true],
  [['dir/**'], 'dir/file', true],
  [['dir/**'], 'dir/dir2/file', true],
  [['**/dir'], 'dir', true],
  [['**/dir'], 'dir/file', true],
  [['**/dir2/*'], 'dir/dir2/file', true],
  [['**/dir2/**'], 'dir/dir2/dir3/file', true],
  [['**file'], 'file', true],
  [['**file'], 'dir/dir/file', true],
  [['**/file*'], 'dir/dir/file.txt', true],
  [['**/file*txt'], 'dir/dir/file.txt', true],
  [['**/**/*.txt'], 'dir/dir/file.txt', true],
  [['**/**/*.txt2'], 'dir/dir/file.txt', false],
  [['**/*.txt'], 'file.txt', true],
  [['a**/*.txt'], 'a/dir/dir/file.txt', true],
  [['a/*.txt'], 'a/dir/file.txt', false],
  [['a/*.txt'], 'a/file.txt', true],
  [['a/*.txt**'], 'a/file.txt', true],
  [['a[b-d]e'], 'ace', true],
  [['a[b-d]e'], 'aae', false],
  [['a[^b-d]e'], 'aze', true],
  [['.*'], '.foo', true],
  [['.*'], 'foo', false],
  [['abc.def'], 'abcdef', false],
  [['abc?def'], 'abcZdef', true],
  [['abc?def'], 'abcdef', false],
  [['**/foo/bar'], 'dir/dir2/foo/bar', true],
  [['abc/**'], 'abc', false],
  [['abc/**'], 'abc/def/ghi', true],
  [['**/.foo'], 'bar.foo', false],
  [['a(b)c/def'], 'a(b)c/def', true],
  [['a.|)$(}+{bc'], 'a.|)$(}+{bc', true],
  [['dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  [['a\\*b'], 'a*b', true],
  [['**', '!util/docker/web'], 'util/docker/web/foo', false],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
  [['**', '!dist/*.whl'], 'dist/x-1.0-py3-none-any.whl', false],
  // docs.docker.com "Dockerignore files" examples
  [['*/temp*'], 'somedir/temporary.txt', true],
  [['*/temp*'], 'somedir/temp/inner.txt', true],
  [['*/temp*'], 'temporary.txt', false],
  [['*/*/temp*'], 'somedir/subdir/temporary.txt', true],
  [['temp?'], 'tempa', true],
  [['temp?'], 'temp', false],
  [['**/*.go'], 'cmd/tool/main.go', true],
  [['*.md', '!README.md'], 'README.md', false],
  [['*.md', '!README.md'], 'CHANGES.md', true],
  [['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md', true],
  [['*.md', '!README*.md', 'README-secret.md'], 'README-public.md', false],
  [['*.md', 'README-secret.md', '!README*.md'], 'README-secret.md', false],
  // leading slash and ./ are stripped, patterns cleaned
  [['/build'], 'build/out.o', true],
  [['./node_modules'], 'node_modules/x/index.js', true],
  [['a/../b'], 'b', true],
  [['a/./c/'], 'a/c/d', true],
  // a directory pattern excludes everything below; a plain name only matches at the top
  [['node_modules'], 'node_modules', true],
  [['node_modules'], 'pkg/node_modules/x', false],
  [['*'], 'anything/at/all', true],
  // the context root is never excluded
  [['**'], '.', false],
];

test('excluded(): table of Docker semantics', () => {
  for (const [patterns, path, want] of cases) {
    assert.equal(createMatcher(patterns).excluded(path, false), want, `${JSON.stringify(patterns)} ${path}`);
  }
});

test('reading: comments only in column 0, blanks, BOM, whitespace, ! with spaces', () => {
  assert.deepEqual(readDockerignore('\uFEFF# comment\n\n  *.log  \n ! keep.log\n/abs\n./rel/\n  # not a comment\n!/x'),
    ['*.log', '!keep.log', 'abs', 'rel', '# not a comment', '!x']);
  assert.throws(() => createMatcher(['!']), /illegal exclusion pattern: "!"/);
  assert.throws(() => createMatcher(['[']), /syntax error in pattern/);
});

test('mayIncludeUnder: excluded directories that must still be walked', () => {
  const m = createMatcher(['docs', '!docs/README.md']);
  assert.equal(m.excluded('docs', true), true);
  assert.equal(m.mayIncludeUnder('docs'), true);
  assert.equal(m.excluded('docs/README.md', false), false);
  assert.equal(m.excluded('docs/other.md', false), true);
  assert.equal(m.mayIncludeUnder('src'), false);
  assert.equal(createMatcher(['docs']).mayIncludeUnder('docs'), false);
  const w = createMatcher(['vendor', '!vendor/*/LICENSE']);
  assert.equal(w.mayIncludeUnder('vendor'), true);
  assert.equal(w.mayIncludeUnder('vendor/pkg'), true);
  assert.equal(w.excluded('vendor/pkg/LICENSE', false), false);
  assert.equal(w.excluded('vendor/pkg/code.go', false), true);
  assert.equal(createMatcher(['a', '!b/c']).mayIncludeUnder('a'), false);
  assert.equal(createMatcher(['**', '!**/keep']).mayIncludeUnder('deep/dir'), true);
});

test('Dockerfile and .dockerignore: always sent, but removed from what COPY sees', () => {
  const pats = readDockerignore('*\n!src');
  assert.deepEqual(patternsForContextUpload(pats, 'Dockerfile'), ['*', '!src', '!.dockerignore', '!Dockerfile']);
  assert.deepEqual(buildFilesToRemove(pats, 'Dockerfile'), ['.dockerignore', 'Dockerfile']);
  assert.deepEqual(patternsForContextUpload(readDockerignore('docker/'), 'docker/Dockerfile.prod'), ['docker', '!docker/Dockerfile.prod']);
  assert.deepEqual(buildFilesToRemove(['*.md'], 'Dockerfile'), []);
});
