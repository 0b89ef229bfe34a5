/**
 * Credentials as the docker CLI keeps them: `$DOCKER_CONFIG/config.json` (default `~/.docker`), `auths` keyed by
 * registry (`https://index.docker.io/v1/` for Docker Hub), `auth` = base64 `user:pass`. Other keys are kept as is.
 * Credential helpers (`credsStore`, `credHelpers`) are not run.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgument } from '../lib/errors.js';
import { parseReference } from '../lib/reference.js';

export const HUB_KEY = 'https://index.docker.io/v1/';

export interface AuthEntry {
  auth?: string;
  identitytoken?: string;
  [extra: string]: unknown;
}

export interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  [extra: string]: unknown;
}

export function configPath(): string {
  return join(process.env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

export function readDockerConfig(): DockerConfigFile {
  try {
    const j = JSON.parse(readFileSync(configPath(), 'utf8')) as unknown;
    return typeof j === 'object' && j !== null ? (j as DockerConfigFile) : {};
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new InvalidArgument(`cannot read ${configPath()}: ${(e as Error).message}`);
  }
}

/** Written 0600 via a temp file and rename, as the docker CLI does. */
export function writeDockerConfig(c: DockerConfigFile): void {
  const p = configPath();
  mkdirSync(join(p, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${p}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(c, null, '\t') + '\n', { mode: 0o600 });
  renameSync(tmp, p);
}

/** The config key for a registry given as `host[:port]`, a URL, or nothing (Docker Hub). */
export function registryKey(server: string | undefined): string {
  const s = (server ?? '').trim().replace(/^https?:\/\//, '').replace(/\/+$/, '').replace(/\/v[12]$/, '');
  if (s === '' || s === 'docker.io' || s === 'index.docker.io' || s === 'registry-1.docker.io') return HUB_KEY;
  return s;
}

/** The stored entry for a registry, trying the spellings docker accepts (`host`, `https://host`, `http://host`). */
export function findAuth(c: DockerConfigFile, key: string): { key: string; entry: AuthEntry } | undefined {
  const auths = c.auths ?? {};
  for (const k of Object.keys(auths)) {
    if (registryKey(k) === key) return { key: k, entry: auths[k]! };
  }
  return undefined;
}

/** `X-Registry-Auth` for the registry of an image reference: base64url JSON, `e30=` (`{}`) when not logged in. */
export function registryAuthFor(image: string): string {
  let domain = '';
  try {
    domain = parseReference(image).domain;
  } catch {
    return 'e30=';
  }
  const key = registryKey(domain);
  const found = findAuth(readDockerConfig(), key);
  if (!found) return 'e30=';
  const cfg: Record<string, string> = { serveraddress: key };
  if (found.entry.auth) {
    const s = Buffer.from(found.entry.auth, 'base64').toString('utf8');
    const i = s.indexOf(':');
    if (i > 0) {
      cfg.username = s.slice(0, i);
      cfg.password = s.slice(i + 1);
    }
  }
  if (found.entry.identitytoken) cfg.identitytoken = found.entry.identitytoken;
  return Buffer.from(JSON.stringify(cfg)).toString('base64url');
}
