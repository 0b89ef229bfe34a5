/**
 * The part of Go's text/template that docker `--format` users write, with the docker CLI's function set
 * (json, split, join, title, lower, upper, pad, truncate) plus Go's builtins (printf, print, println, len, index,
 * and, or, not, eq, ne, lt, le, gt, ge). Values are printed as Go's fmt %v would print them.
 *
 * Plain objects are treated like Go maps: a missing key prints `<no value>` rather than failing the way a missing
 * struct field does in Docker, because we cannot tell which of our objects stand for structs.
 */
import { InvalidArgument } from '../../lib/errors.js';
import { formatExp, formatFixed, formatG } from './units.js';

// ---------------------------------------------------------------------------------------------------------------
// Lexer

type Tok =
  | { k: 'field'; v: string }
  | { k: 'dot' }
  | { k: 'var'; v: string }
  | { k: 'ident'; v: string }
  | { k: 'string'; v: string }
  | { k: 'number'; v: number }
  | { k: 'bool'; v: boolean }
  | { k: 'nil' }
  | { k: 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'space' };

interface Segment {
  kind: 'text' | 'action';
  text: string;
  toks: Tok[];
  line: number;
  col: number;
}

class TemplateSyntaxError extends Error {}

const SPACE = new Set([' ', '\t', '\r', '\n']);
const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;

function unquoteGo(body: string, where: () => string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c !== '\\') { out += c; continue; }
    const n = body[++i] ?? '';
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };
    const mapped = simple[n];
    if (mapped !== undefined) { out += mapped; continue; }
    const hexLen = n === 'x' ? 2 : n === 'u' ? 4 : n === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const hex = body.slice(i + 1, i + 1 + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) throw new TemplateSyntaxError(`${where()}: invalid syntax`);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += hexLen;
      continue;
    }
    if (/[0-7]/.test(n)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new TemplateSyntaxError(`${where()}: invalid syntax`);
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
      continue;
    }
    throw new TemplateSyntaxError(`${where()}: invalid syntax`);
  }
  return out;
}

function lex(src: string): Segment[] {
  const segs: Segment[] = [];
  let pos = 0;
  let trimNext = false;
  const lineCol = (p: number): [number, number] => {
    const before = src.slice(0, p);
    const line = before.split('\n').length;
    return [line, p - before.lastIndexOf('\n')];
  };
  while (pos <= src.length) {
    const open = src.indexOf('{{', pos);
    let text = src.slice(pos, open === -1 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open === -1) {
      if (text !== '') segs.push({ kind: 'text', text, toks: [], line: 0, col: 0 });
      break;
    }
    let p = open + 2;
    // "{{- " trims the whitespace before the action; the space is required so "{{-3}}" stays a number.
    if (src[p] === '-' && SPACE.has(src[p + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      p += 2;
    }
    if (text !== '') segs.push({ kind: 'text', text, toks: [], line: 0, col: 0 });
    const [line, col] = lineCol(open);
    const where = (): string => `template: :${line}`;

    // Comments: {{/* ... */}} with optional trim markers around them.
    let q = p;
    while (SPACE.has(src[q] ?? '')) q++;
    if (src.startsWith('/*', q)) {
      const end = src.indexOf('*/', q + 2);
      if (end === -1) throw new TemplateSyntaxError(`${where()}: unclosed comment`);
      let r = end + 2;
      if (src.startsWith(' -}}', r) || src.startsWith('\t-}}', r) || src.startsWith('\n-}}', r)) {
        trimNext = true; r += 4;
      } else if (src.startsWith('}}', r)) {
        r += 2;
      } else {
        throw new TemplateSyntaxError(`${where()}: comment ends before closing delimiter`);
      }
      pos = r;
      continue;
    }

    const toks: Tok[] = [];
    let closed = false;
    while (p < src.length) {
      const c = src[p] ?? '';
      if (SPACE.has(c)) {
        let e = p;
        while (SPACE.has(src[e] ?? '')) e++;
        if (src.startsWith('-}}', e)) { trimNext = true; p = e + 3; closed = true; break; }
        if (src.startsWith('}}', e)) { p = e + 2; closed = true; break; }
        toks.push({ k: 'space' });
        p = e;
        continue;
      }
      if (src.startsWith('}}', p)) { p += 2; closed = true; break; }
      if (c === '|') { toks.push({ k: 'pipe' }); p++; continue; }
      if (c === '(') { toks.push({ k: 'lparen' }); p++; continue; }
      if (c === ')') { toks.push({ k: 'rparen' }); p++; continue; }
      if (c === ',') { toks.push({ k: 'comma' }); p++; continue; }
      if (c === ':' && src[p + 1] === '=') { toks.push({ k: 'declare' }); p += 2; continue; }
      if (c === '=') { toks.push({ k: 'assign' }); p++; continue; }
      if (c === '"') {
        let e = p + 1;
        while (e < src.length && src[e] !== '"') {
          if (src[e] === '\\') e++;
          if (src[e] === '\n') throw new TemplateSyntaxError(`${where()}: unterminated quoted string`);
          e++;
        }
        if (e >= src.length) throw new TemplateSyntaxError(`${where()}: unterminated quoted string`);
        toks.push({ k: 'string', v: unquoteGo(src.slice(p + 1, e), where) });
        p = e + 1;
        continue;
      }
      if (c === '`') {
        const e = src.indexOf('`', p + 1);
        if (e === -1) throw new TemplateSyntaxError(`${where()}: unterminated raw quoted string`);
        toks.push({ k: 'string', v: src.slice(p + 1, e) });
        p = e + 1;
        continue;
      }
      if (c === "'") {
        const m = /^'(\\.[^']*|[^'\\])'/u.exec(src.slice(p));
        if (m === null) throw new TemplateSyntaxError(`${where()}: unterminated character constant`);
        const ch = unquoteGo(m[1] ?? '', where);
        toks.push({ k: 'number', v: ch.codePointAt(0) ?? 0 });
        p += m[0].length;
        continue;
      }
      const next = src[p + 1] ?? '';
      const numStart = /[0-9]/.test(c) || ((c === '+' || c === '-') && /[0-9.]/.test(next)) || (c === '.' && /[0-9]/.test(next));
      const num = numStart ? /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)/.exec(src.slice(p)) : null;
      if (numStart && num === null) throw new TemplateSyntaxError(`${where()}: bad number syntax`);
      if (num !== null) {
        const text = num[0].replace(/_/g, '');
        const v = /^[+-]?0[bBoO]/.test(text)
          ? (text.startsWith('-') ? -1 : 1) * parseInt(text.replace(/^[+-]?0[bBoO]/, ''), /[bB]/.test(text.slice(0, 3)) ? 2 : 8)
          : Number(text);
        if (Number.isNaN(v)) throw new TemplateSyntaxError(`${where()}: bad number syntax: "${num[0]}"`);
        toks.push({ k: 'number', v });
        p += num[0].length;
        continue;
      }
      if (c === '.') {
        let e = p + 1;
        if (IDENT_START.test(src[e] ?? '')) {
          while (IDENT_CHAR.test(src[e] ?? '')) e++;
          toks.push({ k: 'field', v: src.slice(p + 1, e) });
        } else {
          toks.push({ k: 'dot' });
        }
        p = e;
        continue;
      }
      if (c === '$') {
        let e = p + 1;
        while (IDENT_CHAR.test(src[e] ?? '')) e++;
        toks.push({ k: 'var', v: src.slice(p, e) });
        p = e;
        continue;
      }
      if (IDENT_START.test(c)) {
        let e = p;
        while (IDENT_CHAR.test(src[e] ?? '')) e++;
        const word = src.slice(p, e);
        if (word === 'true' || word === 'false') toks.push({ k: 'bool', v: word === 'true' });
        else if (word === 'nil') toks.push({ k: 'nil' });
        else toks.push({ k: 'ident', v: word });
        p = e;
        continue;
      }
      throw new TemplateSyntaxError(`${where()}: unexpected ${JSON.stringify(c)} in command`);
    }
    if (!closed) throw new TemplateSyntaxError(`${where()}: unclosed action`);
    segs.push({ kind: 'action', text: src.slice(open, p), toks, line, col });
    pos = p;
  }
  return segs;
}

// ---------------------------------------------------------------------------------------------------------------
// Parser

type Operand =
  | { t: 'field'; base: 'dot' | 'var'; name: string; chain: string[] }
  | { t: 'ident'; name: string }
  | { t: 'lit'; v: unknown }
  | { t: 'pipe'; pipe: Pipe; chain: string[] };
interface Pipe { decl: string[]; assign: boolean; cmds: Operand[][] }
type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipe; at: string }
  | ControlNode
  | { t: 'break' | 'continue' };
interface ControlNode { t: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; elseList: Node[] | undefined; at: string }

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);

class Parser {
  private i = 0;
  private toks: Tok[] = [];
  private where = '';
  private loopDepth = 0;
  constructor(private readonly segs: Segment[], private readonly funcs: ReadonlySet<string>) {}

  parse(): Node[] {
    const { list, stop } = this.list();
    if (stop !== undefined) throw new TemplateSyntaxError(`${stop.where}: unexpected {{${stop.word}}}`);
    return list;
  }

  private pos = 0;
  /** Parse nodes until {{end}} / {{else}} or the end of input; reports which stopped it. */
  private list(): { list: Node[]; stop: { word: 'end' | 'else'; rest: Tok[]; where: string } | undefined } {
    const list: Node[] = [];
    while (this.pos < this.segs.length) {
      const seg = this.segs[this.pos++] as Segment;
      if (seg.kind === 'text') { list.push({ t: 'text', text: seg.text }); continue; }
      this.toks = seg.toks;
      this.i = 0;
      this.where = `template: :${seg.line}`;
      const at = `template: :${seg.line}:${seg.col}: executing "" at <${seg.text.replace(/^\{\{-?\s*|\s*-?\}\}$/g, '')}>`;
      this.skipSpace();
      const first = this.toks[this.i];
      if (first?.k === 'ident' && KEYWORDS.has(first.v)) {
        this.i++;
        const word = first.v;
        if (word === 'end' || word === 'else') {
          if (word === 'end') { this.skipSpace(); this.expectEnd(); }
          return { list, stop: { word, rest: this.toks.slice(this.i), where: this.where } };
        }
        if (word === 'if' || word === 'with' || word === 'range') { list.push(this.control(word, at)); continue; }
        if (word === 'break' || word === 'continue') {
          if (this.loopDepth === 0) throw new TemplateSyntaxError(`${this.where}: {{${word}}} outside {{range}}`);
          this.skipSpace();
          this.expectEnd();
          list.push({ t: word });
          continue;
        }
        throw new TemplateSyntaxError(`${this.where}: {{${word}}} is not supported`);
      }
      const pipe = this.pipeline(true);
      this.expectEnd();
      list.push({ t: 'action', pipe, at });
    }
    return { list, stop: undefined };
  }

  private control(word: 'if' | 'with' | 'range', at: string): Node {
    const pipe = this.pipeline(true, word === 'range');
    if (pipe.cmds.length === 0) throw new TemplateSyntaxError(`${this.where}: missing value for ${word}`);
    this.expectEnd();
    if (word === 'range') this.loopDepth++;
    const body = this.list();
    if (word === 'range') this.loopDepth--;
    if (body.stop === undefined) throw new TemplateSyntaxError(`${this.where}: unexpected EOF`);
    let elseList: Node[] | undefined;
    if (body.stop.word === 'else') {
      const rest = body.stop.rest.filter((t) => t.k !== 'space');
      const chained = rest[0];
      if (chained?.k === 'ident' && (chained.v === 'if' || chained.v === 'with')) {
        // {{else if ...}} is {{else}}{{if ...}}...{{end}}, sharing the outer {{end}}.
        this.toks = body.stop.rest;
        this.i = 0;
        this.skipSpace();
        this.i++;
        elseList = [this.control(chained.v, at)];
      } else {
        if (rest.length > 0) throw new TemplateSyntaxError(`${this.where}: unexpected tokens after else`);
        const e = this.list();
        if (e.stop === undefined) throw new TemplateSyntaxError(`${this.where}: unexpected EOF`);
        if (e.stop.word !== 'end') throw new TemplateSyntaxError(`${this.where}: expected end; found {{else}}`);
        elseList = e.list;
      }
    }
    return { t: word, pipe, list: body.list, elseList, at };
  }

  private skipSpace(): void {
    while (this.toks[this.i]?.k === 'space') this.i++;
  }

  private expectEnd(): void {
    this.skipSpace();
    const t = this.toks[this.i];
    if (t !== undefined) throw new TemplateSyntaxError(`${this.where}: unexpected ${describe(t)} in command`);
  }

  private pipeline(top: boolean, allowTwoVars = false): Pipe {
    const pipe: Pipe = { decl: [], assign: false, cmds: [] };
    this.skipSpace();
    // Declarations: "$x :=", "$x =", "$i, $e :=" (the last only in range).
    const save = this.i;
    const vars: string[] = [];
    for (;;) {
      const v = this.toks[this.i];
      if (v?.k !== 'var') break;
      this.i++;
      this.skipSpace();
      const op = this.toks[this.i];
      if (op?.k === 'declare' || op?.k === 'assign') {
        vars.push(v.v);
        this.i++;
        pipe.decl = vars;
        pipe.assign = op.k === 'assign';
        break;
      }
      if (op?.k === 'comma' && allowTwoVars && vars.length === 0) {
        vars.push(v.v);
        this.i++;
        this.skipSpace();
        continue;
      }
      break;
    }
    if (pipe.decl.length === 0) this.i = save;
    for (;;) {
      this.skipSpace();
      const t = this.toks[this.i];
      if (t === undefined || t.k === 'rparen') break;
      pipe.cmds.push(this.command());
      this.skipSpace();
      const n = this.toks[this.i];
      if (n?.k === 'pipe') {
        this.i++;
        this.skipSpace();
        const after = this.toks[this.i];
        if (after === undefined || after.k === 'rparen') throw new TemplateSyntaxError(`${this.where}: missing command after |`);
        continue;
      }
      break;
    }
    if (top && pipe.cmds.length === 0 && pipe.decl.length === 0) throw new TemplateSyntaxError(`${this.where}: missing value for command`);
    if (pipe.decl.length > 0 && pipe.cmds.length === 0) throw new TemplateSyntaxError(`${this.where}: missing value for declaration`);
    return pipe;
  }

  private command(): Operand[] {
    const ops: Operand[] = [];
    for (;;) {
      this.skipSpace();
      const t = this.toks[this.i];
      if (t === undefined || t.k === 'pipe' || t.k === 'rparen') break;
      ops.push(this.operand());
      const n = this.toks[this.i];
      if (n !== undefined && n.k !== 'space' && n.k !== 'pipe' && n.k !== 'rparen') {
        throw new TemplateSyntaxError(`${this.where}: unexpected ${describe(n)} in operand`);
      }
    }
    return ops;
  }

  private chain(): string[] {
    const out: string[] = [];
    for (let t = this.toks[this.i]; t?.k === 'field'; t = this.toks[this.i]) { out.push(t.v); this.i++; }
    return out;
  }

  private operand(): Operand {
    const t = this.toks[this.i++] as Tok;
    switch (t.k) {
      case 'dot': {
        const c = this.chain();
        if (c.length > 0) throw new TemplateSyntaxError(`${this.where}: unexpected . after term "."`);
        return { t: 'field', base: 'dot', name: '', chain: [] };
      }
      case 'field': return { t: 'field', base: 'dot', name: '', chain: [t.v, ...this.chain()] };
      case 'var': return { t: 'field', base: 'var', name: t.v, chain: this.chain() };
      case 'string': return { t: 'lit', v: t.v };
      case 'number': return { t: 'lit', v: t.v };
      case 'bool': return { t: 'lit', v: t.v };
      case 'nil': return { t: 'lit', v: null };
      case 'ident':
        if (KEYWORDS.has(t.v)) throw new TemplateSyntaxError(`${this.where}: unexpected <${t.v}> in command`);
        if (!this.funcs.has(t.v)) throw new TemplateSyntaxError(`${this.where}: function "${t.v}" not defined`);
        return { t: 'ident', name: t.v };
      case 'lparen': {
        const pipe = this.pipeline(false);
        if (this.toks[this.i]?.k !== 'rparen') throw new TemplateSyntaxError(`${this.where}: unclosed left paren`);
        this.i++;
        if (pipe.cmds.length === 0) throw new TemplateSyntaxError(`${this.where}: missing value for parenthesized pipeline`);
        return { t: 'pipe', pipe, chain: this.chain() };
      }
      default:
        throw new TemplateSyntaxError(`${this.where}: unexpected ${describe(t)} in operand`);
    }
  }
}

function describe(t: Tok): string {
  switch (t.k) {
    case 'pipe': return '"|"';
    case 'lparen': return '"("';
    case 'rparen': return '")"';
    case 'declare': return '":="';
    case 'assign': return '"="';
    case 'comma': return '","';
    case 'field': return `<.${t.v}>`;
    case 'var': return `<${t.v}>`;
    case 'ident': return `<${t.v}>`;
    case 'string': return JSON.stringify(t.v);
    case 'number': return String(t.v);
    case 'bool': return String(t.v);
    default: return t.k;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Values printed the Go way

/** Go's %v of a number: integers as Go ints print in full, other values as float64 (`1.2345675e+06`, `1e-05`). */
function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return Object.is(n, -0) ? '0' : BigInt(n).toString();
  return formatG(n);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Map);
}

/** Go's fmt %v. undefined stands for Go's invalid value (`<no value>`), null for nil (`<nil>`). */
export function formatValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x)).join(' ')}]`;
  if (v instanceof Map) {
    const keys = [...v.keys()].sort();
    return `map[${keys.map((k) => `${formatValue(k)}:${formatValue(v.get(k))}`).join(' ')}]`;
  }
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    const rec = v as Record<string, unknown>;
    return `map[${keys.map((k) => `${k}:${formatValue(rec[k])}`).join(' ')}]`;
  }
  return String(v);
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep(v[k]);
    return out;
  }
  return v;
}

/** Go's json.Encoder with SetEscapeHTML(false), as docker's `json` function; Go also escapes U+2028/U+2029. */
export function goJson(v: unknown, sortKeys = false): string {
  const s = JSON.stringify(sortKeys ? sortKeysDeep(v) : v);
  return (s ?? 'null').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function typeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'object') return 'map[string]interface {}';
  return typeof v;
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// printf (Go fmt subset)

function pad(s: string, width: number | undefined, left: boolean, zero: boolean): string {
  if (width === undefined || s.length >= width) return s;
  if (left) return s.padEnd(width, ' ');
  if (zero) {
    const sign = /^[+-]/.test(s) ? (s[0] ?? '') : '';
    return sign + s.slice(sign.length).padStart(width - sign.length, '0');
  }
  return s.padStart(width, ' ');
}

/** Go's fmt.Sprintf for the verbs templates use: v s q d x X o b c f F e E g G t T and %%. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let ai = 0;
  const re = /%([-+# 0]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    out += format.slice(last, m.index);
    last = m.index + m[0].length;
    const [, flags = '', w, prec, verb = ''] = m;
    if (verb === '%') { out += '%'; continue; }
    if (ai >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    const a = args[ai++];
    const width = w === undefined ? undefined : Number(w);
    const p = prec === undefined ? undefined : prec === '' ? 0 : Number(prec);
    const left = flags.includes('-');
    const zero = flags.includes('0') && !left;
    const plus = flags.includes('+');
    const bad = (): string => `%!${verb}(${typeName(a)}=${formatValue(a)})`;
    let s: string;
    switch (verb) {
      case 'v': s = formatValue(a); break;
      case 's':
        s = formatValue(a);
        if (p !== undefined) s = Array.from(s).slice(0, p).join('');
        break;
      case 'q':
        if (typeof a !== 'string') { s = bad(); break; }
        s = JSON.stringify(a);
        break;
      case 't': s = typeof a === 'boolean' ? String(a) : bad(); break;
      case 'T': s = typeName(a); break;
      case 'd': case 'x': case 'X': case 'o': case 'b': case 'c': {
        if (typeof a === 'string' && (verb === 'x' || verb === 'X')) {
          s = Buffer.from(a, 'utf8').toString('hex');
          if (verb === 'X') s = s.toUpperCase();
          break;
        }
        if (typeof a !== 'number' || !Number.isInteger(a)) { s = bad(); break; }
        if (verb === 'c') { s = String.fromCodePoint(a); break; }
        const radix = verb === 'd' ? 10 : verb === 'o' ? 8 : verb === 'b' ? 2 : 16;
        s = Math.abs(a).toString(radix);
        if (verb === 'X') s = s.toUpperCase();
        if (flags.includes('#') && verb !== 'd') s = (verb === 'o' ? '0' : verb === 'b' ? '0b' : verb === 'X' ? '0X' : '0x') + s;
        s = (a < 0 ? '-' : plus ? '+' : '') + s;
        break;
      }
      case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
        if (typeof a !== 'number') { s = bad(); break; }
        if (verb === 'f' || verb === 'F') s = formatFixed(a, p ?? 6);
        else if (verb === 'e' || verb === 'E') s = formatExp(a, p ?? 6);
        else s = formatG(a, p);
        if (verb === 'E' || verb === 'G') s = s.toUpperCase();
        if (plus && a >= 0) s = `+${s}`;
        break;
      }
      default: s = `%!${verb}(${typeName(a)}=${formatValue(a)})`;
    }
    out += pad(s, width, left, zero && verb !== 's' && verb !== 'v' && verb !== 'q');
  }
  out += format.slice(last);
  if (ai < args.length) {
    out += `%!(EXTRA ${args.slice(ai).map((a) => `${typeName(a)}=${formatValue(a)}`).join(', ')})`;
  }
  return out;
}

/** Go's fmt.Sprint: a space between operands when neither side is a string. */
function sprint(args: readonly unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Functions

export type TemplateFunc = (...args: unknown[]) => unknown;

class ExecError extends Error {}

function str(v: unknown, fn: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ExecError(`error calling ${fn}: wrong type for value; expected string; got ${typeName(v)}`);
  return v;
}

/** Go's case mapping is rune to rune: a character whose JS mapping expands (ß → SS) stays as it is. */
function mapRunes(s: string, f: (c: string) => string): string {
  let out = '';
  for (const ch of s) {
    const m = f(ch);
    out += Array.from(m).length === 1 ? m : ch;
  }
  return out;
}

/** The few letters whose title case (unicode.ToTitle) differs from their upper case. */
const TITLE_CASE: Readonly<Record<string, string>> = {
  '\u01c4': '\u01c5', '\u01c5': '\u01c5', '\u01c6': '\u01c5', '\u01c7': '\u01c8', '\u01c8': '\u01c8', '\u01c9': '\u01c8',
  '\u01ca': '\u01cb', '\u01cb': '\u01cb', '\u01cc': '\u01cb', '\u01f1': '\u01f2', '\u01f2': '\u01f2', '\u01f3': '\u01f2',
};

function goTitle(s: string): string {
  // strings.Title: upper-case the letter after a separator. In ASCII everything but letters, digits and '_' separates
  // (so "don't" becomes "Don'T", as in Go); beyond ASCII only spaces do.
  let prevSep = true;
  let out = '';
  for (const ch of s) {
    out += prevSep ? mapRunes(ch, (c) => TITLE_CASE[c] ?? c.toUpperCase()) : ch;
    prevSep = (ch.codePointAt(0) ?? 0) < 0x80 ? !/[A-Za-z0-9_]/.test(ch) : /\s/u.test(ch);
  }
  return out;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  if (op === 'eq') return a === b || (a === undefined && b === null) || (a === null && b === undefined);
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) {
    throw new ExecError(`error calling ${op}: incompatible types for comparison`);
  }
  switch (op) {
    case 'lt': return a < b;
    case 'le': return a <= b;
    case 'gt': return a > b;
    default: return a >= b;
  }
}

function indexOne(item: unknown, key: unknown): unknown {
  if (Array.isArray(item) || typeof item === 'string') {
    if (typeof key !== 'number' || !Number.isInteger(key)) throw new ExecError(`error calling index: cannot index slice/array with type ${typeName(key)}`);
    const len = typeof item === 'string' ? Buffer.byteLength(item) : item.length;
    if (key < 0 || key >= len) throw new ExecError(`error calling index: index out of range: ${key}`);
    return typeof item === 'string' ? Buffer.from(item)[key] : item[key];
  }
  if (item instanceof Map) return item.get(key);
  if (isPlainObject(item)) {
    if (typeof key !== 'string') throw new ExecError(`error calling index: value has type ${typeName(key)}; should be string`);
    if (Object.prototype.hasOwnProperty.call(item, key)) return item[key];
    // A missing key yields the map's zero value: "" for string maps such as Labels, no value otherwise.
    return Object.values(item).every((x) => typeof x === 'string') ? '' : undefined;
  }
  if (item === undefined || item === null) throw new ExecError('error calling index: index of untyped nil');
  throw new ExecError(`error calling index: can't index item of type ${typeName(item)}`);
}

function builtins(sortJsonKeys: boolean): Record<string, TemplateFunc> {
  return {
    json: (v) => goJson(v, sortJsonKeys),
    split: (s, sep) => {
      const a = str(s, 'split');
      const b = str(sep, 'split');
      return b === '' ? Array.from(a) : a.split(b);
    },
    join: (list, sep) => {
      if (list === undefined || list === null) return '';
      if (!Array.isArray(list)) throw new ExecError(`error calling join: wrong type for value; expected []string; got ${typeName(list)}`);
      return list.map((x) => formatValue(x)).join(str(sep, 'join'));
    },
    title: (s) => goTitle(str(s, 'title')),
    lower: (s) => mapRunes(str(s, 'lower'), (c) => (c === '\u0130' ? 'i' : c.toLowerCase())),
    upper: (s) => mapRunes(str(s, 'upper'), (c) => c.toUpperCase()),
    pad: (s, prefix, suffix) => {
      const v = str(s, 'pad');
      return v === '' ? v : ' '.repeat(Number(prefix)) + v + ' '.repeat(Number(suffix));
    },
    truncate: (s, n) => {
      const v = str(s, 'truncate');
      const chars = Array.from(v);
      return chars.length < Number(n) ? v : chars.slice(0, Number(n)).join('');
    },
    printf: (f, ...args) => sprintf(str(f, 'printf'), args),
    print: (...args) => sprint(args),
    println: (...args) => `${args.map((a) => formatValue(a)).join(' ')}\n`,
    len: (v) => {
      if (typeof v === 'string') return Buffer.byteLength(v);
      if (Array.isArray(v)) return v.length;
      if (v instanceof Map) return v.size;
      if (isPlainObject(v)) return Object.keys(v).length;
      throw new ExecError(`error calling len: len of ${v === undefined || v === null ? 'nil pointer' : `type ${typeName(v)}`}`);
    },
    index: (item, ...keys) => keys.reduce((acc, k) => indexOne(acc, k), item),
    not: (v) => !truthy(v),
    and: (...args) => { for (const a of args) if (!truthy(a)) return a; return args[args.length - 1]; },
    or: (...args) => { for (const a of args) if (truthy(a)) return a; return args[args.length - 1]; },
    eq: (a, ...rest) => {
      if (rest.length === 0) throw new ExecError('wrong number of args for eq: want at least 1 got 0');
      return rest.some((b) => compare('eq', a, b));
    },
    ne: (a, b) => !compare('eq', a, b),
    lt: (a, b) => compare('lt', a, b),
    le: (a, b) => compare('le', a, b),
    gt: (a, b) => compare('gt', a, b),
    ge: (a, b) => compare('ge', a, b),
  };
}

/**
 * docker's HeaderFunctions: when a table header is rendered, the template runs against the column titles and
 * these functions leave a title unchanged so `{{upper .Name}}` still heads its column with NAME.
 */
export const HEADER_FUNCTIONS: Readonly<Record<string, TemplateFunc>> = {
  json: (v) => v,
  split: (v) => v,
  join: (v) => v,
  title: (v) => v,
  lower: (v) => v,
  upper: (v) => v,
  truncate: (v) => v,
};

// ---------------------------------------------------------------------------------------------------------------
// Execution

class Break {}
class Continue {}

interface Scope { vars: Map<string, unknown>[] }

class Exec {
  out = '';
  constructor(private readonly funcs: Readonly<Record<string, TemplateFunc>>) {}

  run(list: readonly Node[], dot: unknown, scope: Scope): void {
    for (const n of list) this.node(n, dot, scope);
  }

  private node(n: Node, dot: unknown, scope: Scope): void {
    switch (n.t) {
      case 'text': this.out += n.text; return;
      case 'break': throw new Break();
      case 'continue': throw new Continue();
      case 'action': {
        const v = this.guard(n.at, () => this.pipe(n.pipe, dot, scope));
        if (n.pipe.decl.length === 0) this.out += formatValue(v);
        return;
      }
      case 'if': case 'with': {
        scope.vars.push(new Map());
        try {
          const v = this.guard(n.at, () => this.pipe(n.pipe, dot, scope));
          if (truthy(v)) this.run(n.list, n.t === 'with' ? v : dot, scope);
          else if (n.elseList !== undefined) this.run(n.elseList, dot, scope);
        } finally {
          scope.vars.pop();
        }
        return;
      }
      case 'range': this.range(n, dot, scope); return;
    }
  }

  private range(n: ControlNode, dot: unknown, scope: Scope): void {
    scope.vars.push(new Map());
    try {
      const decl = n.pipe.decl;
      const v = this.guard(n.at, () => this.pipe({ ...n.pipe, decl: [] }, dot, scope));
      let entries: [unknown, unknown][];
      if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
      else if (v instanceof Map) entries = [...v.keys()].sort().map((k) => [k, v.get(k)]);
      else if (isPlainObject(v)) entries = Object.keys(v).sort().map((k) => [k, v[k]]);
      else if (typeof v === 'number' && Number.isInteger(v)) entries = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
      else if (v === undefined || v === null) entries = [];
      else throw new InvalidArgument(`${n.at}: range can't iterate over ${formatValue(v)}`);
      if (entries.length === 0) {
        if (n.elseList !== undefined) this.run(n.elseList, dot, scope);
        return;
      }
      const frame = scope.vars[scope.vars.length - 1] as Map<string, unknown>;
      for (const [k, x] of entries) {
        if (decl.length === 1) frame.set(decl[0] as string, x);
        if (decl.length === 2) { frame.set(decl[0] as string, k); frame.set(decl[1] as string, x); }
        try {
          this.run(n.list, x, scope);
        } catch (e) {
          if (e instanceof Break) break;
          if (e instanceof Continue) continue;
          throw e;
        }
      }
    } finally {
      scope.vars.pop();
    }
  }

  private guard<T>(at: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof ExecError) throw new InvalidArgument(`${at}: ${e.message}`);
      throw e;
    }
  }

  private pipe(p: Pipe, dot: unknown, scope: Scope): unknown {
    let v: unknown;
    let has = false;
    for (const cmd of p.cmds) {
      v = this.command(cmd, dot, scope, has ? { v } : undefined);
      has = true;
    }
    if (p.decl.length > 0) {
      const name = p.decl[p.decl.length - 1] as string;
      if (p.assign) {
        const frame = [...scope.vars].reverse().find((f) => f.has(name));
        if (frame === undefined) throw new ExecError(`undefined variable: ${name}`);
        frame.set(name, v);
      } else {
        (scope.vars[scope.vars.length - 1] as Map<string, unknown>).set(name, v);
      }
    }
    return v;
  }

  private command(ops: readonly Operand[], dot: unknown, scope: Scope, final: { v: unknown } | undefined): unknown {
    const first = ops[0] as Operand;
    if (first.t === 'ident') {
      const fn = this.funcs[first.name];
      if (fn === undefined) throw new ExecError(`function "${first.name}" not defined`);
      const args = ops.slice(1).map((o) => this.operand(o, dot, scope));
      if (final !== undefined) args.push(final.v);
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof ExecError || e instanceof InvalidArgument) throw e;
        throw new ExecError(`error calling ${first.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (ops.length > 1 || final !== undefined) {
      const what = first.t === 'field' ? (first.chain.length > 0 ? `.${first.chain.join('.')}` : first.name || '.') : 'value';
      throw new ExecError(`can't give argument to non-function ${what}`);
    }
    return this.operand(first, dot, scope);
  }

  private operand(o: Operand, dot: unknown, scope: Scope): unknown {
    switch (o.t) {
      case 'lit': return o.v;
      case 'ident': {
        const fn = this.funcs[o.name];
        if (fn === undefined) throw new ExecError(`function "${o.name}" not defined`);
        return fn();
      }
      case 'pipe': return this.fields(this.pipe(o.pipe, dot, scope), o.chain);
      case 'field': {
        let base: unknown = dot;
        if (o.base === 'var') {
          if (o.name === '$') base = scope.vars[0]?.get('$');
          else {
            const frame = [...scope.vars].reverse().find((f) => f.has(o.name));
            if (frame === undefined) throw new ExecError(`undefined variable: ${o.name}`);
            base = frame.get(o.name);
          }
        }
        return this.fields(base, o.chain);
      }
    }
  }

  private fields(base: unknown, chain: readonly string[]): unknown {
    let v = base;
    for (const name of chain) {
      if (v === undefined || v === null) return undefined;
      if (v instanceof Map) { v = v.get(name); continue; }
      if (typeof v !== 'object' || Array.isArray(v)) {
        throw new ExecError(`can't evaluate field ${name} in type ${typeName(v)}`);
      }
      const rec = v as Record<string, unknown>;
      const next = name in rec ? rec[name] : undefined;
      // Functions stand for Go methods without arguments (lazily computed columns).
      v = typeof next === 'function' ? (next as () => unknown).call(rec) : next;
    }
    return v;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

export interface TemplateOptions {
  /** Turn the two-character sequences `\t` and `\n` into tab and newline first, as docker's formatter does. Default true. */
  expandEscapes?: boolean;
  /** Sort object keys in `json` output, as Go does for maps (docker's table contexts). Default false. */
  sortJsonKeys?: boolean;
  /** Extra or replacement functions (e.g. HEADER_FUNCTIONS). */
  funcs?: Readonly<Record<string, TemplateFunc>>;
}

/** A parsed template that can run with different function sets (rows and their header share one parse). */
export interface ParsedTemplate {
  execute(data: unknown, funcs?: Readonly<Record<string, TemplateFunc>>): string;
}

/** The docker CLI's format-string preprocessing: the two-character escapes `\t` and `\n` become tab and newline. */
export function expandEscapes(s: string): string {
  return s.replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

/**
 * Parse a Go text/template. Throws InvalidArgument `template parsing error: template: :LINE: ...` on bad syntax;
 * execution errors are thrown as InvalidArgument with the same prefix (docker words both that way).
 */
export function parseTemplate(src: string, opts: TemplateOptions = {}): ParsedTemplate {
  const text = opts.expandEscapes === false ? src : expandEscapes(src);
  const base = { ...builtins(opts.sortJsonKeys ?? false), ...opts.funcs };
  let nodes: Node[];
  try {
    nodes = new Parser(lex(text), new Set(Object.keys(base))).parse();
  } catch (e) {
    if (e instanceof TemplateSyntaxError) throw new InvalidArgument(`template parsing error: ${e.message}`, { cause: e });
    throw e;
  }
  return {
    execute(data: unknown, funcs?: Readonly<Record<string, TemplateFunc>>): string {
      const exec = new Exec(funcs === undefined ? base : { ...base, ...funcs });
      try {
        exec.run(nodes, data, { vars: [new Map([['$', data]])] });
      } catch (e) {
        if (e instanceof InvalidArgument) throw new InvalidArgument(`template parsing error: ${e.message}`, { cause: e });
        if (e instanceof ExecError) throw new InvalidArgument(`template parsing error: template: ${e.message}`, { cause: e });
        throw e;
      }
      return exec.out;
    },
  };
}

/** Compile a docker `--format` template into a function from data to text. See parseTemplate for errors. */
export function compileTemplate(src: string, opts: TemplateOptions = {}): (data: unknown) => string {
  const t = parseTemplate(src, opts);
  return (data: unknown): string => t.execute(data);
}
