/**
 * The built-in token endpoint of the Docker token flow: `GET /token?service=S&scope=repository:NAME:pull,push`
 * (scope may repeat). Users of the htpasswd file get what they ask for; anonymous callers get pull only, and only
 * when anonymous pull is enabled. Answers `{token, access_token, expires_in, issued_at}`.
 */
import { RegistryError } from './errors.js';
import { BASIC_REALM } from './auth.js';
import { type Htpasswd, parseBasic } from './htpasswd.js';
import { type TokenAccess, signToken } from './jwt.js';
import { isRepositoryName } from './names.js';

export interface TokenServiceOptions {
  users: Htpasswd | undefined;
  service: string;
  issuer: string;
  key: Buffer;
  anonymousPull: boolean;
  /** Token lifetime in seconds. */
  ttl: number;
}

export interface TokenResponse {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
}

const USER_ACTIONS = ['pull', 'push', 'delete'];

export class TokenService {
  constructor(private readonly opts: TokenServiceOptions) {}

  /** Throws UNAUTHORIZED for wrong credentials, or for anonymous callers when anonymous pull is off. */
  async issue(authorization: string | undefined, query: URLSearchParams): Promise<TokenResponse> {
    const creds = parseBasic(authorization);
    let subject = '';
    if (creds) {
      if (!this.opts.users || !(await this.opts.users.verify(creds))) throw this.unauthorized();
      subject = creds.user;
    } else if (!this.opts.anonymousPull) {
      throw this.unauthorized();
    }
    const service = query.get('service');
    if (service !== null && service !== this.opts.service) {
      throw new RegistryError('DENIED', `unknown service ${JSON.stringify(service.slice(0, 100))}`);
    }
    const access: TokenAccess[] = [];
    for (const scope of query.getAll('scope').flatMap((s) => s.split(' '))) {
      const granted = this.grant(scope, subject !== '');
      if (granted) access.push(granted);
    }
    const now = Math.floor(Date.now() / 1000);
    const token = signToken({ iss: this.opts.issuer, sub: subject, aud: this.opts.service, exp: now + this.opts.ttl, access }, this.opts.key);
    return { token, access_token: token, expires_in: this.opts.ttl, issued_at: new Date(now * 1000).toISOString() };
  }

  private grant(scope: string, authenticated: boolean): TokenAccess | undefined {
    // type:name:actions, where the name may itself hold a registry host with a port (type:host:5000/x:pull).
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first < 0 || last === first) return undefined;
    const type = scope.slice(0, first);
    const name = scope.slice(first + 1, last);
    const wanted = scope.slice(last + 1).split(',');
    if (type === 'registry' && name === 'catalog') {
      return authenticated && wanted.includes('*') ? { type, name, actions: ['*'] } : undefined;
    }
    if (type !== 'repository' || !isRepositoryName(name)) return undefined;
    const allowed = authenticated ? USER_ACTIONS : ['pull'];
    const actions = wanted.includes('*') ? allowed : wanted.filter((a) => allowed.includes(a));
    return actions.length ? { type, name, actions } : undefined;
  }

  private unauthorized(): RegistryError {
    return new RegistryError('UNAUTHORIZED', 'authentication required', { headers: { 'WWW-Authenticate': `Basic realm="${BASIC_REALM}"` } });
  }
}
