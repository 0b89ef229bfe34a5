/**
 * Registry error bodies (`{"errors":[{"code","message"}]}`) and Docker's wording for them, so the docker CLI shows
 * the messages users know (moby distribution/errors.go).
 */
import { InvalidArgument, NotFound, type PetiError, Unauthorized, Unavailable, Internal } from '../../lib/errors.js';

/** A registry answered with an unexpected status; carries the spec's error codes. */
export class RegistryHttpError extends Error {
  constructor(readonly status: number, readonly codes: { code: string; message: string }[], readonly what: string) {
    super(RegistryHttpError.text(status, codes, what));
  }

  /** `manifest unknown: manifest unknown`, Go errcode's `Error()`: code lowercased with spaces, then the message. */
  static text(status: number, codes: { code: string; message: string }[], what: string): string {
    const first = codes[0];
    if (first) return `${first.code.toLowerCase().replace(/_/g, ' ')}: ${first.message}`;
    if (status === 401) return 'unauthorized: authentication required';
    return `unexpected status ${status} from ${what}`;
  }

  get code(): string | undefined {
    return this.codes[0]?.code ?? (this.status === 401 ? 'UNAUTHORIZED' : this.status === 404 ? 'NOT_FOUND' : undefined);
  }
}

/** Parse a registry error body leniently (some answer HTML or nothing). */
export function parseErrorBody(body: Buffer): { code: string; message: string }[] {
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    return (j.errors ?? []).filter((e) => typeof e.code === 'string').map((e) => ({ code: String(e.code), message: typeof e.message === 'string' ? e.message : '' }));
  } catch {
    return [];
  }
}

/** Docker's pull wording (translatePullError): familiar name and familiar reference string. */
export function pullError(e: unknown, name: string, refString: string): unknown {
  if (!(e instanceof RegistryHttpError)) return e;
  switch (e.code) {
    case 'DENIED': case 'UNAUTHORIZED':
      return new NotFound(`pull access denied for ${name}, repository does not exist or may require 'docker login': ${e.message}`, { cause: e });
    case 'MANIFEST_UNKNOWN': case 'NOT_FOUND':
      return new NotFound(`manifest for ${refString} not found: ${e.message}`, { cause: e });
    case 'NAME_UNKNOWN':
      return new NotFound(`repository ${name} not found: ${e.message}`, { cause: e });
    default:
      return asPetiError(e);
  }
}

export function asPetiError(e: RegistryHttpError): PetiError {
  if (e.status === 401) return new Unauthorized(e.message, { cause: e });
  if (e.status === 404) return new NotFound(e.message, { cause: e });
  if (e.status >= 400 && e.status < 500) return new InvalidArgument(e.message, { cause: e });
  if (e.status === 503 || e.status === 502) return new Unavailable(e.message, { cause: e });
  return new Internal(e.message, { cause: e });
}

export function digestError(message: string): InvalidArgument {
  return new InvalidArgument(message, { code: 'PETI_ERR_DIGEST_MISMATCH' });
}
