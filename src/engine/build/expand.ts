import { InvalidArgument } from '../../lib/errors.js';

/**
 * Dockerfile variable substitution, with the rules of BuildKit's shell lexer (frontend/dockerfile/shell), which the
 * classic builder shares. Docker expands ADD COPY ENV EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR (and the
 * ONBUILD trigger when it runs) and ARG defaults; never RUN/CMD/ENTRYPOINT, whose shell does its own expansion.
 * Each instruction argument is expanded as one word (`expand`); `expandWords` also splits into words after
 * substitution, as the lexer does.
 */

/** Variables visible to a step: ENV values, then declared ARGs (ARG values do not override ENV ones). */
export type EnvSource = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface ExpandOptions {
  /** The Dockerfile's escape token (`# escape=`); default `\`. */
  escapeToken?: string;
  /** Keep quote characters in the result (used to detect quoted heredoc delimiters). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Leave `$VAR` of unset variables as written instead of substituting ''. */
  skipUnset?: boolean;
  /** Treat quotes as ordinary characters (heredoc bodies). */
  skipQuotes?: boolean;
}

export interface ExpandResult {
  result: string;
  words: string[];
  /** Variables referenced and set (a cache key must cover their values). */
  matched: Set<string>;
  /** Variables referenced but unset. */
  unmatched: Set<string>;
}

const EOF = '';

function isSpace(c: string): boolean {
  return c !== '\uFEFF' && /\s/u.test(c);
}
function isDigit(c: string): boolean {
  return /\p{Nd}/u.test(c);
}
function isLetter(c: string): boolean {
  return /\p{L}/u.test(c);
}

function lookup(env: EnvSource, name: string): string | undefined {
  if (env instanceof Map) return env.get(name);
  const rec = env as Readonly<Record<string, string>>;
  return Object.hasOwn(rec, name) ? rec[name] : undefined;
}

class Words {
  buf = '';
  words: string[] = [];
  inWord = false;
  addChar(c: string): void {
    if (isSpace(c)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(c);
    }
  }
  addRawChar(c: string): void {
    this.buf += c;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const c of s) this.addChar(c);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  done(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(text: string, private readonly env: EnvSource, private readonly opts: Required<ExpandOptions>) {
    this.chars = Array.from(text);
    this.rawEscapes = opts.rawEscapes;
  }

  private peek(): string {
    return this.pos < this.chars.length ? this.chars[this.pos]! : EOF;
  }
  private next(): string {
    return this.pos < this.chars.length ? this.chars[this.pos++]! : EOF;
  }

  /** Scan until `stop` (consumed) or the end; returns the substituted text and its words. */
  run(stop: string | null, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      while (this.peek() !== EOF) {
        const c = this.peek();
        if (stop !== null && c === stop) {
          this.next();
          return { result, words: words.done() };
        }
        if (c === '$') {
          const v = this.dollar();
          result += v;
          words.addString(v);
        } else if (c === '<') {
          const v = this.possibleHeredoc();
          result += v;
          words.addRawString(v);
        } else if (!this.opts.skipQuotes && (c === "'" || c === '"')) {
          const v = c === "'" ? this.singleQuote() : this.doubleQuote();
          result += v;
          words.addRawString(v);
        } else {
          let ch = this.next();
          if (ch === this.opts.escapeToken) {
            if (this.rawEscapes) {
              words.addRawChar(ch);
              result += ch;
            }
            ch = this.next();
            if (ch === EOF) break;
            words.addRawChar(ch);
          } else {
            words.addChar(ch);
          }
          result += ch;
        }
      }
      if (stop !== null) throw new Error(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.done() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuote(): string {
    // Everything up to the next ' is literal; a ' cannot be escaped inside.
    let out = '';
    const open = this.next();
    if (this.opts.rawQuotes) out += open;
    for (;;) {
      const c = this.next();
      if (c === EOF) throw new Error('unexpected end of statement while looking for matching single-quote');
      if (c === "'") {
        if (this.opts.rawQuotes) out += c;
        return out;
      }
      out += c;
    }
  }

  private doubleQuote(): string {
    // Literal except $ expansions; the escape token only escapes " $ and itself, else it stays.
    let out = '';
    const open = this.next();
    if (this.opts.rawQuotes) out += open;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new Error('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const c = this.next();
        if (this.opts.rawQuotes) out += c;
        return out;
      }
      if (p === '$') {
        out += this.dollar();
        continue;
      }
      let c = this.next();
      if (c === this.opts.escapeToken) {
        if (this.rawEscapes) out += c;
        const n = this.peek();
        if (n === EOF) continue;
        if (n === '"' || n === '$' || n === this.opts.escapeToken) c = this.next();
      }
      out += c;
    }
  }

  private get(name: string): string | undefined {
    const v = lookup(this.env, name);
    if (v === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return v;
  }

  private name(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const c = this.peek();
      if (name === '' && isDigit(c)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(c)) return this.next();
      if (!isLetter(c) && !isDigit(c) && c !== '_') break;
      name += this.next();
    }
    return name;
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const v = this.get(name);
      if (v === undefined && this.opts.skipUnset) return '$' + name;
      return v ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new Error("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new Error('syntax error: bad substitution');
    const name = this.name();
    let ch = this.next();
    let mod = ch;
    if (ch === EOF) throw new Error("syntax error: missing '}'");
    if (ch === '}') {
      const v = this.get(name);
      if (v === undefined && this.opts.skipUnset) return '${' + name + '}';
      return v ?? '';
    }
    if (ch === '/') return this.replace(name);
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      mod += ch;
    }
    if (!'+-?#%'.includes(ch) || ch === EOF) {
      throw new Error(`unsupported modifier (${mod}) in substitution`);
    }
    const patternMod = ch === '#' || ch === '%';
    if (nullIsUnset && patternMod) throw new Error(`unsupported modifier (${mod}) in substitution`);
    let word: string;
    try {
      word = this.run('}', patternMod).result;
    } catch (err) {
      if (this.peek() === EOF) throw new Error("syntax error: missing '}'");
      throw err;
    }
    const value = this.get(name);
    const set = value !== undefined;
    if (this.opts.skipUnset && !set) return '${' + name + mod + word + '}';
    const empty = !set || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return empty ? word : value!;
      case '+':
        return empty ? '' : word;
      case '?':
        if (!set) throw new Error(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new Error(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        // %/# remove the shortest suffix/prefix, %%/## the longest.
        let pat = word;
        const greedy = pat.startsWith(ch);
        if (greedy) pat = pat.slice(1);
        return ch === '%' ? trimSuffix(pat, value ?? '', greedy) : trimPrefix(pat, value ?? '', greedy);
      }
    }
  }

  private replace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    let pattern: string;
    let replacement: string;
    try {
      pattern = this.run('/', true).result;
    } catch (err) {
      if (this.peek() === EOF) throw new Error("syntax error: missing '/' in ${}");
      throw err;
    }
    try {
      replacement = this.run('}', true).result;
    } catch (err) {
      if (this.peek() === EOF) throw new Error("syntax error: missing '}'");
      throw err;
    }
    const value = this.get(name);
    if (value === undefined && this.opts.skipUnset) return '${' + name + '/' + pattern + '/' + replacement + '}';
    const re = shellPatternToRegex(pattern, true, false, all);
    return (value ?? '').replace(re, () => replacement);
  }

  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    // `<< EOF` keeps the spaces so the heredoc word stays one word.
    let space = '';
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') space += this.next();
    return '<<' + space;
  }
}

/** Shell wildcard pattern (`*`, `?`, `\` escapes; no brackets) to a RegExp, as BuildKit converts it. */
function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') out += greedy ? '.*' : '.*?';
    else if (c === '?') out += '.';
    else if (c === '\\') {
      const n = chars[i + 1];
      // `\}` and `\/` inside ${} escape the delimiter, not a pattern character.
      if (n === '}' || n === '/') continue;
      i++;
      if (n !== '*' && n !== '?' && n !== '\\') {
        throw new Error(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ''}'`);
      }
      out += '\\' + n;
    } else if ('[]{}.+()|^$'.includes(c)) out += '\\' + c;
    else out += c;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

function reversePattern(pattern: string): string {
  const p = Array.from(pattern);
  const out: string[] = new Array<string>(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last;) {
    const o = last - i;
    if (p[i] === '\\' && i !== last) {
      out[o - 1] = p[i]!;
      out[o] = p[i + 1]!;
      i += 2;
    } else {
      out[o] = p[i]!;
      i++;
    }
  }
  return out.join('');
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // Regexes find leftmost matches only, so reverse both to find the rightmost suffix.
  const rev = (s: string): string => Array.from(s).reverse().join('');
  return rev(trimPrefix(reversePattern(pattern), rev(value), greedy));
}

function withDefaults(opts: ExpandOptions): Required<ExpandOptions> {
  return {
    escapeToken: opts.escapeToken ?? '\\',
    rawQuotes: opts.rawQuotes ?? false,
    rawEscapes: opts.rawEscapes ?? false,
    skipUnset: opts.skipUnset ?? false,
    skipQuotes: opts.skipQuotes ?? false,
  };
}

/** Full result: substituted text, words, and which variables were used. Throws InvalidArgument. */
export function expandDetailed(text: string, env: EnvSource, opts: ExpandOptions = {}): ExpandResult {
  const lx = new Lexer(text, env, withDefaults(opts));
  try {
    const { result, words } = lx.run(null, opts.rawEscapes ?? false);
    return { result, words, matched: lx.matched, unmatched: lx.unmatched };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new InvalidArgument(`failed to process ${JSON.stringify(text)}: ${msg}`, { cause: err });
  }
}

/** Substitute variables in one instruction argument; quotes are removed, spaces kept. */
export function expand(text: string, env: EnvSource, opts: ExpandOptions = {}): string {
  return expandDetailed(text, env, opts).result;
}

/**
 * Substitute, then split into words on unquoted whitespace (quoted parts and escaped spaces stay in one word;
 * whitespace coming from a variable's value splits, as in a shell).
 */
export function expandWords(text: string, env: EnvSource, opts: ExpandOptions = {}): string[] {
  return expandDetailed(text, env, opts).words;
}

/** Expand a COPY/ADD heredoc body: quotes are ordinary characters and the escape token is always `\`. */
export function expandHeredocBody(body: string, env: EnvSource): string {
  return expand(body, env, { escapeToken: '\\', skipQuotes: true });
}
