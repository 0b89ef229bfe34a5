import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgument } from '../../lib/errors.js';
import { formatG, formatFixed, formatExp, humanSize, bytesSize, humanDuration, ago, parseSize, fromHumanSize } from './units.js';

const KB = 1000, MB = 1e6, GB = 1e9, TB = 1e12, PB = 1e15;
const KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024, TiB = GiB * 1024, PiB = TiB * 1024;

test('formatG matches Go %g with precision', () => {
  const cases: [number, number, string][] = [
    [1, 4, '1'], [1.024, 4, '1.024'], [1.048576, 4, '1.049'], [3.42, 4, '3.42'], [10000, 4, '1e+04'],
    [1000, 4, '1000'], [999.95, 4, '1000'], [9999.5, 4, '1e+04'], [123, 4, '123'], [0, 4, '0'],
    [0.0001234, 4, '0.0001234'], [0.00001234, 4, '1.234e-05'], [1.0625, 4, '1.062'], [1.0635, 4, '1.063'] /* 1.06349999… in binary */,
    [77.864, 3, '77.9'], [1.5e21, 4, '1.5e+21'], [-2.5, 2, '-2.5'], [1.049e6 * 1.0001, 4, '1.049e+06'],
    [123456789, 3, '1.23e+08'], [0.5, 1, '0.5'], [2.5, 1, '2'], [3.5, 1, '4'],
  ];
  for (const [x, p, want] of cases) assert.equal(formatG(x, p), want, `${x} %.${p}g`);
});

test('humanSize like go-units HumanSize', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(123), '123B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1024), '1.024kB');
  assert.equal(humanSize(4260), '4.26kB');
  assert.equal(humanSize(1000000), '1MB');
  assert.equal(humanSize(1048576), '1.049MB');
  assert.equal(humanSize(1230000), '1.23MB');
  assert.equal(humanSize(2 * MB), '2MB');
  assert.equal(humanSize(3.42 * GB), '3.42GB');
  assert.equal(humanSize(5.372 * TB), '5.372TB');
  assert.equal(humanSize(2.22 * PB), '2.22PB');
  assert.equal(humanSize(10000000000000 * PB), '1e+04YB');
  assert.equal(humanSize(1062500), '1.062MB'); // half-even, as Go
  // docker images uses precision 3
  assert.equal(humanSize(4_261_118, 3), '4.26MB');
  assert.equal(humanSize(77_864_032, 3), '77.9MB');
  assert.equal(humanSize(KB * 0.5), '500B');
});

test('bytesSize like go-units BytesSize', () => {
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1024 * 1024), '1MiB');
  assert.equal(bytesSize(2 * MiB), '2MiB');
  assert.equal(bytesSize(3.42 * GiB), '3.42GiB');
  assert.equal(bytesSize(5.372 * TiB), '5.372TiB');
  assert.equal(bytesSize(2.22 * PiB), '2.22PiB');
  assert.equal(bytesSize(KiB ** 5 * PiB), '1.049e+06YiB');
});

test('humanDuration like go-units HumanDuration', () => {
  const s = 1000, m = 60 * s, h = 60 * m, day = 24 * h, week = 7 * day, month = 30 * day, year = 365 * day;
  const cases: [number, string][] = [
    [-5 * s, 'Less than a second'], [0, 'Less than a second'], [450, 'Less than a second'], [1 * s, '1 second'],
    [45 * s, '45 seconds'], [59 * s, '59 seconds'], [60 * s, 'About a minute'], [119 * s, 'About a minute'],
    [3 * m, '3 minutes'], [35 * m + 40 * s, '35 minutes'], [59 * m, '59 minutes'], [1 * h, 'About an hour'],
    [h + 29 * m, 'About an hour'], [h + 31 * m, '2 hours'], [3 * h, '3 hours'], [3 * h + 29 * m, '3 hours'],
    [3 * h + 31 * m, '4 hours'], [24 * h, '24 hours'], [day + 12 * h, '36 hours'], [2 * day, '2 days'],
    [7 * day, '7 days'], [13 * day + 5 * h, '13 days'], [2 * week, '2 weeks'], [2 * week + 4 * day, '2 weeks'],
    [3 * week, '3 weeks'], [4 * week + 3 * day, '4 weeks'], [month, '4 weeks'], [month + 2 * week, '6 weeks'],
    [2 * month, '2 months'], [2 * month + 2 * week, '2 months'], [3 * month + week, '3 months'], [4 * month, '4 months'],
    [5 * month + 2 * week, '5 months'], [13 * month, '13 months'], [24 * month, '24 months'],
    [24 * month + 2 * week, '2 years'], [3 * year + 2 * month, '3 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
});

test('ago', () => {
  const now = Date.UTC(2024, 0, 10, 12, 0, 0);
  assert.equal(ago(now - 2 * 86_400_000, now), '2 days ago');
  assert.equal(ago(new Date(now - 90_000), new Date(now)), 'About a minute ago');
  assert.equal(ago(now + 5000, now), 'Less than a second ago');
  assert.match(ago(new Date()), /^Less than a second ago$/);
});

test('parseSize like go-units RAMInBytes', () => {
  const ok: [string, number][] = [
    ['32', 32], ['32b', 32], ['32B', 32], ['32k', 32 * KiB], ['32K', 32 * KiB], ['32kb', 32 * KiB],
    ['32Kb', 32 * KiB], ['32Kib', 32 * KiB], ['32KIB', 32 * KiB], ['32Mb', 32 * MiB], ['512m', 512 * MiB],
    ['32Gb', 32 * GiB], ['1g', GiB], ['32Tb', 32 * TiB], ['32Pb', 32 * PiB], ['32PB', 32 * PiB], ['32P', 32 * PiB],
    ['32.3', 32], ['32.3 mb', Math.trunc(32.3 * MiB)], ['0.3MB', Math.trunc(0.3 * MiB)], ['.5k', 512], ['1e3', 1000],
  ];
  for (const [s, want] of ok) assert.equal(parseSize(s), want, s);
  const bad: [string, RegExp][] = [
    ['', /invalid size: ''/], ['hello', /invalid size: 'hello'/], ['-32', /invalid size: '-32'/],
    [' 32 ', /invalid syntax/], ['32m b', /invalid syntax/], ['32bm', /invalid suffix: 'bm'/],
    ['32q', /invalid suffix: 'q'/], ['32kbb', /invalid suffix: 'kbb'/], ['32kx', /invalid suffix: 'kx'/],
    ['32mib2', /invalid syntax/], ['1..2m', /invalid syntax/],
  ];
  for (const [s, re] of bad) {
    assert.throws(() => parseSize(s), (e: unknown) => e instanceof InvalidArgument && re.test(e.message), s);
  }
});

test('fromHumanSize like go-units FromHumanSize', () => {
  assert.equal(fromHumanSize('32k'), 32 * KB);
  assert.equal(fromHumanSize('32.5 kB'), 32500);
  assert.equal(fromHumanSize('32.5 B'), 32);
  assert.equal(fromHumanSize('0.3 K'), 300);
  assert.equal(fromHumanSize('32Pb'), 32 * PB);
  assert.throws(() => fromHumanSize('32m b'));
});

test('formatFixed and formatExp round half to even like Go', () => {
  assert.equal(formatFixed(2.25, 1), '2.2');
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(3.5, 0), '4');
  assert.equal(formatFixed(0.05, 1), '0.1');
  assert.equal(formatFixed(1.005, 2), '1.00');
  assert.equal(formatFixed(-3.14159, 3), '-3.142');
  assert.equal(formatFixed(0, 2), '0.00');
  assert.equal(formatFixed(0.004, 2), '0.00');
  assert.equal(formatFixed(0.006, 2), '0.01');
  assert.equal(formatFixed(999.996, 2), '1000.00');
  assert.equal(formatFixed(123.456, 0), '123');
  assert.equal(formatExp(123456, 6), '1.234560e+05');
  assert.equal(formatExp(2.0625, 3), '2.062e+00');
  assert.equal(formatExp(15, 0), '2e+01');
  assert.equal(formatExp(0, 2), '0.00e+00');
  assert.equal(formatG(1234567.5), '1.2345675e+06');
  assert.equal(formatG(0.1), '0.1');
  assert.equal(formatG(100000), '100000');
});
