/**
 * Go's path.Clean and path/filepath.Match (Unix), which Docker's .dockerignore and COPY glob rules are defined by.
 */

export class BadPattern extends Error {
  constructor() {
    super('syntax error in pattern');
  }
}

/** Go path.Clean: shortest equivalent path, '.' for empty. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

function scanChunk(p: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let star = false;
  let i0 = 0;
  while (i0 < p.length && p[i0] === '*') {
    i0++;
    star = true;
  }
  const q = p.slice(i0);
  let inRange = false;
  let i = 0;
  for (; i < q.length; i++) {
    const c = q[i];
    if (c === '\\') {
      if (i + 1 < q.length) i++;
    } else if (c === '[') inRange = true;
    else if (c === ']') inRange = false;
    else if (c === '*' && !inRange) break;
  }
  return { star, chunk: q.slice(0, i), rest: q.slice(i) };
}

function getEsc(chunk: string[]): [string, string[]] {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadPattern();
  let c = chunk;
  if (c[0] === '\\') {
    c = c.slice(1);
    if (c.length === 0) throw new BadPattern();
  }
  const r = c[0]!;
  const next = c.slice(1);
  if (next.length === 0) throw new BadPattern();
  return [r, next];
}

/** Match one chunk at the start of s; returns the rest of s or null. Throws BadPattern. */
function matchChunk(chunkIn: string[], sIn: string[]): string[] | null {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0]!;
    if (c === '[') {
      let r = '';
      if (!failed) {
        r = s[0]!;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk[0] === '^') {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let n = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === ']' && n > 0) {
          chunk = chunk.slice(1);
          break;
        }
        let lo: string;
        let hi: string;
        [lo, chunk] = getEsc(chunk);
        hi = lo;
        if (chunk[0] === '-') [hi, chunk] = getEsc(chunk.slice(1));
        const cp = r.codePointAt(0) ?? -1;
        if (lo.codePointAt(0)! <= cp && cp <= hi.codePointAt(0)!) match = true;
        n++;
      }
      if (match === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === '\\') {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new BadPattern();
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  return failed ? null : s;
}

/** Go filepath.Match: `*` and `?` never match '/', `[a-z]`/`[^x]` classes, `\` escapes. Throws BadPattern. */
export function goMatch(pattern: string, name: string): boolean {
  let p = Array.from(pattern);
  let n = Array.from(name);
  outer: while (p.length > 0) {
    const { star, chunk, rest } = scanChunk(p);
    p = rest;
    if (star && chunk.length === 0) return !n.includes('/');
    const t = matchChunk(chunk, n);
    if (t !== null && (t.length === 0 || p.length > 0)) {
      n = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < n.length && n[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, n.slice(i + 1));
        if (t2 !== null) {
          if (p.length === 0 && t2.length > 0) continue;
          n = t2;
          continue outer;
        }
      }
    }
    // Report syntax errors in the rest of the pattern even when the name already failed.
    while (p.length > 0) {
      const r = scanChunk(p);
      p = r.rest;
      matchChunk(r.chunk, []);
    }
    return false;
  }
  return n.length === 0;
}

/** True when the string has glob metacharacters (`*`, `?`, `[`), skipping escaped ones, as BuildKit checks. */
export function hasWildcards(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '*' || c === '?' || c === '[') return true;
    if (c === '\\') i++;
  }
  return false;
}
