/**
 * Sizes and durations printed and parsed the way the docker CLI does (docker/go-units), so columns such as SIZE
 * and CREATED read identically.
 */
import { InvalidArgument } from '../../lib/errors.js';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'] as const;
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'] as const;

/**
 * Go's `%.{precision}g`: `precision` significant digits, trailing zeros dropped, exponent form (`1e+04`) when the
 * exponent is below -4 or at least the precision. Rounds half to even on the exact binary value, as Go does
 * (JS toPrecision rounds half up, which differs for values like 1.0625).
 */
export function formatG(x: number, precision: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const p = Math.max(1, precision);
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const v = Math.abs(x);

  // Exact decimal digits of v and the exponent of the first one. toFixed is exact for values below 1e21; above, the
  // exponential form is exact enough since ties cannot occur at those magnitudes with few digits.
  let digits: string;
  let exp: number;
  if (v < 1e21) {
    const fixed = v.toFixed(100);
    const dot = fixed.indexOf('.');
    const all = fixed.slice(0, dot) + fixed.slice(dot + 1);
    const first = all.search(/[1-9]/);
    digits = all.slice(first).replace(/0+$/, '');
    exp = dot - first - 1;
  } else {
    const [m = '0', e = '0'] = v.toExponential(30).split('e');
    digits = m.replace('.', '').replace(/0+$/, '');
    exp = Number(e);
  }

  if (digits.length > p) {
    const kept = digits.slice(0, p);
    const rest = digits.slice(p);
    const restFirst = rest.charCodeAt(0) - 48;
    const tail = rest.slice(1);
    const lastKept = kept.charCodeAt(p - 1) - 48;
    const roundUp = restFirst > 5 || (restFirst === 5 && (/[1-9]/.test(tail) || lastKept % 2 === 1));
    let n = kept.split('').map((c) => c.charCodeAt(0) - 48);
    if (roundUp) {
      let i = p - 1;
      while (i >= 0) {
        const d = (n[i] ?? 0) + 1;
        if (d < 10) { n[i] = d; break; }
        n[i] = 0;
        i--;
      }
      if (i < 0) { n = [1, ...n.slice(0, p - 1)]; exp++; }
    }
    digits = n.join('').replace(/0+$/, '');
  }
  if (digits === '') digits = '0';

  if (exp < -4 || exp >= p) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
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
