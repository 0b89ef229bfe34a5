/**
 * HS256 JSON Web Tokens for the built-in token service (RFC 7519 with only what the Docker token flow needs).
 * Verification accepts exactly `alg: HS256`: `none` and every other algorithm are refused, so a token cannot
 * pick its own verification method.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export interface TokenAccess {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: TokenAccess[];
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function signToken(claims: Omit<TokenClaims, 'jti' | 'iat' | 'nbf'> & Partial<Pick<TokenClaims, 'jti' | 'iat' | 'nbf'>>, key: Buffer): string {
  const now = Math.floor(Date.now() / 1000);
  const full: TokenClaims = { jti: randomUUID(), iat: now, nbf: now, ...claims };
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(full));
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

export interface VerifyOptions {
  key: Buffer;
  issuer: string;
  audience: string;
  /** Seconds of clock skew tolerated on exp/nbf. */
  leeway?: number;
  now?: number;
}

/** The claims of a valid token; throws an Error naming the reason (never echoing the token) otherwise. */
export function verifyToken(token: string, opts: VerifyOptions): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new Error('malformed token');
  const [head, body, sig] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new Error('malformed token');
  }
  if (typeof header !== 'object' || header === null || (header as { alg?: unknown }).alg !== 'HS256') throw new Error('unsupported token algorithm');
  const want = createHmac('sha256', opts.key).update(`${head}.${body}`).digest();
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Error('bad token signature');
  if (typeof claims !== 'object' || claims === null) throw new Error('malformed token claims');
  const c = claims as Partial<TokenClaims>;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const leeway = opts.leeway ?? 30;
  if (c.iss !== opts.issuer) throw new Error('token issuer mismatch');
  const aud = c.aud as unknown;
  if (!(aud === opts.audience || (Array.isArray(aud) && aud.includes(opts.audience)))) throw new Error('token audience mismatch');
  if (typeof c.exp !== 'number' || c.exp + leeway < now) throw new Error('token expired');
  if (typeof c.nbf === 'number' && c.nbf - leeway > now) throw new Error('token not yet valid');
  if (!Array.isArray(c.access)) c.access = [];
  return c as TokenClaims;
}
