/**
 * Sizes and durations printed and parsed the way the docker CLI does (docker/go-units), so columns such as SIZE
 * and CREATED read identically.
 */
import { InvalidArgument } from '../../lib/errors.js';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'] as const;
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'] as const;

interface Decimal { digits: string; exp: number }

/** The exact decimal digits of a finite positive double (no leading or trailing zeros) and its first digit's exponent. */
function exactDecimal(v: number): Decimal {
  // toFixed is exact for values below 1e21 (and 100 fraction digits cover any double above ~1e-80); above 1e21 the
  // exponential form carries every digit that matters for the few significant digits we print.
  if (v < 1e21) {
    const fixed = v.toFixed(100);
    const dot = fixed.indexOf('.');
    const all = fixed.slice(0, dot) + fixed.slice(dot + 1);
    const first = all.search(/[1-9]/);
    if (first === -1) return { digits: '', exp: 0 };
    return { digits: all.slice(first).replace(/0+$/, ''), exp: dot - first - 1 };
  }
  const [m = '0', e = '0'] = v.toExponential(30).split('e');
  return { digits: m.replace('.', '').replace(/0+$/, ''), exp: Number(e) };
}

/** Keep `n` significant digits (n may be 0 or negative), rounding half to even on the exact value, as Go does. */
function roundSig(d: Decimal, n: number): Decimal {
  if (d.digits.length <= n) return d;
  if (n < 0) return { digits: '', exp: d.exp };
  const kept = d.digits.slice(0, n);
  const restFirst = d.digits.charCodeAt(n) - 48;
  const tail = d.digits.slice(n + 1);
  const lastKept = n > 0 ? kept.charCodeAt(n - 1) - 48 : 0;
  const roundUp = restFirst > 5 || (restFirst === 5 && (/[1-9]/.test(tail) || lastKept % 2 === 1));
  if (!roundUp) return { digits: kept.replace(/0+$/, ''), exp: d.exp };
  const arr = kept.split('').map((c) => c.charCodeAt(0) - 48);
  let i = n - 1;
  for (; i >= 0; i--) {
    const x = (arr[i] ?? 0) + 1;
    if (x < 10) { arr[i] = x; break; }
    arr[i] = 0;
  }
  if (i < 0) return { digits: '1', exp: d.exp + 1 };
  return { digits: arr.join('').replace(/0+$/, ''), exp: d.exp };
}

function special(x: number): string | undefined {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  return undefined;
}

function expSuffix(exp: number): string {
  const e = Math.abs(exp);
  return `e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
}

/** Go's `%.{precision}f`, rounding half to even on the exact value (JS toFixed rounds half up: 2.25 → 2.3). */
export function formatFixed(x: number, precision: number): string {
  const sp = special(x);
  if (sp !== undefined) return sp;
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const exact = exactDecimal(Math.abs(x));
  const r = roundSig(exact, exact.exp + 1 + precision);
  // Lay the digits out on a grid from 10^max(exp,0) down to 10^-precision.
  let int = '0';
  let frac = '0'.repeat(precision);
  if (r.digits !== '') {
    const all = r.digits;
    if (r.exp >= 0) {
      int = all.slice(0, r.exp + 1).padEnd(r.exp + 1, '0');
      frac = all.slice(r.exp + 1).padEnd(precision, '0');
    } else {
      frac = ('0'.repeat(-r.exp - 1) + all).padEnd(precision, '0');
    }
  }
  return sign + int + (precision > 0 ? `.${frac}` : '');
}

/** Go's `%.{precision}e`: `1.234560e+05`, rounding half to even. */
export function formatExp(x: number, precision: number): string {
  const sp = special(x);
  if (sp !== undefined) return sp;
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return `${sign}${precision > 0 ? `0.${'0'.repeat(precision)}` : '0'}e+00`;
  const r = roundSig(exactDecimal(Math.abs(x)), precision + 1);
  const digits = r.digits.padEnd(precision + 1, '0');
  return `${sign}${digits[0]}${precision > 0 ? `.${digits.slice(1)}` : ''}${expSuffix(r.exp)}`;
}

/**
 * Go's `%.{precision}g`: `precision` significant digits, trailing zeros dropped, exponent form (`1e+04`) when the
 * exponent is below -4 or at least the precision. With precision undefined, the shortest digits that round-trip
 * and an exponent from 1e+06 up (`%v` of a float64). Rounds half to even on the exact binary value, as Go does.
 */
export function formatG(x: number, precision?: number): string {
  const sp = special(x);
  if (sp !== undefined) return sp;
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const v = Math.abs(x);
  let r: Decimal;
  let eprec: number;
  if (precision === undefined) {
    const [m = '0', e = '0'] = v.toExponential().split('e');
    r = { digits: m.replace('.', '').replace(/0+$/, ''), exp: Number(e) };
    eprec = 6;
  } else {
    eprec = Math.max(1, precision);
    r = roundSig(exactDecimal(v), eprec);
  }
  const digits = r.digits === '' ? '0' : r.digits;
  if (r.exp < -4 || r.exp >= eprec) {
    return `${sign}${digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits}${expSuffix(r.exp)}`;
  }
  if (r.exp < 0) return `${sign}0.${'0'.repeat(-r.exp - 1)}${digits}`;
  const intPart = digits.slice(0, r.exp + 1).padEnd(r.exp + 1, '0');
  const frac = digits.slice(r.exp + 1);
  return sign + intPart + (frac === '' ? '' : `.${frac}`);
}

function scaled(size: number, base: number, units: readonly string[]): [number, string] {
  let i = 0;
  let v = size;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return [v, units[i] ?? 'B'];
}

/** Decimal (SI) size like go-units HumanSize: `1.23MB`, `4.26kB`, `123B`. `docker images` uses precision 3. */
export function humanSize(bytes: number, precision = 4): string {
  const [v, unit] = scaled(bytes, 1000, DECIMAL_UNITS);
  return formatG(v, precision) + unit;
}

/** Binary size like go-units BytesSize: `1KiB`, `3.42GiB`. */
export function bytesSize(bytes: number): string {
  const [v, unit] = scaled(bytes, 1024, BINARY_UNITS);
  return formatG(v, 4) + unit;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Go's Duration.Round(time.Hour) in hours: half away from zero. */
function roundHours(ms: number): number {
  return Math.sign(ms) * Math.floor(Math.abs(ms) / HOUR + 0.5);
}

/** Approximate duration like go-units HumanDuration: `Less than a second`, `About a minute`, `3 hours`, `2 years`. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = roundHours(ms);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / HOUR) / 24 / 365)} years`;
}

/** `humanDuration(now - date) + ' ago'`, as the CREATED columns print. Numbers are epoch milliseconds. */
export function ago(date: Date | number, now: Date | number = Date.now()): string {
  const t = typeof date === 'number' ? date : date.getTime();
  const n = typeof now === 'number' ? now : now.getTime();
  return `${humanDuration(n - t)} ago`;
}

const DECIMAL_MULT: Readonly<Record<string, number>> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const BINARY_MULT: Readonly<Record<string, number>> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
// What Go's strconv.ParseFloat accepts in decimal form (hex floats and Inf/NaN cannot reach it: no digit suffix).
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseWith(s: string, mult: Readonly<Record<string, number>>): number {
  // go-units splits at the last digit, dot or space: the number is before it, the unit suffix after.
  let sep = -1;
  for (let i = s.length - 1; i >= 0; i--) {
    if (/[0-9. ]/.test(s[i] ?? '')) { sep = i; break; }
  }
  if (sep === -1) throw new InvalidArgument(`invalid size: '${s}'`);
  const num = s[sep] === ' ' ? s.slice(0, sep) : s.slice(0, sep + 1);
  let sfx = s.slice(sep + 1);
  if (!FLOAT_RE.test(num)) throw new InvalidArgument(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  let size = Number(num);
  if (size < 0) throw new InvalidArgument(`invalid size: '${s}'`);
  if (sfx === '') return Math.trunc(size);
  const badSuffix = (): InvalidArgument => new InvalidArgument(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw badSuffix();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw badSuffix();
    return Math.trunc(size);
  }
  const m = mult[sfx[0] ?? ''];
  if (m === undefined) throw badSuffix();
  size *= m;
  if (sfx.length === 2 && sfx[1] !== 'b') throw badSuffix();
  if (sfx.length === 3 && sfx.slice(1) !== 'ib') throw badSuffix();
  return Math.trunc(size);
}

/**
 * Bytes from a `-m 512m`-style value, like go-units RAMInBytes: binary multiples, case-insensitive `k m g t p`,
 * optional `b`/`ib`, an optional space before the unit. Throws InvalidArgument with go-units' wording.
 */
export function parseSize(s: string): number {
  return parseWith(s, BINARY_MULT);
}

/** Bytes from an SI size (`44kB` = 44000), like go-units FromHumanSize. Throws InvalidArgument. */
export function fromHumanSize(s: string): number {
  return parseWith(s, DECIMAL_MULT);
}
