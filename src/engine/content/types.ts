import type { Readable } from 'node:stream';
import type { Digest } from '../../lib/digest.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface IngestExpect {
  /** When given, the ingest fails with PETI_ERR_DIGEST_MISMATCH unless the bytes hash to it. */
  digest?: Digest;
  /** When given, the ingest fails unless exactly this many bytes arrive. */
  size?: number;
  /** Most bytes accepted before the ingest is aborted (default: unlimited). */
  maxSize?: number;
}

/** Content-addressed blob store: blobs exactly as distributed, verified while streaming. */
export interface ContentStore {
  /** Stream bytes into the store, hashing as they arrive; atomic (temp + fsync + rename). An existing blob is success. */
  ingest(src: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, expect?: IngestExpect): Promise<BlobInfo>;
  /**
   * Move a complete file (on the store's file system) into the store without copying it: hashed (read only),
   * checked against `expect`, fsynced and renamed. On a mismatch the file is removed and PETI_ERR_DIGEST_MISMATCH
   * thrown. An existing blob is success (the file is then removed).
   */
  adopt(file: string, expect: IngestExpect & { digest: Digest }): Promise<BlobInfo>;
  /** Store a small in-memory blob. */
  put(data: Uint8Array | string, expect?: IngestExpect): Promise<BlobInfo>;
  /** Size of a stored blob; throws NotFound when absent. */
  info(digest: Digest): Promise<BlobInfo>;
  has(digest: Digest): Promise<boolean>;
  /** A read stream of the blob (optionally from a byte offset); throws NotFound when absent. */
  read(digest: Digest, start?: number): Promise<Readable>;
  /** The whole blob in memory: only for manifests and configs (capped). */
  readBytes(digest: Digest, maxSize?: number): Promise<Buffer>;
  /** Host path of the blob (read-only use). */
  path(digest: Digest): string;
  /** Remove a blob; absent is success. */
  delete(digest: Digest): Promise<void>;
  /** Every stored blob. */
  list(): Promise<BlobInfo[]>;
}
