/**
 * Docker image references, parsed and normalised the way Docker does (distribution/reference's
 * ParseNormalizedNamed): `busybox` means `docker.io/library/busybox`, `localhost:5000/x` keeps its registry.
 * Error wording matches Docker's so users see the messages they know.
 */
import { InvalidArgument } from './errors.js';
import { isDigest, type Digest } from './digest.js';

export interface Reference {
  /** Registry host with optional port: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  domain: string;
  /** Repository path inside the registry: `library/busybox`, `user/app`. */
  path: string;
  tag?: string;
  digest?: Digest;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
/** Docker checks this against the repository path (not domain, tag or digest). */
export const NAME_MAX_LENGTH = 255;

// The grammar, built from the same pieces as Docker's so the two accept exactly the same strings.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const ID_RE = /^(?:sha256:)?[a-f0-9]{12,64}$/;

function bad(message: string): InvalidArgument {
  return new InvalidArgument(message, { code: 'PETI_ERR_BAD_REFERENCE' });
}

/**
 * True for what callers should try as an image ID before parsing it as a name: 12 to 64 lowercase hex characters,
 * optionally prefixed by `sha256:`.
 */
export function looksLikeId(s: string): boolean {
  return ID_RE.test(s);
}

/** True when `s` is a valid tag (`[\w][\w.-]{0,127}`). */
export function isValidTag(s: string): boolean {
  return TAG_RE.test(s);
}

/**
 * Split a familiar name into registry and remainder the way Docker does: the first component is a registry only
 * when it contains `.` or `:`, is `localhost`, or has uppercase letters (repository paths cannot). Docker Hub names
 * without a namespace get `library/`.
 */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  if (slash === -1) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_PREFIX + name };
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (first === 'localhost') {
    domain = first; remainder = rest;
  } else if (first === LEGACY_DEFAULT_DOMAIN) {
    domain = DEFAULT_DOMAIN; remainder = rest;
  } else if (first.includes('.') || first.includes(':') || first.toLowerCase() !== first) {
    domain = first; remainder = rest;
  } else {
    domain = DEFAULT_DOMAIN; remainder = name;
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Validate a digest the way go-digest's Parse does, narrowed to what Peti stores: sha256 only.
 * The reference grammar already guaranteed `algorithm:hex{32,}`.
 */
function checkDigest(s: string): Digest {
  if (isDigest(s)) return s;
  const colon = s.indexOf(':');
  const algorithm = s.slice(0, colon);
  const encoded = s.slice(colon + 1);
  if (algorithm !== 'sha256') throw bad(`unsupported digest algorithm: ${algorithm} (only sha256 is supported)`);
  if (encoded.length !== 64) throw bad('invalid checksum digest length');
  throw bad('invalid checksum digest format');
}

/** Docker's `Parse` on an already-normalised string. */
function parseCanonical(s: string): Reference {
  if (s === '') throw bad('repository name must have at least one component');
  const m = REFERENCE_RE.exec(s);
  if (m === null) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE_RE.test(lower)) throw bad('repository name must be lowercase');
    throw bad('invalid reference format');
  }
  const name = m[1] ?? '';
  const nm = ANCHORED_NAME_RE.exec(name);
  const domain = nm?.[1] ?? '';
  const path = nm?.[2] ?? name;
  if (path.length > NAME_MAX_LENGTH) throw bad(`repository name must not be more than ${NAME_MAX_LENGTH} characters`);
  const ref: Reference = { domain, path };
  if (m[2] !== undefined && m[2] !== '') ref.tag = m[2];
  if (m[3] !== undefined && m[3] !== '') ref.digest = checkDigest(m[3]);
  return ref;
}

/**
 * Parse a user-supplied image reference (`busybox`, `user/app:1`, `host:5000/x@sha256:...`) into its normalised
 * parts. A tag and a digest may both be present, as Docker allows. Throws InvalidArgument
 * (PETI_ERR_BAD_REFERENCE) with Docker's wording for anything outside the grammar. A bare 64-hex string is
 * refused: callers look such strings up as IDs first (see looksLikeId).
 */
export function parseReference(s: string): Reference {
  if (IDENTIFIER_RE.test(s)) {
    throw bad(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep === -1 ? remainder : remainder.slice(0, tagSep);
  if (remote.toLowerCase() !== remote) {
    throw bad(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  return parseCanonical(`${domain}/${remainder}`);
}

/**
 * Normalise a repository name that must carry neither tag nor digest (`busybox` → docker.io + library/busybox).
 * Throws InvalidArgument (PETI_ERR_BAD_REFERENCE) if it is not a valid name or has a tag or digest.
 */
export function normalizeName(name: string): { domain: string; path: string } {
  const ref = parseReference(name);
  if (ref.tag !== undefined || ref.digest !== undefined) throw bad('invalid reference format');
  return { domain: ref.domain, path: ref.path };
}

/** The reference with tag `latest` when it has neither tag nor digest (Docker's TagNameOnly). */
export function withDefaultTag(ref: Reference): Reference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return { ...ref, tag: DEFAULT_TAG };
}

/** True when the reference names content by digest. */
export function isDigestRef(ref: Reference): boolean {
  return ref.digest !== undefined;
}

function suffix(ref: Reference): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** Full repository name without tag or digest: `docker.io/library/busybox`. */
export function repoName(ref: Reference): string {
  return ref.domain === '' ? ref.path : `${ref.domain}/${ref.path}`;
}

/** Repository name as the Docker UI shows it: `busybox`, `user/x`, `localhost:5000/x`. */
export function familiarRepoName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repoName(ref);
  if (ref.path.startsWith(OFFICIAL_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_PREFIX.length);
    // Docker only shortens single-level official names ("library/a/b" stays as is).
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** The canonical string: `docker.io/library/busybox:latest`, with `@digest` when present. */
export function formatFull(ref: Reference): string {
  return repoName(ref) + suffix(ref);
}

/** The familiar string: `busybox:latest`, `user/x:1`, `localhost:5000/x:1`, with `@digest` when present. */
export function familiarName(ref: Reference): string {
  return familiarRepoName(ref) + suffix(ref);
}

/**
 * The target of `POST /images/{name}/tag?repo=&tag=` (and commit's repo/tag): `repo` is a repository, optionally
 * with a tag; a non-empty `tag` replaces it; with neither, `latest`. Digest references cannot be tag targets.
 * Throws InvalidArgument (PETI_ERR_BAD_REFERENCE).
 */
export function parseRepoTag(repo: string, tag?: string): Reference & { tag: string } {
  if (repo === '') throw bad('repository name must have at least one component');
  const ref = parseReference(repo);
  if (ref.digest !== undefined) throw bad('refusing to create a tag with a digest reference');
  if (tag !== undefined && tag !== '') {
    if (!TAG_RE.test(tag)) throw bad('invalid tag format');
    return { domain: ref.domain, path: ref.path, tag };
  }
  return { domain: ref.domain, path: ref.path, tag: ref.tag ?? DEFAULT_TAG };
}
