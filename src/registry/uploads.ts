/**
 * Upload sessions: `<root>/uploads/<uuid>` holds the bytes received so far, `<uuid>.json` the owning repository.
 * The running sha256 lives in memory (Node's Hash cannot be exported); after a restart, or when a chunk had to be
 * rolled back, the partial file is re-hashed once before the next append. Completing a session ingests the file
 * into the content store with the client's digest as the expectation, so a blob appears only by rename after
 * verification and a killed server never serves a torn one.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobInfo, ContentStore } from '../engine/content/index.js';
import { writeJsonAtomic, readJson } from '../lib/atomic.js';
import type { Digest } from '../lib/digest.js';
import { PetiError } from '../lib/errors.js';
import { KeyedMutex } from '../lib/mutex.js';
import { RegistryError } from './errors.js';
import { isUploadId } from './names.js';

/** Sessions idle longer than this are removed when the server starts. */
const STALE_MS = 7 * 24 * 3600 * 1000;

interface SessionMeta {
  repo: string;
  started: string;
}

interface LiveHash {
  hash: Hash;
  size: number;
}

/** An inclusive byte range from a `Content-Range: <start>-<end>` header. */
export interface ChunkRange {
  start: number;
  end: number;
}

export interface UploadSessionsOptions {
  dir: string;
  content: ContentStore;
  /** Open sessions allowed at once; past it, POST answers TOOMANYREQUESTS. */
  maxSessions: number;
}

/** The spec's `Range: 0-<last byte>` value (distribution answers `0-0` for an empty session). */
export function rangeHeader(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}

/** Maps a content-store mismatch to the spec's DIGEST_INVALID; anything else passes through. */
export function asDigestInvalid(e: unknown): unknown {
  if (e instanceof PetiError && e.code === 'PETI_ERR_DIGEST_MISMATCH') {
    return new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', { cause: e });
  }
  return e;
}

export class UploadSessions {
  private readonly dir: string;
  private readonly content: ContentStore;
  private readonly maxSessions: number;
  private readonly live = new Map<string, LiveHash>();
  private readonly open = new Set<string>();
  private readonly locks = new KeyedMutex();

  constructor(opts: UploadSessionsOptions) {
    this.dir = opts.dir;
    this.content = opts.content;
    this.maxSessions = opts.maxSessions;
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const now = Date.now();
    for (const name of await fsp.readdir(this.dir)) {
      const id = name.endsWith('.json') ? name.slice(0, -5) : name;
      const p = join(this.dir, name);
      const st = await fsp.stat(p).catch(() => undefined);
      if (!isUploadId(id) || !st || now - st.mtimeMs > STALE_MS) await fsp.rm(p, { force: true, recursive: true });
      else if (name.endsWith('.json')) this.open.add(id);
    }
  }

  private dataPath(id: string): string {
    return join(this.dir, id);
  }

  private metaPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  async create(repo: string): Promise<string> {
    if (this.open.size >= this.maxSessions) {
      throw new RegistryError('TOOMANYREQUESTS', `too many open upload sessions (limit ${this.maxSessions})`);
    }
    const id = randomUUID();
    await fsp.writeFile(this.dataPath(id), '', { flag: 'wx', mode: 0o600 });
    await writeJsonAtomic(this.metaPath(id), { repo, started: new Date().toISOString() } satisfies SessionMeta);
    this.open.add(id);
    this.live.set(id, { hash: createHash('sha256'), size: 0 });
    return id;
  }

  /** Bytes received so far; BLOB_UPLOAD_UNKNOWN when the session is not this repository's. */
  async size(repo: string, id: string): Promise<number> {
    await this.meta(repo, id);
    return (await fsp.stat(this.dataPath(id))).size;
  }

  private async meta(repo: string, id: string): Promise<SessionMeta> {
    const m = isUploadId(id) ? await readJson<SessionMeta>(this.metaPath(id)) : undefined;
    if (!m || m.repo !== repo) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { detail: { uuid: id.slice(0, 64) } });
    return m;
  }

  /** The in-memory hash of the file's current bytes, rebuilt from the file when missing or stale. */
  private async hashOf(id: string, size: number): Promise<LiveHash> {
    const cur = this.live.get(id);
    if (cur && cur.size === size) return cur;
    const hash = createHash('sha256');
    let n = 0;
    if (size > 0) for await (const chunk of createReadStream(this.dataPath(id), { end: size - 1, highWaterMark: 1024 * 1024 })) {
      hash.update(chunk as Buffer);
      n += (chunk as Buffer).length;
    }
    const fresh = { hash, size: n };
    this.live.set(id, fresh);
    return fresh;
  }

  /**
   * Appends a chunk. With a range it must start at the current size (else 416) and deliver exactly its length
   * (else the chunk is rolled back, BLOB_UPLOAD_INVALID). Without one (Docker's streaming PATCH) every byte that
   * arrives is kept, so a client cut off mid-stream can ask for the status and resume.
   */
  async append(repo: string, id: string, body: Readable, range?: ChunkRange): Promise<number> {
    return this.locks.run(id, () => this.appendLocked(repo, id, body, range));
  }

  private async appendLocked(repo: string, id: string, body: Readable, range?: ChunkRange): Promise<number> {
    await this.meta(repo, id);
    const start = (await fsp.stat(this.dataPath(id))).size;
    if (range && (range.start !== start || range.end < range.start)) {
      body.resume();
      throw new RegistryError('BLOB_UPLOAD_INVALID', `chunk out of order: upload has ${start} bytes`, {
        status: 416,
        headers: { Range: rangeHeader(start) },
        detail: { expectedStart: start },
      });
    }
    const live = await this.hashOf(id, start);
    const before = live.hash.copy();
    let size = start;
    const fh = await fsp.open(this.dataPath(id), 'a');
    let failed: unknown;
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        if (range && size + buf.length > range.end + 1) throw new RegistryError('BLOB_UPLOAD_INVALID', 'chunk is longer than its Content-Range');
        await fh.write(buf);
        live.hash.update(buf);
        size += buf.length;
        live.size = size;
      }
      if (range && size !== range.end + 1) throw new RegistryError('BLOB_UPLOAD_INVALID', 'chunk is shorter than its Content-Range');
    } catch (e) {
      failed = e;
    } finally {
      await fh.close();
    }
    if (failed !== undefined) {
      if (range) {
        // A ranged chunk is all or nothing: the client will resend it from `start`.
        await fsp.truncate(this.dataPath(id), start);
        this.live.set(id, { hash: before, size: start });
      }
      throw failed;
    }
    return size;
  }

  /**
   * Closes the session: appends the optional final chunk, then verifies the whole upload against `digest` and
   * moves it into the content store. On a mismatch nothing is stored and the session is discarded.
   */
  async finish(repo: string, id: string, digest: Digest, finalChunk?: Readable, range?: ChunkRange): Promise<BlobInfo> {
    return this.locks.run(id, async () => {
      if (finalChunk) await this.appendLocked(repo, id, finalChunk, range);
      else await this.meta(repo, id);
      const size = (await fsp.stat(this.dataPath(id))).size;
      const live = await this.hashOf(id, size);
      const got = `sha256:${live.hash.copy().digest('hex')}`;
      if (got !== digest) {
        await this.remove(id);
        throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', { detail: { expected: digest, size } });
      }
      let info: BlobInfo;
      try {
        info = await this.content.ingest(createReadStream(this.dataPath(id), { highWaterMark: 1024 * 1024 }), { digest, size });
      } catch (e) {
        throw asDigestInvalid(e);
      }
      await this.remove(id);
      return info;
    });
  }

  async cancel(repo: string, id: string): Promise<void> {
    await this.locks.run(id, async () => {
      await this.meta(repo, id);
      await this.remove(id);
    });
  }

  private async remove(id: string): Promise<void> {
    this.open.delete(id);
    this.live.delete(id);
    await fsp.rm(this.metaPath(id), { force: true });
    await fsp.rm(this.dataPath(id), { force: true });
  }
}
