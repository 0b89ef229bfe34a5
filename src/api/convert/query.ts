import { InvalidArgument } from '../../lib/errors.js';

/** Docker's boolean query values: empty, 0, no, false, none are false; anything else true. */
export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  return !['', '0', 'no', 'false', 'none'].includes(v.toLowerCase());
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgument(`invalid value for ${name}: ${v}`);
  return n;
}

/**
 * The `filters` query: JSON of `{"key":{"value":true}}` (current) or `{"key":["value"]}` (older clients).
 */
export function filtersParam(q: URLSearchParams, name = 'filters'): Record<string, string[]> {
  const raw = q.get(name) ?? '';
  const v = jsonObjectParam(q, name, 'filter');
  const out: Record<string, string[]> = {};
  for (const [k, val] of Object.entries(v)) {
    if (Array.isArray(val)) out[k] = val.map(String);
    else if (val && typeof val === 'object') out[k] = Object.entries(val as Record<string, unknown>).filter(([, b]) => b !== false).map(([x]) => x);
    else throw new InvalidArgument(`invalid filter: ${raw}`);
  }
  return out;
}

/** A query parameter holding a JSON object (`{}` when absent); 400 `invalid <what>: <raw>` when it is not one. */
export function jsonObjectParam(q: URLSearchParams, name: string, what = name): Record<string, unknown> {
  const raw = q.get(name);
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new InvalidArgument(`invalid ${what}: ${raw}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgument(`invalid ${what}: ${raw}`);
  return v as Record<string, unknown>;
}

/** Docker's timestamps in `since`/`until`: unix seconds with optional fraction, RFC 3339, or a duration ago. */
export function timeParamNs(v: string | null, now = Date.now()): bigint | undefined {
  if (v === null || v === '') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  const d = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v);
  if (d) {
    const mult = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[d[2] as 'ns'];
    return BigInt(Math.round(now - Number(d[1]) * mult)) * 1_000_000n;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid timestamp: ${v}`);
  return BigInt(t) * 1_000_000n;
}
