import { InvalidArgument } from '../../lib/errors.js';
import { cleanPath, goMatch, hasWildcards } from '../../lib/dockerignore/index.js';

/**
 * Path rules of COPY/ADD, without touching the filesystem: sources are confined to the context (Docker cleans them
 * against the context as `/`, so `../x` is `x` and `/x` is `x`), globs follow Go's filepath.Match, destinations
 * follow WORKDIR and the trailing-slash rule.
 */

/** A source path relative to the context root, `.` for the root itself; never escapes it. */
export function contextPath(src: string): string {
  const c = cleanPath('/' + src);
  return c === '/' ? '.' : c.slice(1);
}

/** ADD with an http(s) URL or a git URL (not available offline; the executor answers a clear error). */
export function isRemoteSource(src: string): boolean {
  return /^(https?|git):\/\//.test(src) || src.startsWith('git@');
}

export interface SourcePattern {
  /** Cleaned, context-relative pattern (or plain path). */
  pattern: string;
  /** True when the source has `*`, `?` or `[`: it may match zero or several entries. */
  wildcard: boolean;
  /** The leading directory without wildcards: where a walk for matches can start (`.` for the root). */
  walkRoot: string;
}

/** Parse one COPY/ADD source (already variable-expanded). Throws InvalidArgument for a bad glob. */
export function sourcePattern(src: string): SourcePattern {
  const pattern = contextPath(src);
  const wildcard = hasWildcards(pattern);
  if (wildcard) {
    try {
      goMatch(pattern, '.');
    } catch {
      throw new InvalidArgument(`invalid pattern ${JSON.stringify(src)}: syntax error in pattern`);
    }
  }
  if (!wildcard) return { pattern, wildcard, walkRoot: pattern };
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const p of parts) {
    if (hasWildcards(p)) break;
    fixed.push(p);
  }
  return { pattern, wildcard, walkRoot: fixed.length ? fixed.join('/') : '.' };
}

/**
 * Whether a context path (relative, slash-separated) is matched by the pattern, as the classic builder's walk
 * does: filepath.Match on the whole relative path. A matched directory is copied with all its content.
 */
export function matchesSource(sp: SourcePattern, path: string): boolean {
  const p = contextPath(path);
  return sp.wildcard ? goMatch(sp.pattern, p) : p === sp.pattern;
}

export interface Destination {
  /** Absolute, cleaned path in the image. */
  path: string;
  /** The destination names a directory (it ended with `/`, or was `.`/empty). */
  isDir: boolean;
}

/**
 * Resolve a COPY/ADD destination against WORKDIR (default `/`), keeping the meaning of a trailing slash, as
 * BuildKit's pathRelativeToWorkingDir does.
 */
export function resolveDestination(dest: string, workdir = '/'): Destination {
  let d = dest;
  if (d === '' || d === '.') d = './';
  const isDir = d.endsWith('/') || d.endsWith('/.');
  const joined = d.startsWith('/') ? d : `${workdir || '/'}/${d}`;
  return { path: cleanPath('/' + joined), isDir };
}

/**
 * Several sources (after glob expansion) need a directory destination. Docker's wording; `cmd` is COPY or ADD.
 */
export function checkDestination(cmd: 'COPY' | 'ADD', dest: string, sourceCount: number): void {
  if (sourceCount > 1 && !dest.endsWith('/')) {
    throw new InvalidArgument(`When using ${cmd} with more than one source file, the destination must be a directory and end with a /`);
  }
}

/**
 * Where one matched source lands. A directory source copies its contents into the destination directory; a file
 * goes to `dest/<basename>` when the destination is a directory (trailing slash, or an existing directory in the
 * image: `destIsExistingDir`), else to the destination path itself.
 */
export function targetPath(src: { path: string; isDir: boolean }, dest: Destination, destIsExistingDir = false): string {
  if (src.isDir) return dest.path;
  if (dest.isDir || destIsExistingDir) {
    const base = contextPath(src.path).split('/').pop()!;
    return cleanPath(`${dest.path}/${base}`);
  }
  return dest.path;
}

/** A user or group as given to --chown: a numeric id, or a name the executor looks up in the image. */
export type IdSpec = { kind: 'id'; id: number } | { kind: 'name'; name: string };

export interface Chown {
  user: IdSpec;
  /** Without `:group`, Docker uses the user part as the group too (looked up in /etc/group when a name). */
  group: IdSpec;
}

function idSpec(s: string, what: string, spec: string): IdSpec {
  if (s === '') throw new InvalidArgument(`invalid chown string format: ${spec} (empty ${what})`);
  if (/^\d+$/.test(s)) {
    const id = Number(s);
    if (id > 0xffffffff) throw new InvalidArgument(`invalid chown ${what} id: ${s}`);
    return { kind: 'id', id };
  }
  return { kind: 'name', name: s };
}

/** Parse `--chown=user[:group]` (already expanded). Throws InvalidArgument. */
export function parseChown(spec: string): Chown {
  const parts = spec.split(':');
  if (parts.length > 2) throw new InvalidArgument(`invalid chown string format: ${spec}`);
  const user = idSpec(parts[0]!, 'user', spec);
  const group = idSpec(parts.length === 2 ? parts[1]! : parts[0]!, 'group', spec);
  return { user, group };
}

/** Parse `--chmod` as BuildKit accepts it in octal: 0 to 07777. Throws InvalidArgument. */
export function parseChmod(spec: string): number {
  if (!/^[0-7]+$/.test(spec) || parseInt(spec, 8) > 0o7777) {
    throw new InvalidArgument(`invalid chmod parameter: '${spec}'. it should be octal string and between 0 and 07777`);
  }
  return parseInt(spec, 8);
}
