import { InvalidArgument } from '../lib/errors.js';

export interface FlagSpec {
  /** Long name without dashes. */
  name: string;
  short?: string;
  kind: 'bool' | 'string' | 'list';
  /** Long aliases (`--input` for `-i`). */
  aliases?: string[];
}

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  args: string[];
}

/**
 * Docker-style flags: `-a`, `-aq` combined, `-o file`, `-ofile`, `--flag value`, `--flag=value`, repeated list
 * flags, `--` ends flags, and flags may follow positional arguments (cobra's interspersed parsing).
 */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], interspersed = true): Parsed {
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const s of specs) {
    byLong.set(s.name, s);
    for (const a of s.aliases ?? []) byLong.set(a, s);
    if (s.short) byShort.set(s.short, s);
  }
  const flags: Parsed['flags'] = {};
  const args: string[] = [];
  const set = (s: FlagSpec, v: string | boolean): void => {
    if (s.kind === 'list') flags[s.name] = [...((flags[s.name] as string[] | undefined) ?? []), String(v)];
    else flags[s.name] = v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const s = byLong.get(name);
      if (!s) throw new InvalidArgument(`unknown flag: --${name}`);
      if (s.kind === 'bool') {
        set(s, eq < 0 ? true : !['false', '0'].includes(a.slice(eq + 1)));
      } else if (eq >= 0) set(s, a.slice(eq + 1));
      else {
        if (i + 1 >= argv.length) throw new InvalidArgument(`flag needs an argument: --${name}`);
        set(s, argv[++i]!);
      }
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const s = byShort.get(a[j]!);
        if (!s) throw new InvalidArgument(`unknown shorthand flag: '${a[j]}' in ${a}`);
        if (s.kind === 'bool') {
          set(s, true);
          continue;
        }
        const rest = a.slice(j + 1).replace(/^=/, '');
        if (rest) set(s, rest);
        else {
          if (i + 1 >= argv.length) throw new InvalidArgument(`flag needs an argument: '${a[j]}' in -${a[j]}`);
          set(s, argv[++i]!);
        }
        break;
      }
    } else {
      args.push(a);
      if (!interspersed) {
        args.push(...argv.slice(i + 1));
        break;
      }
    }
  }
  return { flags, args };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : [];
}

/** `--filter a=b --filter a=c` -> Docker's filters JSON. */
export function filtersJson(values: string[]): string | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new InvalidArgument(`bad format of filter (expected name=value)`);
    const k = v.slice(0, i).trim().toLowerCase();
    (out[k] ??= {})[v.slice(i + 1)] = true;
  }
  return JSON.stringify(out);
}
