/**
 * Grammar checks that run before any path is built from a request: repository names, tags, upload ids.
 * Each regex is the spec's (distribution-spec "Pulling manifests"), anchored, so nothing like `..` or `/` at
 * the edges can reach the filesystem.
 */
import { RegistryError } from './errors.js';

const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const UUID_RE = /^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$/;
const MAX_NAME = 255;

export function isRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME && NAME_RE.test(name);
}

/** Throws NAME_INVALID unless `name` follows the spec grammar. */
export function checkRepositoryName(name: string): string {
  if (!isRepositoryName(name)) {
    throw new RegistryError('NAME_INVALID', 'invalid repository name', { detail: { name: name.slice(0, MAX_NAME + 1) } });
  }
  return name;
}

export function isTag(s: string): boolean {
  return TAG_RE.test(s);
}

export function isUploadId(s: string): boolean {
  return UUID_RE.test(s);
}
