/**
 * The closed set of error classes every layer throws. The API maps the class (never the message) to an HTTP
 * status in exactly one place; the client maps statuses back to these classes.
 */
export type ErrorKind =
  | 'not-found'
  | 'invalid-argument'
  | 'conflict'
  | 'already-exists'
  | 'not-modified'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'not-implemented'
  | 'internal';

export interface PetiErrorOptions {
  /** Stable machine code, e.g. PETI_ERR_NO_SUCH_IMAGE. */
  code?: string;
  /** One short line telling the user what to do next. */
  hint?: string;
  cause?: unknown;
}

export abstract class PetiError extends Error {
  abstract readonly kind: ErrorKind;
  abstract readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  constructor(message: string, defaultCode: string, opts: PetiErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = opts.code ?? defaultCode;
    this.hint = opts.hint;
    this.name = new.target.name;
  }
}

export class NotFound extends PetiError {
  readonly kind = 'not-found';
  readonly status = 404;
  constructor(message: string, opts?: PetiErrorOptions) { super(message, 'PETI_ERR_NOT_FOUND', opts); }
}
export class InvalidArgument extends PetiError {
  readonly kind = 'invalid-argument';
  readonly status = 400;
  constructor(message: string, opts?: PetiErrorOptions) { super(message, 'PETI_ERR_INVALID_ARGUMENT', opts); }
}
export class Conflict extends PetiError {
  readonly kind: ErrorKind = 'conflict';
  readonly status = 409;
  constructor(message: string, opts?: PetiErrorOptions) { super(message, 'PETI_ERR_CONFLICT', opts); }
}
export class AlreadyExists extends Conflict {
  override readonly kind = 'already-exists';
  constructor(message: string, opts?: PetiErrorOptions) { super(message, { code: 'PETI_ERR_ALREADY_EXISTS', ...opts }); }
}
export class NotModified extends PetiError {
  readonly kind = 'not-modified';
  readonly status = 304;
  constructor(message: string, opts?: PetiErrorOptions) { super(message, 'PETI_ERR_NOT_MODIFIED', opts); }
}
export class Unauthorized extends PetiError {
  readonly kind = 'unauthorized';
  readonly status = 401;
  constructor(message: string, opts?: PetiErrorOptions) { super(message, 'PETI_ERR_UNAUTHORIZED', opts); }
}
export class Forbidden extends PetiError {
  readonly kind = 'forbidden';
  readonly status = 403;
  constructor(message: string, opts?: PetiErrorOptions) { super(message, 'PETI_ERR_FORBIDDEN', opts); }
}
export class Unavailable extends PetiError {
  readonly kind = 'unavailable';
  readonly status = 503;
  constructor(message: string, opts?: PetiErrorOptions) { super(message, 'PETI_ERR_UNAVAILABLE', opts); }
}
export class NotImplemented extends PetiError {
  readonly kind = 'not-implemented';
  readonly status = 501;
  constructor(message: string, opts?: PetiErrorOptions) { super(message, 'PETI_ERR_NOT_IMPLEMENTED', opts); }
}
export class Internal extends PetiError {
  readonly kind = 'internal';
  readonly status = 500;
  constructor(message: string, opts?: PetiErrorOptions) { super(message, 'PETI_ERR_INTERNAL', opts); }
}

/** Every stable code, documented. A unit test checks codes used in src/ are listed here and unique. */
export const ERROR_CODES: Readonly<Record<string, string>> = {
  PETI_ERR_NOT_FOUND: 'a named object does not exist',
  PETI_ERR_INVALID_ARGUMENT: 'a request or input is malformed',
  PETI_ERR_CONFLICT: 'the object is in a state that forbids the operation',
  PETI_ERR_ALREADY_EXISTS: 'an object with that name already exists',
  PETI_ERR_NOT_MODIFIED: 'nothing to do: the object is already in the asked state',
  PETI_ERR_UNAUTHORIZED: 'credentials are missing or wrong',
  PETI_ERR_FORBIDDEN: 'the operation is not allowed',
  PETI_ERR_UNAVAILABLE: 'a needed service is not available',
  PETI_ERR_NOT_IMPLEMENTED: 'the feature is not implemented',
  PETI_ERR_INTERNAL: 'an unexpected failure',
  PETI_ERR_NO_SUCH_IMAGE: 'no image matches the reference',
  PETI_ERR_NO_SUCH_CONTAINER: 'no container matches the name or ID',
  PETI_ERR_IMAGE_IN_USE: 'the image is used by a container or has several references',
  PETI_ERR_BAD_REFERENCE: 'an image reference does not follow the grammar',
  PETI_ERR_UNSAFE_ARCHIVE: 'an archive entry would escape its root or exceed a limit',
  PETI_ERR_DIGEST_MISMATCH: 'content does not match its digest',
  PETI_ERR_DAEMON_LOCKED: 'another daemon holds the data root',
  PETI_ERR_BUILD_STEP_FAILED: 'a RUN step of a build exited with a non-zero code',
};

/** Status for any thrown value; the single mapping the API uses. */
export function statusOf(err: unknown): number {
  return err instanceof PetiError ? err.status : 500;
}

/** Rebuild a typed error from an HTTP status (client side). */
export function errorFromStatus(status: number, message: string): PetiError {
  switch (status) {
    case 400: return new InvalidArgument(message);
    case 401: return new Unauthorized(message);
    case 403: return new Forbidden(message);
    case 404: return new NotFound(message);
    case 409: return new Conflict(message);
    case 304: return new NotModified(message);
    case 501: return new NotImplemented(message);
    case 503: return new Unavailable(message);
    default: return new Internal(message);
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
