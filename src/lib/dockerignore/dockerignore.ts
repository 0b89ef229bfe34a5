import { InvalidArgument } from '../errors.js';
import { BadPattern, cleanPath, goMatch } from './go-path.js';

/**
 * `.dockerignore` with the semantics of moby/patternmatcher (ignorefile.ReadAll + MatchesOrParentMatches) and the
 * directory walk rule of moby/go-archive and tonistiigi/fsutil.
 */

/** ignorefile.ReadAll: BOM stripped; `#` in column 0 is a comment; trimmed; cleaned; leading `/` dropped. */
export function readDockerignore(lines: string | readonly string[]): string[] {
  const all = typeof lines === 'string' ? lines.split('\n') : lines;
  const out: string[] = [];
  all.forEach((line, i) => {
    let p = i === 0 ? line.replace(/^\uFEFF/, '') : line;
    if (p.startsWith('#')) return;
    p = p.trim();
    if (p === '') return;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    out.push(invert ? '!' + p : p);
  });
  return out;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

interface Pattern {
  cleaned: string;
  exclusion: boolean;
  dirs: string[];
  type: MatchType;
  re?: RegExp;
}

const ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

function compile(cleaned: string): Pick<Pattern, 'type' | 're'> {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = Array.from(cleaned);
  for (let pos = 0, i = 0; pos < chars.length; i++) {
    const ch = chars[pos++]!;
    if (ch === '*') {
      if (chars[pos] === '*') {
        pos++;
        if (chars[pos] === '/') pos++;
        if (pos >= chars.length) {
          // Trailing `**` matches everything below, as in .gitignore.
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (i === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ESCAPE.has(ch)) {
      re += '\\' + ch;
    } else if (ch === '\\') {
      if (pos < chars.length) {
        re += '\\' + chars[pos++];
        type = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else re += ch;
  }
  if (type !== 'regexp') return { type };
  try {
    return { type, re: new RegExp(re + '$') };
  } catch {
    throw new BadPattern();
  }
}

function matchPattern(p: Pattern, path: string): boolean {
  switch (p.type) {
    case 'exact':
      return path === p.cleaned;
    case 'prefix':
      return path.startsWith(p.cleaned.slice(0, -2));
    case 'suffix': {
      const suffix = p.cleaned.slice(2);
      if (path.endsWith(suffix)) return true;
      // `**/foo` matches `foo` at the top.
      return suffix.startsWith('/') && path === suffix.slice(1);
    }
    case 'regexp':
      return p.re!.test(path);
  }
}

export interface IgnoreMatcher {
  /** Patterns after reading (comments dropped, cleaned). */
  readonly patterns: readonly string[];
  /** Whether a context path (slash-separated, relative to the context root) is left out of the context. */
  excluded(path: string, isDir: boolean): boolean;
  /**
   * For an excluded directory: whether something below it may still be re-included by a `!` pattern, so the walk
   * must descend (files below are then checked one by one with `excluded`).
   */
  mayIncludeUnder(dir: string): boolean;
}

/** Build a matcher from the lines of a .dockerignore (or already-read patterns). Throws InvalidArgument. */
export function createMatcher(lines: string | readonly string[]): IgnoreMatcher {
  const patterns = readDockerignore(lines);
  const compiled: Pattern[] = [];
  for (const raw of patterns) {
    // patternmatcher.New trims and cleans again, then splits off `!`.
    let p = cleanPath(raw.trim());
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) throw new InvalidArgument('illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    try {
      goMatch(p, '.');
      compiled.push({ cleaned: p, exclusion, dirs: p.split('/'), ...compile(p) });
    } catch (err) {
      if (err instanceof BadPattern) throw new InvalidArgument(`invalid .dockerignore pattern ${JSON.stringify(raw)}: syntax error in pattern`);
      throw err;
    }
  }
  const hasExclusions = compiled.some((p) => p.exclusion);

  const excluded = (path: string): boolean => {
    const file = cleanPath(path);
    // Docker never lets the patterns exclude the whole context.
    if (file === '.' || file === '/') return false;
    const slash = file.lastIndexOf('/');
    const parent = slash < 0 ? '.' : file.slice(0, slash);
    const parentDirs = parent.split('/');
    let matched = false;
    for (const p of compiled) {
      // Last match wins: only a `!` pattern can undo a match, only a plain one can make one.
      if (p.exclusion !== matched) continue;
      let m = matchPattern(p, file);
      if (!m && parent !== '.') {
        for (let i = 0; i < parentDirs.length && !m; i++) m = matchPattern(p, parentDirs.slice(0, i + 1).join('/'));
      }
      if (m) matched = !p.exclusion;
    }
    return matched;
  };

  const mayIncludeUnder = (dir: string): boolean => {
    if (!hasExclusions) return false;
    const d = cleanPath(dir);
    const dirSlash = d + '/';
    const dirParts = d.split('/');
    for (const p of compiled) {
      if (!p.exclusion) continue;
      // moby/go-archive's rule: a `!` pattern naming something under the directory.
      if ((p.cleaned + '/').startsWith(dirSlash)) return true;
      // fsutil also descends for `!` patterns with wildcards; check component-wise whether one could match below.
      if (/[*?[\\]/.test(p.cleaned) && couldMatchBelow(p.dirs, dirParts)) return true;
    }
    return false;
  };

  return { patterns, excluded: (path) => excluded(path), mayIncludeUnder };
}

function couldMatchBelow(pat: string[], dir: string[]): boolean {
  for (let i = 0; i < dir.length; i++) {
    const seg = pat[i];
    if (seg === undefined) return true; // pattern matches an ancestor: `!` re-includes everything below
    if (seg.startsWith('**')) return true;
    try {
      if (!goMatch(seg, dir[i]!)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The CLI side of Docker's rule for the build files: the Dockerfile and .dockerignore are always sent in the
 * context (it appends `!.dockerignore` and `!<dockerfile>` when a pattern matches them), so the builder can read
 * them. Returns the patterns to use when creating the context tar.
 */
export function patternsForContextUpload(patterns: readonly string[], dockerfile = 'Dockerfile'): string[] {
  const out = [...patterns];
  const m = createMatcher(patterns);
  if (m.excluded('.dockerignore', false)) out.push('!.dockerignore');
  const df = cleanPath(dockerfile);
  if (df !== '.' && m.excluded(df, false)) out.push('!' + df);
  return out;
}

/**
 * The daemon side: once the Dockerfile is read, the builder deletes `.dockerignore` and the Dockerfile from the
 * context when the patterns exclude them (moby's removeDockerfile, MatchesOrParentMatches), so `COPY . .` does not
 * copy them. Returns the context paths to remove.
 */
export function buildFilesToRemove(patterns: readonly string[], dockerfile = 'Dockerfile'): string[] {
  const m = createMatcher(patterns);
  return ['.dockerignore', cleanPath(dockerfile)].filter((f) => f !== '.' && m.excluded(f, false));
}
