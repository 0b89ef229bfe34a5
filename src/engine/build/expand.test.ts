import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expand, expandDetailed, expandHeredocBody, expandWords } from './expand.js';

const env = new Map([['A', 'a'], ['EMPTY', ''], ['SP', 'x y'], ['PATH', '/usr/bin:/bin'], ['FILE', 'archive.tar.gz']]);

test('substitution forms', () => {
  const cases: [string, string][] = [
    ['$A', 'a'], ['${A}', 'a'], ['x$A-y', 'xa-y'], ['$UNSET', ''], ['${UNSET}', ''],
    ['${UNSET:-def}', 'def'], ['${EMPTY:-def}', 'def'], ['${EMPTY-def}', ''], ['${A:-def}', 'a'],
    ['${A:+alt}', 'alt'], ['${EMPTY:+alt}', ''], ['${EMPTY+alt}', 'alt'], ['${UNSET+alt}', ''],
    ['${UNSET:-${A}b}', 'ab'], ['${UNSET:-${UNSET2:-deep}}', 'deep'],
    ['\\$A', '$A'], ["'$A'", '$A'], ['"$A"', 'a'], ['"\\$A"', '$A'], ['"a\\b"', 'a\\b'],
    ['$', '$'], ['a$', 'a$'], ['${FILE%.*}', 'archive.tar'], ['${FILE%%.*}', 'archive'], ['${FILE#*.}', 'tar.gz'],
    ['${FILE##*.}', 'gz'], ['${PATH/bin/sbin}', '/usr/sbin:/bin'], ['${PATH//bin/sbin}', '/usr/sbin:/sbin'],
    ['$1', ''], ['"quoted \'single\'"', "quoted 'single'"],
  ];
  for (const [input, want] of cases) assert.equal(expand(input, env), want, input);
});

test('errors', () => {
  assert.throws(() => expand('${UNSET:?must be set}', env), /failed to process "\$\{UNSET:\?must be set\}": UNSET: must be set/);
  assert.throws(() => expand('${UNSET?}', env), /UNSET: is not allowed to be unset/);
  assert.throws(() => expand('${EMPTY:?}', env), /EMPTY: is not allowed to be empty/);
  assert.equal(expand('${EMPTY?}', env), '');
  assert.throws(() => expand('${A', env), /missing '}'/);
  assert.throws(() => expand('${}', env), /bad substitution/);
  assert.throws(() => expand('${A:x}', env), /unsupported modifier \(:x\) in substitution/);
  assert.throws(() => expand('"open', env), /matching double-quote/);
  assert.throws(() => expand("'open", env), /matching single-quote/);
});

test('backtick escape token', () => {
  assert.equal(expand('c:\\dir`$A', env, { escapeToken: '`' }), 'c:\\dir$A');
  assert.equal(expand('c:\\dir\\$A', env, { escapeToken: '`' }), 'c:\\dir\\a');
});

test('words: quotes keep spaces, variable values split', () => {
  assert.deepEqual(expandWords('a "b c" d\\ e $SP "$SP"', env), ['a', 'b c', 'd e', 'x', 'y', 'x y']);
  assert.deepEqual(expandWords('  ', env), []);
});

test('records and matched/unmatched variables', () => {
  const r = expandDetailed('$A ${B:-x} $NOPE', { A: '1', B: '2' });
  assert.equal(r.result, '1 2 ');
  assert.deepEqual([...r.matched].sort(), ['A', 'B']);
  assert.deepEqual([...r.unmatched], ['NOPE']);
  assert.equal(expand('$constructor', {}), '');
});

test('heredoc body expansion keeps quotes', () => {
  assert.equal(expandHeredocBody('echo "$A" \'$A\' \\$A\n', env), 'echo "a" \'a\' $A\n');
});
