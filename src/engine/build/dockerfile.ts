import { InvalidArgument } from '../../lib/errors.js';
import { expandDetailed } from './expand.js';
import { ramInBytes } from '../../lib/units.js';
import type {
  ArgDefinition, CommandLine, CopyInstruction, Dockerfile, FromInstruction, HealthcheckSpec, Heredoc, Instruction,
  KeyValue, NetworkMode, NodeBase, ParserDirectives, RunInstruction, RunMount, RunScript, SecurityMode, Stage,
  ArgInstruction, CacheSharing, MountType,
} from './types.js';

/**
 * Dockerfile parser following BuildKit's frontend (parser/ then instructions/): the same line joining, directive,
 * heredoc and flag rules and the same error wording. Values stay unexpanded (see expand.ts).
 */

/** A Dockerfile error with its location; the message reads `Dockerfile:3: unknown instruction: RUNN`. */
export class DockerfileError extends InvalidArgument {
  constructor(readonly file: string, readonly line: number, readonly endLine: number, readonly detail: string) {
    super(line > 0 ? `${file}:${line}: ${detail}` : `${file}: ${detail}`);
  }
}

/** Thrown inside the parser with a location attached later. */
class LocError extends Error {
  constructor(message: string, readonly start: number, readonly end: number) {
    super(message);
  }
}

type Escape = '\\' | '`';

// ---------------------------------------------------------------------------------------------------------------
// Lines, directives, continuations

const WS = /[\t\v\f\r ]+/;
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const HEREDOC_WORD = /^(\d*)<<(-?)\s*([^<]*)$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);

function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}
function trimNewline(s: string): string {
  return s.replace(/[\r\n]+$/, '');
}
function trimLeftSpace(s: string): string {
  return s.replace(/^\s+/u, '');
}
function isComment(line: string): boolean {
  return trimLeftSpace(line).startsWith('#');
}

class DirectiveParser {
  done = false;
  readonly seen: ParserDirectives = {};
  escape: Escape = '\\';

  /** Directives are `# key=value` lines before anything else; the first other line ends them. */
  feed(line: string): boolean {
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const m = DIRECTIVE.exec(trimLeftSpace(line.slice(1)));
    const key = m?.[1]?.toLowerCase();
    if (!m || !key || !KNOWN_DIRECTIVES.has(key)) {
      this.done = true;
      return false;
    }
    const k = key as keyof ParserDirectives;
    if (this.seen[k] !== undefined) throw new Error(`only one ${key} parser directive can be used`);
    const value = m[2]!;
    this.seen[k] = value;
    if (k === 'escape') {
      if (value !== '`' && value !== '\\') throw new Error(`invalid escape token '${value}' does not match \` or \\`);
      this.escape = value;
    }
    return true;
  }
}

/** Strip a trailing escape token (continuation); `\\` at the end (escaped escape) is not one. */
function trimContinuation(line: string, esc: Escape): [string, boolean] {
  const e = esc === '\\' ? '\\\\' : '`';
  const re = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  if (re.test(line)) return [line.replace(re, '$1'), false];
  return [line, true];
}

// ---------------------------------------------------------------------------------------------------------------
// Raw nodes (BuildKit's parser.Node, flattened)

interface RawNode {
  keyword: string;
  flags: string[];
  args: string[];
  json: boolean;
  original: string;
  /** ONBUILD: the wrapped instruction. */
  child?: RawNode;
  heredocs: Heredoc[];
  startLine: number;
  endLine: number;
}

/** Leading `--flag[=value]` words (quotes and escapes processed), then the rest of the line. */
function extractFlags(line: string, esc: Escape): [string, string[]] {
  const words: string[] = [];
  let word = '';
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOk = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos]! : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (/\s/.test(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return [line.slice(pos), words];
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOk || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (/\s/.test(ch)) {
        phase = 'spaces';
        if (word === '--') return [line.slice(pos), words];
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        continue;
      }
      if (ch === esc) {
        if (pos + 1 === line.length) continue;
        pos++;
        word += line[pos];
        continue;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === esc) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += line[pos];
      continue;
    }
    word += ch;
  }
  return ['', words];
}

/** Words for ENV/LABEL/ARG: split on unquoted whitespace, quotes and escapes kept for the later expansion. */
function parseWords(rest: string, esc: Escape): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOk = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? chars[pos]! : '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (/\s/u.test(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOk || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (/\s/u.test(ch)) {
        phase = 'spaces';
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
      }
      if (ch === esc) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        pos++;
        ch = chars[pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    if (ch === esc && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos]!;
    }
    word += ch;
  }
  return words;
}

const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/** JSON array of strings, undefined when the text is not a JSON array; throws for a non-string element. */
function parseJSONArray(rest: string): string[] | undefined {
  const t = trimLeftSpace(rest);
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new Error(NOT_STRINGS);
  return v as string[];
}

function whitespaceList(rest: string): string[] {
  return rest === '' ? [] : rest.split(WS);
}

function nameVal(rest: string, key: string, esc: Escape): string[] {
  const words = parseWords(rest, esc);
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) {
    const m = /^(\S+?)[\t\v\f\r ]+([\s\S]*)$/.exec(rest);
    if (!m) throw new Error(`${key} must have two arguments`);
    return [m[1]!, m[2]!, ''];
  }
  const out: string[] = [];
  for (const w of words) {
    const i = w.indexOf('=');
    if (i < 0) throw new Error(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    out.push(w.slice(0, i), w.slice(i + 1), '=');
  }
  return out;
}

function splitArgs(keyword: string, rest: string, esc: Escape): { args: string[]; json: boolean; child?: RawNode } {
  switch (keyword.toLowerCase()) {
    case 'add':
    case 'copy':
    case 'volume': {
      const j = parseJSONArray(rest);
      return j ? { args: j, json: true } : { args: whitespaceList(rest), json: false };
    }
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell': {
      if (rest === '') return { args: [], json: false };
      const j = parseJSONArray(rest);
      return j ? { args: j, json: true } : { args: [rest], json: false };
    }
    case 'arg':
      return { args: parseWords(rest, esc), json: false };
    case 'env':
      return { args: nameVal(rest, 'ENV', esc), json: false };
    case 'label':
      return { args: nameVal(rest, 'LABEL', esc), json: false };
    case 'expose':
    case 'from':
      return { args: whitespaceList(rest), json: false };
    case 'healthcheck': {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (!m) return { args: [], json: false };
      const inner = m[2]!;
      if (inner === '') return { args: [m[1]!], json: false };
      const j = parseJSONArray(inner);
      return j ? { args: [m[1]!, ...j], json: true } : { args: [m[1]!, inner], json: false };
    }
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      return { args: rest === '' ? [] : [rest], json: false };
    case 'onbuild': {
      if (rest === '') return { args: [], json: false };
      const child = rawNode(rest, esc, 0, 0);
      return { args: [child.keyword, ...child.args], json: false, child };
    }
    default:
      return { args: [], json: false };
  }
}

function rawNode(line: string, esc: Escape, start: number, end: number): RawNode {
  const trimmed = line.trim();
  const m = /^(\S+)(?:[\t\v\f\r ]+([\s\S]*))?$/.exec(trimmed);
  const keyword = m?.[1] ?? '';
  let flags: string[] = [];
  let rest = '';
  if (m?.[2] !== undefined) {
    const [r, f] = extractFlags(m[2], esc);
    rest = r.trim();
    flags = f;
  }
  const { args, json, child } = splitArgs(keyword, rest, esc);
  return { keyword, flags, args, json, original: line, heredocs: [], startLine: start, endLine: end, ...(child ? { child } : {}) };
}

function canContainHeredoc(n: RawNode): boolean {
  const target = n.keyword.toLowerCase() === 'onbuild' && n.child ? n.child : n;
  return ['add', 'copy', 'run'].includes(target.keyword.toLowerCase()) && !target.json;
}

/** Parse a word like `<<EOF`, `<<-"EOF"`, `3<<EOF` as a heredoc start, or undefined. */
export function parseHeredocWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (!m || m[3] === '') return undefined;
  const rest = m[3]!;
  const env = new Map<string, string>();
  const plain = expandDetailed(rest, env, { skipUnset: true }).words;
  if (plain.length !== 1) return undefined;
  const raw = expandDetailed(rest, env, { skipUnset: true, rawQuotes: true }).words;
  // A quoted delimiter (any part) disables expansion of the body: detected by quotes vanishing when unquoting.
  const quotes = (s: string): number => (s.match(/['"]/g) ?? []).length;
  return { name: plain[0]!, chomp: m[2] === '-', expand: quotes(plain[0]!) === quotes(raw[0] ?? ''), fd: Number(m[1] || 0) };
}

function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = expandDetailed(line, new Map(), { rawQuotes: true, rawEscapes: true, skipUnset: true }).words;
  } catch {
    return [];
  }
  const out: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h) out.push(h);
  }
  return out;
}

interface RawParse {
  nodes: RawNode[];
  directives: ParserDirectives;
  escape: Escape;
  warnings: string[];
  lines: string[];
  lastLine: number;
}

function parseRaw(text: string): RawParse {
  const lines = splitLines(text.replace(/^\uFEFF/, ''));
  const dp = new DirectiveParser();
  const nodes: RawNode[] = [];
  const warnings: string[] = [];
  let i = 0;
  let current = 0;
  const processLine = (raw: string, stripLeft: boolean): string => {
    let t = trimNewline(raw);
    if (stripLeft) t = trimLeftSpace(t);
    try {
      dp.feed(t);
    } catch (err) {
      throw new LocError((err as Error).message, current + 1, 0);
    }
    return isComment(t) ? '' : t;
  };
  while (i < lines.length) {
    const first = processLine(lines[i++]!, true);
    current++;
    const start = current;
    let [buf, end] = trimContinuation(first, dp.escape);
    if (end && buf.length === 0) continue;
    let emptyContinuation = false;
    while (!end && i < lines.length) {
      const raw = lines[i++]!;
      const t = processLine(raw, false);
      current++;
      // Comment lines inside a continuation are dropped; empty ones too (with a warning, as BuildKit).
      if (isComment(raw)) continue;
      if (trimLeftSpace(trimNewline(t)).length === 0) {
        emptyContinuation = true;
        continue;
      }
      const [b, e] = trimContinuation(t, dp.escape);
      buf += b;
      end = e;
    }
    if (emptyContinuation) warnings.push(`Empty continuation line found in: ${buf}`);
    let node: RawNode;
    try {
      node = rawNode(buf, dp.escape, start, current);
    } catch (err) {
      throw new LocError((err as Error).message, start, current);
    }
    if (canContainHeredoc(node) && buf.includes('<<')) {
      for (const h of heredocsFromLine(buf)) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const raw = lines[i++]!;
          current++;
          let candidate = trimNewline(raw);
          if (h.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          content += raw;
        }
        if (!terminated) throw new LocError('unterminated heredoc', start, current);
        node.heredocs.push({ ...h, content });
      }
    }
    node.endLine = current;
    nodes.push(node);
  }
  return { nodes, directives: dp.seen, escape: dp.escape, warnings, lines, lastLine: current };
}

// ---------------------------------------------------------------------------------------------------------------
// Flags (BuildKit's BFlags)

type FlagKind = 'bool' | 'string' | 'strings';

class Flags {
  private readonly defs = new Map<string, FlagKind>();
  readonly values = new Map<string, string>();
  readonly lists = new Map<string, string[]>();
  readonly used: string[] = [];
  constructor(private readonly args: string[]) {}
  add(name: string, kind: FlagKind): this {
    this.defs.set(name, kind);
    return this;
  }
  parse(): this {
    for (const a of this.args) {
      if (a === '--') break;
      if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const flagName = eq < 0 ? a : a.slice(0, eq);
      const value = eq < 0 ? '' : a.slice(eq + 1);
      const name = flagName.slice(2);
      const kind = this.defs.get(name);
      if (!kind) throw new Error(`unknown flag: ${flagName}`);
      if (this.used.includes(name) && kind !== 'strings') throw new Error(`duplicate flag specified: ${flagName}`);
      if (!this.used.includes(name)) this.used.push(name);
      if (kind === 'bool') {
        if (eq >= 0 && value === '') throw new Error(`missing a value on flag: ${flagName}`);
        const v = value.toLowerCase();
        if (v !== '' && v !== 'true' && v !== 'false') {
          throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
        }
        this.values.set(name, v === 'false' ? 'false' : 'true');
      } else {
        if (eq < 0) throw new Error(`missing a value on flag: ${flagName}`);
        if (kind === 'string') this.values.set(name, value);
        else this.lists.set(name, [...(this.lists.get(name) ?? []), value]);
      }
    }
    return this;
  }
  str(name: string): string | undefined {
    return this.values.get(name);
  }
  bool(name: string): boolean | undefined {
    const v = this.values.get(name);
    return v === undefined ? undefined : v === 'true';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// RUN --mount

const MOUNT_TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly CacheSharing[] = ['shared', 'private', 'locked'];
const MOUNT_KEYS = new Set(['type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode',
  'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env']);

function csvFields(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let atStart = true;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && atStart) {
      quoted = true;
      atStart = false;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
      atStart = true;
    } else {
      cur += c;
      atStart = false;
    }
  }
  if (quoted) throw new Error('failed to parse csv mounts: extraneous or missing " in quoted-field');
  out.push(cur);
  return out;
}

function goParseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

function parseUint(v: string, radix: 8 | 10, max: number): number | undefined {
  const re = radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!re.test(v)) return undefined;
  const n = parseInt(v, radix);
  return n <= max ? n : undefined;
}

/**
 * Parse one `--mount` value. With `expand` (the step's variable expansion), every value is expanded and
 * validated; with null, only `from` is checked (it cannot use variables), as BuildKit does at parse time.
 */
export function parseRunMount(spec: string, expand: ((s: string) => string) | null): RunMount {
  const m: RunMount = { type: 'bind', from: '', source: '', target: '', readOnly: true, sizeLimit: 0, id: '', sharing: '', required: false };
  let roAuto = true;
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    let value = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (expand === null) continue;
      if (key === 'readonly' || key === 'ro') { m.readOnly = true; roAuto = false; continue; }
      if (key === 'readwrite' || key === 'rw') { m.readOnly = false; roAuto = false; continue; }
      if (key === 'required') {
        if (m.type === 'secret' || m.type === 'ssh') { m.required = true; continue; }
        throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
      }
      throw new Error(`invalid field '${field}' must be a key=value pair`);
    }
    if (expand) value = expand(value);
    else if (key === 'from') {
      const i = value.indexOf('$');
      if (i !== -1 && i !== value.length - 1) {
        throw new Error(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    } else continue;
    const bad = (): Error => new Error(`invalid value for ${key}: ${value}`);
    switch (key) {
      case 'type': {
        const t = value.toLowerCase() as MountType;
        if (!MOUNT_TYPES.includes(t)) throw new Error(`unsupported mount type ${JSON.stringify(value)}`);
        m.type = t;
        break;
      }
      case 'from': m.from = value; break;
      case 'source': case 'src': m.source = value; break;
      case 'target': case 'dst': case 'destination': m.target = value; break;
      case 'readonly': case 'ro': case 'readwrite': case 'rw': {
        const b = goParseBool(value);
        if (b === undefined) throw bad();
        m.readOnly = key === 'readonly' || key === 'ro' ? b : !b;
        roAuto = false;
        break;
      }
      case 'required': {
        if (m.type !== 'secret' && m.type !== 'ssh') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        const b = goParseBool(value);
        if (b === undefined) throw bad();
        m.required = b;
        break;
      }
      case 'size': {
        if (m.type !== 'tmpfs') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        const n = ramInBytes(value);
        if (n === undefined) throw bad();
        m.sizeLimit = n;
        break;
      }
      case 'id': m.id = value; break;
      case 'sharing': {
        const s = value.toLowerCase() as CacheSharing;
        if (!SHARING.includes(s)) throw new Error(`unsupported sharing value ${JSON.stringify(value)}`);
        m.sharing = s;
        break;
      }
      case 'mode': case 'uid': case 'gid': {
        const n = parseUint(value, key === 'mode' ? 8 : 10, 0xffffffff);
        if (n === undefined) throw new Error(`invalid value ${value} for ${key}`);
        m[key] = n;
        break;
      }
      case 'env': m.env = value; break;
      default:
        if (!MOUNT_KEYS.has(key)) throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (m.type !== 'secret' && m.type !== 'ssh' && m.type !== 'cache') {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new Error(`${k} not allowed for ${JSON.stringify(m.type)} type mounts`);
    }
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.type === 'secret') {
    if (m.from !== '') throw new Error('secret mount should not have a from');
    if (m.sharing !== '') throw new Error('secret mount should not define sharing');
    if (m.source === '' && m.target === '' && m.id === '') throw new Error('invalid secret mount. one of source, target required');
    if (m.source !== '' && m.id !== '') throw new Error("both source and id can't be set");
  }
  if (m.sharing !== '' && m.type !== 'cache') throw new Error(`invalid cache sharing set for ${m.type} mount`);
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// Durations (Go time.ParseDuration), for HEALTHCHECK

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(s: string): number {
  const fail = (): Error => new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw fail();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) {
      if (/^[\d.]+$/.test(rest)) throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
      throw fail();
    }
    total += Number(`${m[1] || '0'}.${m[2] ?? '0'}`) * UNITS[m[3]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

// ---------------------------------------------------------------------------------------------------------------
// Typed instructions

function base(n: RawNode, lines: string[]): NodeBase {
  return {
    keyword: n.keyword,
    original: n.original.trim(),
    source: lines.slice(n.startLine - 1, n.endLine).join(''),
    startLine: n.startLine,
    endLine: n.endLine,
  };
}

function commandLine(n: RawNode): CommandLine {
  return n.json ? { form: 'exec', args: n.args } : { form: 'shell', command: n.args.join(' ') };
}

function exactlyOne(n: RawNode, name: string): string {
  if (n.args.length !== 1) throw new Error(`${name} requires exactly one argument`);
  return n.args[0]!;
}

function atLeastOne(n: RawNode, name: string): void {
  if (n.args.length === 0) throw new Error(`${name} requires at least one argument`);
}

function keyValues(n: RawNode, name: string): KeyValue[] {
  atLeastOne(n, name);
  const out: KeyValue[] = [];
  for (let i = 0; i < n.args.length; i += 3) {
    if (n.args[i] === '') throw new Error(`${name} names can not be blank`);
    out.push({ key: n.args[i]!, value: n.args[i + 1]!, legacy: n.args[i + 2] === '' });
  }
  return out;
}

function chompHeredoc(s: string): string {
  return s.replace(/^\t+/gm, '');
}

/** How BuildKit runs a RUN whose shell form uses heredocs. */
function runScript(command: string, heredocs: Heredoc[]): RunScript {
  const single = parseHeredocWord(command);
  if (single && heredocs.length > 0) {
    const h = heredocs[0]!;
    const data = h.chomp ? chompHeredoc(h.content) : h.content;
    if (data.startsWith('#!')) {
      const path = `/dev/pipes/${h.name}`;
      return { kind: 'file', dir: '/dev/pipes/', name: h.name, path, content: data, mode: 0o755, shellCommand: path };
    }
    return { kind: 'shell', shellCommand: data };
  }
  // Reconstitute the heredocs after the command and let the shell (sh supports heredocs) handle them.
  let cmd = command;
  for (const h of heredocs) cmd += '\n' + h.content + h.name;
  return { kind: 'shell', shellCommand: cmd };
}

function parseCopy(n: RawNode, b: NodeBase): CopyInstruction {
  const isAdd = n.keyword.toUpperCase() === 'ADD';
  const name = isAdd ? 'ADD' : 'COPY';
  if (n.args.length < 2) {
    throw new Error(`${name} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  const f = new Flags(n.flags).add('chown', 'string').add('chmod', 'string').add('link', 'bool').add('exclude', 'strings');
  if (isAdd) f.add('keep-git-dir', 'bool').add('checksum', 'string').add('unpack', 'bool');
  else f.add('from', 'string').add('parents', 'bool');
  f.parse();
  // Parsed (they are valid Dockerfile syntax) but not carried out by this builder: refused, never ignored.
  if (f.bool('parents')) throw new Error(`${name} --parents is not supported by this builder`);
  if ((f.lists.get('exclude') ?? []).length > 0) throw new Error(`${name} --exclude is not supported by this builder`);
  if (isAdd && f.str('checksum') && !n.args.slice(0, -1).some((a) => /^https?:\/\//i.test(a))) {
    throw new Error('checksum can\'t be specified for non-HTTP(S) sources');
  }
  const dest = n.args[n.args.length - 1]!;
  if (parseHeredocWord(dest)) throw new Error(`${name} cannot accept a heredoc as a destination`);
  const byName = new Map(n.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const inlineSources: CopyInstruction['inlineSources'] = [];
  for (const src of n.args.slice(0, -1)) {
    const h = parseHeredocWord(src);
    if (h) {
      const content = byName.get(h.name)?.content ?? '';
      inlineSources.push({ path: h.name, data: h.chomp ? chompHeredoc(content) : content, expand: h.expand });
    } else sources.push(src);
  }
  const out: CopyInstruction = {
    ...b, kind: name, sources, inlineSources, dest, json: n.json, link: f.bool('link') ?? false,
    parents: f.bool('parents') ?? false, excludes: f.lists.get('exclude') ?? [], heredocs: n.heredocs,
  };
  const from = f.str('from');
  if (from !== undefined && from !== '') out.from = from;
  const chown = f.str('chown');
  if (chown) out.chown = chown;
  const chmod = f.str('chmod');
  if (chmod) out.chmod = chmod;
  if (isAdd) {
    const keep = f.bool('keep-git-dir');
    if (keep !== undefined) out.keepGitDir = keep;
    const checksum = f.str('checksum');
    if (checksum) out.checksum = checksum;
    const unpack = f.bool('unpack');
    if (unpack !== undefined) out.unpack = unpack;
  }
  return out;
}

function parseRun(n: RawNode, b: NodeBase): RunInstruction {
  const f = new Flags(n.flags).add('mount', 'strings').add('network', 'string').add('security', 'string').add('device', 'strings').parse();
  const network = f.str('network') ?? 'default';
  if (!['default', 'none', 'host'].includes(network)) throw new Error(`invalid network mode ${JSON.stringify(network)}`);
  const security = f.str('security') ?? 'sandbox';
  if (!['sandbox', 'insecure'].includes(security)) throw new Error(`security ${JSON.stringify(security)} is not valid`);
  const mountSpecs = f.lists.get('mount') ?? [];
  const mounts = mountSpecs.map((spec) => {
    const needsExpansion = spec.includes('$');
    return { ...parseRunMount(spec, needsExpansion ? null : (s) => s), needsExpansion };
  });
  const command = commandLine(n);
  const out: RunInstruction = {
    ...b, kind: 'RUN', command, mountSpecs, mounts, network: network as NetworkMode, security: security as SecurityMode,
    heredocs: n.heredocs, flagsUsed: f.used,
  };
  if (n.heredocs.length > 0 && command.form === 'shell') out.script = runScript(command.command, n.heredocs);
  return out;
}

function parseHealthcheck(n: RawNode, b: NodeBase): Instruction {
  atLeastOne(n, 'HEALTHCHECK');
  const typ = n.args[0]!.toUpperCase();
  const args = n.args.slice(1);
  const health: HealthcheckSpec = { test: [], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  if (typ === 'NONE') {
    if (args.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    health.test = ['NONE'];
    return { ...b, kind: 'HEALTHCHECK', health };
  }
  const f = new Flags(n.flags).add('interval', 'string').add('timeout', 'string').add('start-period', 'string')
    .add('start-interval', 'string').add('retries', 'string').parse();
  if (typ !== 'CMD') throw new Error(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = n.json ? args : args.length ? [args.join(' ')] : [];
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  health.test = [n.json ? 'CMD' : 'CMD-SHELL', ...cmd];
  const interval = (flag: string): number => {
    const v = f.str(flag) ?? '';
    if (v === '') return 0;
    const d = parseGoDuration(v);
    if (d === 0) return 0;
    if (d < 1e6) throw new Error(`Interval ${JSON.stringify(flag)} cannot be less than 1ms`);
    return d;
  };
  health.interval = interval('interval');
  health.timeout = interval('timeout');
  health.startPeriod = interval('start-period');
  health.startInterval = interval('start-interval');
  const retries = f.str('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) {
      throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    }
    const r = Number(retries);
    if (r < 0) throw new Error(`--retries cannot be negative (${r})`);
    health.retries = r;
  }
  return { ...b, kind: 'HEALTHCHECK', health };
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function parseFrom(n: RawNode, b: NodeBase): FromInstruction {
  let stageName: string | undefined;
  if (n.args.length === 3 && n.args[1]!.toLowerCase() === 'as') {
    stageName = n.args[2]!.toLowerCase();
    if (!STAGE_NAME.test(stageName)) {
      throw new Error(`invalid name for build stage: ${JSON.stringify(n.args[2])}, name can't start with a number or contain symbols`);
    }
  } else if (n.args.length !== 1) {
    throw new Error('FROM requires either one or three arguments');
  }
  const f = new Flags(n.flags).add('platform', 'string').parse();
  const out: FromInstruction = { ...b, kind: 'FROM', image: n.args[0]! };
  if (stageName) out.stageName = stageName;
  const platform = f.str('platform');
  if (platform) out.platform = platform;
  return out;
}

function parseArg(n: RawNode, b: NodeBase): ArgInstruction {
  atLeastOne(n, 'ARG');
  new Flags(n.flags).parse();
  const args: ArgDefinition[] = n.args.map((a) => {
    const i = a.indexOf('=');
    if (i < 0) return { name: a };
    if (i === 0) throw new Error('ARG names can not be blank');
    return { name: a.slice(0, i), defaultValue: a.slice(i + 1) };
  });
  return { ...b, kind: 'ARG', args };
}

function typed(n: RawNode, lines: string[]): Instruction {
  const b = base(n, lines);
  const noFlags = (): void => void new Flags(n.flags).parse();
  switch (n.keyword.toLowerCase()) {
    case 'from': return parseFrom(n, b);
    case 'run': return parseRun(n, b);
    case 'cmd': noFlags(); return { ...b, kind: 'CMD', command: commandLine(n) };
    case 'entrypoint': noFlags(); return { ...b, kind: 'ENTRYPOINT', command: commandLine(n) };
    case 'shell': {
      noFlags();
      if (n.args.length === 0) throw new Error('SHELL requires at least one argument');
      if (!n.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { ...b, kind: 'SHELL', shell: n.args };
    }
    case 'copy':
    case 'add': return parseCopy(n, b);
    case 'env': noFlags(); return { ...b, kind: 'ENV', pairs: keyValues(n, 'ENV') };
    case 'label': noFlags(); return { ...b, kind: 'LABEL', pairs: keyValues(n, 'LABEL') };
    case 'arg': return parseArg(n, b);
    case 'workdir': { const path = exactlyOne(n, 'WORKDIR'); noFlags(); return { ...b, kind: 'WORKDIR', path }; }
    case 'user': { const user = exactlyOne(n, 'USER'); noFlags(); return { ...b, kind: 'USER', user }; }
    case 'maintainer': { const maintainer = exactlyOne(n, 'MAINTAINER'); noFlags(); return { ...b, kind: 'MAINTAINER', maintainer }; }
    case 'stopsignal': return { ...b, kind: 'STOPSIGNAL', signal: exactlyOne(n, 'STOPSIGNAL') };
    case 'expose': {
      atLeastOne(n, 'EXPOSE');
      noFlags();
      return { ...b, kind: 'EXPOSE', ports: [...n.args].sort() };
    }
    case 'volume': {
      atLeastOne(n, 'VOLUME');
      noFlags();
      const volumes = n.args.map((v) => {
        const t = v.trim();
        if (t === '') throw new Error('VOLUME specified can not be an empty string');
        return t;
      });
      return { ...b, kind: 'VOLUME', volumes };
    }
    case 'healthcheck': return parseHealthcheck(n, b);
    case 'onbuild': {
      atLeastOne(n, 'ONBUILD');
      noFlags();
      const inner = n.child!;
      const trig = inner.keyword.toUpperCase();
      if (trig === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trig === 'MAINTAINER' || trig === 'FROM') throw new Error(`${trig} isn't allowed as an ONBUILD trigger`);
      let expression = n.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of n.heredocs) expression += '\n' + h.content + h.name;
      const child: RawNode = { ...inner, heredocs: n.heredocs, startLine: n.startLine, endLine: n.endLine };
      const trigger = typed(child, lines);
      return { ...b, kind: 'ONBUILD', expression, trigger };
    }
    default:
      throw new Error(`unknown instruction: ${n.keyword}`);
  }
}

export interface ParseOptions {
  /** Name used in error messages; default `Dockerfile`. */
  filename?: string;
}

/** Parse a Dockerfile into typed stages. Throws DockerfileError (an InvalidArgument) naming file and line. */
export function parseDockerfile(text: string, opts: ParseOptions = {}): Dockerfile {
  const file = opts.filename ?? 'Dockerfile';
  if (text.length === 0) throw new InvalidArgument(`the Dockerfile (${file}) cannot be empty`);
  let raw: RawParse;
  try {
    raw = parseRaw(text);
  } catch (err) {
    if (err instanceof LocError) throw new DockerfileError(file, err.start, Math.max(err.start, err.end), err.message);
    throw err;
  }
  if (raw.nodes.length === 0) throw new DockerfileError(file, raw.lastLine, raw.lastLine, 'file with no instructions');
  const instructions: Instruction[] = [];
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const n of raw.nodes) {
    let ins: Instruction;
    try {
      ins = typed(n, raw.lines);
    } catch (err) {
      const msg = err instanceof InvalidArgument || err instanceof Error ? err.message : String(err);
      throw new DockerfileError(file, n.startLine, n.endLine, msg);
    }
    instructions.push(ins);
    if (ins.kind === 'FROM') {
      const st: Stage = { index: stages.length, from: ins, instructions: [] };
      if (ins.stageName) st.name = ins.stageName;
      stages.push(st);
    } else if (stages.length === 0) {
      if (ins.kind !== 'ARG') throw new DockerfileError(file, n.startLine, n.endLine, 'no build stage in current context');
      metaArgs.push(ins);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { filename: file, escapeToken: raw.escape, directives: raw.directives, metaArgs, stages, instructions, warnings: raw.warnings };
}
