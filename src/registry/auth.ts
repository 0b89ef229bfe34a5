/**
 * Access control for the registry: none, htpasswd Basic, or bearer tokens from the built-in token service.
 * Each request states what it needs; an authorizer answers with a Grant or throws UNAUTHORIZED (401, with the
 * challenge a client follows) or DENIED (403: a valid token that lacks the scope).
 */
import { RegistryError } from './errors.js';
import { type Htpasswd, parseBasic } from './htpasswd.js';
import { type TokenAccess, verifyToken } from './jwt.js';

export type Action = 'pull' | 'push' | 'delete';

export type Need =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'repo'; name: string; action: Action };

export interface Grant {
  /** Whether the caller may also do `action` on `name` (cross-repository mount checks the source with this). */
  can(name: string, action: Action): boolean;
}

export interface Authorizer {
  /** Throws UNAUTHORIZED or DENIED when the request's credentials do not cover `need`. */
  authorize(authorization: string | undefined, need: Need): Promise<Grant>;
}

const ALL: Grant = { can: () => true };

export class OpenAuthorizer implements Authorizer {
  async authorize(): Promise<Grant> {
    return ALL;
  }
}

export const BASIC_REALM = 'peti-registry';

export class BasicAuthorizer implements Authorizer {
  constructor(private readonly users: Htpasswd) {}

  async authorize(authorization: string | undefined): Promise<Grant> {
    const c = parseBasic(authorization);
    if (c && (await this.users.verify(c))) return ALL;
    throw new RegistryError('UNAUTHORIZED', 'authentication required', {
      headers: { 'WWW-Authenticate': `Basic realm="${BASIC_REALM}"` },
    });
  }
}

export interface TokenAuthorizerOptions {
  realm: string;
  service: string;
  issuer: string;
  key: Buffer;
}

function scopeOf(need: Need): string | undefined {
  if (need.kind === 'catalog') return 'registry:catalog:*';
  if (need.kind === 'repo') return `repository:${need.name}:${need.action === 'pull' ? 'pull' : `pull,${need.action}`}`;
  return undefined;
}

function allows(access: readonly TokenAccess[], type: string, name: string, action: string): boolean {
  return access.some((a) => a.type === type && a.name === name && (a.actions.includes(action) || a.actions.includes('*')));
}

export class TokenAuthorizer implements Authorizer {
  constructor(private readonly opts: TokenAuthorizerOptions) {}

  private challenge(need: Need, error?: string): string {
    const scope = scopeOf(need);
    let h = `Bearer realm="${this.opts.realm}",service="${this.opts.service}"`;
    if (scope) h += `,scope="${scope}"`;
    if (error) h += `,error="${error}"`;
    return h;
  }

  async authorize(authorization: string | undefined, need: Need): Promise<Grant> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) {
      throw new RegistryError('UNAUTHORIZED', 'authentication required', { headers: { 'WWW-Authenticate': this.challenge(need) } });
    }
    let access: TokenAccess[];
    try {
      access = verifyToken(m[1]!, { key: this.opts.key, issuer: this.opts.issuer, audience: this.opts.service }).access;
    } catch (e) {
      throw new RegistryError('UNAUTHORIZED', `invalid token: ${(e as Error).message}`, {
        headers: { 'WWW-Authenticate': this.challenge(need, 'invalid_token') },
      });
    }
    const grant: Grant = { can: (name, action) => allows(access, 'repository', name, action) };
    const ok = need.kind === 'base' || (need.kind === 'catalog' ? allows(access, 'registry', 'catalog', '*') : grant.can(need.name, need.action));
    if (!ok) {
      throw new RegistryError('DENIED', 'requested access to the resource is denied', {
        headers: { 'WWW-Authenticate': this.challenge(need, 'insufficient_scope') },
        detail: scopeOf(need) === undefined ? undefined : [{ Type: need.kind === 'catalog' ? 'registry' : 'repository', Name: need.kind === 'repo' ? need.name : 'catalog', Action: need.kind === 'repo' ? need.action : '*' }],
      });
    }
    return grant;
  }
}
