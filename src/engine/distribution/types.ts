import type { Digest } from '../../lib/digest.js';

/** Credentials as the docker CLI sends them in `X-Registry-Auth` (base64url JSON) and in `POST /auth`. */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64 `user:pass` (config.json style); used when username/password are absent. */
  auth?: string;
  serveraddress?: string;
  /** A refresh token from an earlier login (OAuth2 `refresh_token` grant). */
  identitytoken?: string;
  /** A bearer token to send as is. */
  registrytoken?: string;
}

/**
 * One progress message of a pull or push. The API renders it as Docker's JSON (`status`, `id`,
 * `progressDetail`, `progress`, `aux`), the CLI as lines or bars.
 */
export interface DistProgress {
  status?: string;
  /** Layer short ID (12 hex), or the tag for the `Pulling from` line. */
  id?: string;
  current?: number;
  total?: number;
  aux?: { Tag: string; Digest: Digest; Size: number };
}

export type DistProgressFn = (p: DistProgress) => void;

export interface PullOptions {
  /** A user reference (`busybox`, `127.0.0.1:5000/x:1`, `x@sha256:...`); name-only with `allTags`. */
  reference: string;
  /** Pull every tag of the repository (`docker pull -a`). */
  allTags?: boolean;
  /** `os/arch[/variant]`; default: the host's. */
  platform?: string;
  auth?: AuthConfig;
  signal?: AbortSignal;
}

export interface PullResult {
  /** Image IDs pulled, one per tag. */
  ids: Digest[];
}

export interface PushOptions {
  /** Repository name, optionally with a tag (`127.0.0.1:5000/x:1`). */
  name: string;
  /** Tag to push; empty with a name-only `name` pushes every local tag of the repository. */
  tag?: string;
  auth?: AuthConfig;
  signal?: AbortSignal;
}

export interface LoginResult {
  status: 'Login Succeeded';
  identityToken: string;
}

/** The daemon's registry client: pull, push, and the login check. */
export interface RegistryClient {
  /**
   * Pull an image (or every tag) into the local store, reporting Docker-style progress. Throws NotFound with
   * Docker's wording for a missing repository or manifest, Unauthorized for rejected credentials, Unavailable when
   * the registry cannot be reached, InvalidArgument (PETI_ERR_DIGEST_MISMATCH) for content that fails verification
   * (nothing is recorded then).
   */
  pull(opts: PullOptions, progress: DistProgressFn): Promise<PullResult>;
  /** Push one tag (or every tag of a repository) with its blobs; throws NotFound when no such local tag exists. */
  push(opts: PushOptions, progress: DistProgressFn): Promise<void>;
  /** Check credentials against a registry (`docker login`); throws Unauthorized with Docker's message on failure. */
  login(auth: AuthConfig): Promise<LoginResult>;
}
