import { createHash } from 'node:crypto';
import { InvalidArgument } from './errors.js';

/** A validated `sha256:<64 hex>` digest. Only these ever name a path. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const HEX_RE = /^[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function parseDigest(s: string): Digest {
  if (!isDigest(s)) throw new InvalidArgument(`invalid digest: ${JSON.stringify(s.slice(0, 100))}`, { code: 'PETI_ERR_INVALID_ARGUMENT' });
  return s;
}

export function isHex64(s: string): boolean {
  return HEX_RE.test(s);
}

/** The 64 hex characters of a validated digest. */
export function hexOf(d: Digest): string {
  return d.slice(7);
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** OCI chain ID: chain(L0) = diffID(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diffID(Ln)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : sha256(`${prev} ${d}`));
  }
  return out;
}
