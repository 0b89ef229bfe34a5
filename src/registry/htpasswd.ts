/**
 * htpasswd files with bcrypt entries (`user:$2y$...`, as `htpasswd -B` writes them; $2a$/$2b$ too), and the
 * Basic credential check. bcrypt costs tens of milliseconds per check in JS and a docker push makes dozens of
 * requests, so successful checks are remembered in memory by a hash of the credentials (never the password).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { compare } from 'bcryptjs';
import type { Logger } from '../lib/log.js';

const CACHE_MAX = 1024;

export interface BasicCredentials {
  user: string;
  password: string;
}

/** Decodes an `Authorization: Basic` header; undefined when absent or not Basic. */
export function parseBasic(header: string | undefined): BasicCredentials | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return undefined;
  return { user: text.slice(0, i), password: text.slice(i + 1) };
}

export class Htpasswd {
  private readonly users = new Map<string, string>();
  private readonly verified = new Set<string>();

  static async load(path: string, log: Logger): Promise<Htpasswd> {
    const h = new Htpasswd();
    const text = await fsp.readFile(path, 'utf8');
    for (const [n, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const i = line.indexOf(':');
      const user = line.slice(0, i);
      const hash = line.slice(i + 1);
      if (i <= 0 || !/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) {
        log.warn('htpasswd: skipping an entry that is not bcrypt', { line: n + 1 });
        continue;
      }
      h.users.set(user, hash);
    }
    return h;
  }

  get size(): number {
    return this.users.size;
  }

  async verify(c: BasicCredentials): Promise<boolean> {
    const hash = this.users.get(c.user);
    if (hash === undefined) return false;
    const key = createHash('sha256').update(`${c.user}\0${c.password}\0${hash}`).digest('hex');
    if (this.verified.has(key)) return true;
    // bcryptjs checks $2y$ hashes like $2b$ (same algorithm, different tag).
    if (!(await compare(c.password, hash))) return false;
    if (this.verified.size >= CACHE_MAX) this.verified.clear();
    this.verified.add(key);
    return true;
  }
}
