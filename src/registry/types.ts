import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../lib/log.js';
import type { Grant } from './auth.js';
import type { RegistryStorage } from './storage.js';
import type { UploadSessions } from './uploads.js';

/** What a repository-scoped handler gets: the validated name, the last path segment, the caller's grant. */
export interface RepoRequest {
  req: IncomingMessage;
  res: ServerResponse;
  name: string;
  /** The path segment after the route (digest, tag or upload id), percent-decoded; '' when the route has none. */
  ref: string;
  query: URLSearchParams;
  grant: Grant;
  store: RegistryStorage;
  uploads: UploadSessions;
  log: Logger;
}
