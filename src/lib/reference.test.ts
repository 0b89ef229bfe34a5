import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgument } from './errors.js';
import {
  parseReference, normalizeName, withDefaultTag, formatFull, familiarName, familiarRepoName, repoName,
  isDigestRef, looksLikeId, parseRepoTag, isValidTag, type Reference,
} from './reference.js';

const H = 'a'.repeat(64);
const D = `sha256:${H}` as const;
const HEX = '7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa';

type Ok = [input: string, domain: string, path: string, tag?: string, digest?: string];
const valid: Ok[] = [
  ['busybox', 'docker.io', 'library/busybox'],
  ['busybox:1.36', 'docker.io', 'library/busybox', '1.36'],
  ['busybox:latest', 'docker.io', 'library/busybox', 'latest'],
  ['library/busybox', 'docker.io', 'library/busybox'],
  ['docker.io/busybox', 'docker.io', 'library/busybox'],
  ['docker.io/library/busybox', 'docker.io', 'library/busybox'],
  ['index.docker.io/library/busybox', 'docker.io', 'library/busybox'],
  ['index.docker.io/busybox:1', 'docker.io', 'library/busybox', '1'],
  ['user/app', 'docker.io', 'user/app'],
  ['user/app:v1.0-rc_1', 'docker.io', 'user/app', 'v1.0-rc_1'],
  ['localhost/foo', 'localhost', 'foo'],
  ['localhost:5000/foo/bar:tag', 'localhost:5000', 'foo/bar', 'tag'],
  ['example.com/a/b/c', 'example.com', 'a/b/c'],
  ['my-registry.example.com:443/team/app:2', 'my-registry.example.com:443', 'team/app', '2'],
  [`127.0.0.1:5000/x@${D}`, '127.0.0.1:5000', 'x', undefined, D],
  ['[::1]:5000/x', '[::1]:5000', 'x'],
  ['[2001:db8::1]/x:t', '[2001:db8::1]', 'x', 't'],
  [`foo/bar:tag@${D}`, 'docker.io', 'foo/bar', 'tag', D],
  [`busybox@${D}`, 'docker.io', 'library/busybox', undefined, D],
  ['a.b/c', 'a.b', 'c'],
  ['host:1/c', 'host:1', 'c'],
  ['Registry/app', 'Registry', 'app'], // uppercase first component can only be a host
  ['foo_bar/baz__qux', 'docker.io', 'foo_bar/baz__qux'],
  ['foo---bar', 'docker.io', 'library/foo---bar'],
  ['a-b_c.d', 'docker.io', 'library/a-b_c.d'],
  ['localhost:5000', 'docker.io', 'library/localhost', '5000'], // no slash: a name with a tag, as in Docker
  ['ubuntu:UPPER_tag', 'docker.io', 'library/ubuntu', 'UPPER_tag'],
  [`x:${'t'.repeat(128)}`, 'docker.io', 'library/x', 't'.repeat(128)],
  ['a'.repeat(247), 'docker.io', `library/${'a'.repeat(247)}`], // path exactly 255
  // Docker quirk: a dotted first component that is not a valid host falls back to a domain-less path.
  ['a.b_c/d', '', 'a.b_c/d'],
  ['deadbeefcafe', 'docker.io', 'library/deadbeefcafe'],
];

type Bad = [input: string, message: string | RegExp];
const invalid: Bad[] = [
  ['UPPER', 'invalid reference format: repository name (library/UPPER) must be lowercase'],
  ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
  ['library/Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
  ['docker.io/Foo/bar:1', 'invalid reference format: repository name (Foo/bar) must be lowercase'],
  ['foo:', 'invalid reference format'],
  [':tag', 'invalid reference format'],
  ['a//b', 'invalid reference format'],
  ['-a', 'invalid reference format'],
  ['a-', 'invalid reference format'],
  ['.a', 'invalid reference format'],
  ['a..b', 'invalid reference format'],
  ['a___b', 'invalid reference format'],
  ['', 'invalid reference format'],
  ['/', 'invalid reference format'],
  ['foo/', 'invalid reference format'],
  ['foo:bar:baz', 'invalid reference format'],
  ['foo@', 'invalid reference format'],
  ['foo@sha256:abc', 'invalid reference format'], // shorter than 32 hex
  [`foo:${'t'.repeat(129)}`, 'invalid reference format'],
  ['foo:-tag', 'invalid reference format'],
  ['foo bar', 'invalid reference format'],
  ['localhost:port/x', 'invalid reference format'],
  ['[::1/x', 'invalid reference format'],
  [`foo@sha512:${'a'.repeat(128)}`, /unsupported digest algorithm: sha512/],
  [`foo@md5:${'a'.repeat(32)}`, /unsupported digest algorithm: md5/],
  [`foo@sha256:${'a'.repeat(63)}`, 'invalid checksum digest length'],
  [`foo@sha256:${'A'.repeat(64)}`, 'invalid checksum digest format'],
  ['a'.repeat(248), 'repository name must not be more than 255 characters'],
  ['a'.repeat(256), 'repository name must not be more than 255 characters'],
  [`example.com/${'a'.repeat(256)}`, 'repository name must not be more than 255 characters'],
  [HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
];

for (const [input, domain, path, tag, digest] of valid) {
  test(`parseReference accepts ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
    const ref = parseReference(input);
    const want: Reference = { domain, path };
    if (tag !== undefined) want.tag = tag;
    if (digest !== undefined) want.digest = digest as Reference['digest'];
    assert.deepEqual(ref, want);
  });
}

for (const [input, message] of invalid) {
  test(`parseReference rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
    assert.throws(() => parseReference(input), (err: unknown) => {
      assert.ok(err instanceof InvalidArgument);
      assert.equal(err.code, 'PETI_ERR_BAD_REFERENCE');
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    });
  });
}

test('the table covers at least 40 cases', () => {
  assert.ok(valid.length + invalid.length >= 40);
});

test('pathological input is rejected quickly (no regex blow-up)', () => {
  const started = Date.now();
  for (const s of ['a-'.repeat(5000) + '!', 'a.'.repeat(5000) + '/', `${'a'.repeat(5000)}:${'b'.repeat(5000)}`]) {
    assert.throws(() => parseReference(s));
  }
  assert.ok(Date.now() - started < 1000);
});

test('normalizeName gives domain and path and refuses tags and digests', () => {
  assert.deepEqual(normalizeName('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(normalizeName('localhost:5000/x'), { domain: 'localhost:5000', path: 'x' });
  assert.deepEqual(normalizeName('index.docker.io/u/x'), { domain: 'docker.io', path: 'u/x' });
  assert.throws(() => normalizeName('busybox:1'), /invalid reference format/);
  assert.throws(() => normalizeName(`busybox@${D}`), /invalid reference format/);
  assert.throws(() => normalizeName('Busybox'), /must be lowercase/);
});

test('withDefaultTag adds latest only when there is neither tag nor digest', () => {
  assert.equal(withDefaultTag(parseReference('busybox')).tag, 'latest');
  assert.equal(withDefaultTag(parseReference('busybox:1')).tag, '1');
  const digested = withDefaultTag(parseReference(`busybox@${D}`));
  assert.equal(digested.tag, undefined);
  assert.equal(digested.digest, D);
});

test('formatFull, familiarName, repoName, familiarRepoName', () => {
  const cases: [string, string, string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest', 'docker.io/library/busybox', 'busybox'],
    ['user/x:1', 'docker.io/user/x:1', 'user/x:1', 'docker.io/user/x', 'user/x'],
    ['localhost:5000/x:1', 'localhost:5000/x:1', 'localhost:5000/x:1', 'localhost:5000/x', 'localhost:5000/x'],
    ['library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest', 'docker.io/library/a/b', 'library/a/b'],
    [`q.io/x:t@${D}`, `q.io/x:t@${D}`, `q.io/x:t@${D}`, 'q.io/x', 'q.io/x'],
  ];
  for (const [input, full, familiar, repo, famRepo] of cases) {
    const ref = withDefaultTag(parseReference(input));
    assert.equal(formatFull(ref), full, input);
    assert.equal(familiarName(ref), familiar, input);
    assert.equal(repoName(ref), repo, input);
    assert.equal(familiarRepoName(ref), famRepo, input);
  }
  assert.equal(familiarName(parseReference(`busybox@${D}`)), `busybox@${D}`);
});

test('formatFull round-trips through parseReference', () => {
  for (const [input] of valid) {
    const ref = parseReference(input);
    assert.deepEqual(parseReference(formatFull(ref)), ref);
    assert.deepEqual(parseReference(familiarName(ref)), ref);
  }
});

test('isDigestRef', () => {
  assert.equal(isDigestRef(parseReference(`x@${D}`)), true);
  assert.equal(isDigestRef(parseReference(`x:1@${D}`)), true);
  assert.equal(isDigestRef(parseReference('x:1')), false);
});

test('looksLikeId', () => {
  assert.equal(looksLikeId(H), true);
  assert.equal(looksLikeId(D), true);
  assert.equal(looksLikeId('7cc4b5aefd1d'), true);
  assert.equal(looksLikeId('sha256:7cc4b5aefd1d'), true);
  assert.equal(looksLikeId('7cc4b5aefd1'), false);
  assert.equal(looksLikeId('a'.repeat(65)), false);
  assert.equal(looksLikeId('7CC4B5AEFD1D'), false);
  assert.equal(looksLikeId('busybox'), false);
  assert.equal(looksLikeId('sha512:7cc4b5aefd1d'), false);
});

test('isValidTag', () => {
  assert.equal(isValidTag('v1.0'), true);
  assert.equal(isValidTag('_x'), true);
  assert.equal(isValidTag('.x'), false);
  assert.equal(isValidTag('-x'), false);
  assert.equal(isValidTag('t'.repeat(129)), false);
});

test('parseRepoTag for the tag and commit endpoints', () => {
  assert.deepEqual(parseRepoTag('busybox', ''), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  assert.deepEqual(parseRepoTag('busybox'), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  assert.deepEqual(parseRepoTag('user/x', 'v2'), { domain: 'docker.io', path: 'user/x', tag: 'v2' });
  assert.deepEqual(parseRepoTag('user/x:v1'), { domain: 'docker.io', path: 'user/x', tag: 'v1' });
  assert.deepEqual(parseRepoTag('user/x:v1', 'v2'), { domain: 'docker.io', path: 'user/x', tag: 'v2' });
  assert.deepEqual(parseRepoTag('localhost:5000/x', '1'), { domain: 'localhost:5000', path: 'x', tag: '1' });
  assert.throws(() => parseRepoTag('', 'x'), /at least one component/);
  assert.throws(() => parseRepoTag(`x@${D}`), /refusing to create a tag with a digest reference/);
  assert.throws(() => parseRepoTag('x', 'bad tag'), /invalid tag format/);
  assert.throws(() => parseRepoTag('X', 'ok'), /must be lowercase/);
  assert.throws(() => parseRepoTag('x', '.bad'), (e: unknown) => e instanceof InvalidArgument && e.code === 'PETI_ERR_BAD_REFERENCE');
});
