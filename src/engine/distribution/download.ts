import { createHash, type Hash } from 'node:crypto';
import { createReadStream, openSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { type Digest, hexOf } from '../../lib/digest.js';
import { PetiError, messageOf } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { ContentStore } from '../content/index.js';
import type { GrowState, GrowingFile } from '../snapshots/index.js';
import { RegistryHttpError, digestError } from './errors.js';
import type { RegistrySession } from './session.js';

export interface BlobRequest {
  session: RegistrySession;
  /** Repository path on the registry (`library/busybox`). */
  repo: string;
  digest: Digest;
  size: number;
  signal?: AbortSignal;
  /** Bytes received so far (including bytes kept from an earlier attempt). */
  onProgress?: (current: number, total: number) => void;
  /** Called once this request's download has its partial file open: from then on follow() can read it. */
  onStart?: () => void;
}

/** A download in progress, as followers see it. */
class Growth {
  state: GrowState;
  private readonly watchers = new Set<() => void>();
  constructor(readonly path: string, size: number) {
    this.state = { size, done: false };
  }
  set(s: Partial<GrowState>): void {
    if (this.state.done || this.state.error !== undefined) return;
    this.state = { ...this.state, ...s };
    for (const w of [...this.watchers]) w();
  }
  watch(cb: () => void): () => void {
    this.watchers.add(cb);
    return () => { this.watchers.delete(cb); };
  }
}

/** Attempts per blob; each one resumes from the bytes already on disk. */
const MAX_ATTEMPTS = 5;

/**
 * Downloads blobs into `partialDir/<hex>` and, once complete and verified, ingests them into the content store.
 * A connection cut mid-body is resumed with `Range: bytes=N-` (in this pull, or in the next one: partial files
 * survive a failed pull and a daemon restart). Two pulls asking for the same blob share one download.
 */
export class BlobDownloader {
  private readonly inflight = new Map<Digest, Promise<void>>();
  private readonly growing = new Map<Digest, Growth>();

  constructor(private readonly d: { partialDir: string; content: ContentStore; log: Logger }) {}

  async init(): Promise<void> {
    await fsp.mkdir(this.d.partialDir, { recursive: true, mode: 0o700 });
  }

  /** Make the blob present in the content store. Throws PETI_ERR_DIGEST_MISMATCH when the bytes do not verify. */
  async fetch(r: BlobRequest): Promise<void> {
    if (await this.d.content.has(r.digest)) return;
    const running = this.inflight.get(r.digest);
    if (running) return running;
    const p = this.download(r).finally(() => this.inflight.delete(r.digest));
    this.inflight.set(r.digest, p);
    return p;
  }

  /**
   * The blob's partial file while its download runs, to read as it grows (the stream ends once the bytes are
   * verified; it fails if the download fails or restarts from zero). The caller closes `fd`. Undefined when no
   * download of it runs (any more).
   */
  follow(digest: Digest): GrowingFile | undefined {
    const g = this.growing.get(digest);
    if (!g || g.state.done || g.state.error !== undefined) return undefined;
    let fd: number;
    try {
      fd = openSync(g.path, 'r');
    } catch {
      return undefined;
    }
    return { fd, state: () => g.state, watch: (cb) => g.watch(cb) };
  }

  private async download(r: BlobRequest): Promise<void> {
    const path = join(this.d.partialDir, hexOf(r.digest));
    const st: State = { have: 0, hash: createHash('sha256') };
    try {
      st.have = (await fsp.stat(path)).size;
    } catch {
      st.have = 0;
    }
    if (st.have > r.size) {
      await fsp.rm(path, { force: true });
      st.have = 0;
    }
    if (st.have > 0) {
      for await (const c of createReadStream(path, { end: st.have - 1 })) st.hash.update(c as Buffer);
      this.d.log.debug('resuming blob download', { digest: r.digest, have: st.have });
    }
    const fh = await fsp.open(path, st.have > 0 ? 'r+' : 'w', 0o600);
    const growth = new Growth(path, st.have);
    st.growth = growth;
    this.growing.set(r.digest, growth);
    r.onStart?.();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.attempt(r, fh, st);
          if (st.have >= r.size) break;
          throw new Error(`connection closed after ${st.have} of ${r.size} bytes`);
        } catch (e) {
          if (e instanceof RegistryHttpError || e instanceof PetiError || r.signal?.aborted || attempt >= MAX_ATTEMPTS) throw e;
          this.d.log.info('blob download interrupted, resuming', { digest: r.digest, have: st.have, attempt, error: messageOf(e) });
          await new Promise((res) => setTimeout(res, 100 * attempt));
        }
      }
      await fh.sync();
      const got = `sha256:${st.hash.digest('hex')}`;
      if (got !== r.digest || st.have !== r.size) {
        await fsp.rm(path, { force: true });
        throw digestError(`filesystem layer verification failed for digest ${r.digest}: got ${got}`);
      }
      // Verified: followers may finish (and commit what they unpacked) while the file moves into the store.
      growth.set({ done: true });
    } catch (e) {
      growth.set({ error: messageOf(e) });
      throw e;
    } finally {
      this.growing.delete(r.digest);
      await fh.close();
    }
    await this.d.content.adopt(path, { digest: r.digest, size: r.size });
  }

  /** One GET from `st.have` on. A 200 to a range request (the server ignored Range) restarts from zero. */
  private async attempt(r: BlobRequest, fh: fsp.FileHandle, st: State): Promise<void> {
    if (st.have === r.size && r.size > 0) return;
    const headers = st.have > 0 ? { Range: `bytes=${st.have}-` } : {};
    const res = await r.session.request('GET', `/v2/${r.repo}/blobs/${r.digest}`, { headers, signal: r.signal });
    const code = res.statusCode ?? 0;
    if (code !== 200 && code !== 206) await r.session.fail(res, `blob ${r.digest}`);
    if (code === 200 && st.have > 0) {
      // The server ignored Range: start over; a follower that read the old bytes cannot go on.
      st.growth?.set({ error: 'download restarted from the first byte' });
      await fh.truncate(0);
      st.have = 0;
      st.hash = createHash('sha256');
    }
    if (code === 206) {
      const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== st.have) {
        res.destroy();
        throw new RegistryHttpError(code, [], `blob ${r.digest}: Content-Range does not start at ${st.have}`);
      }
    }
    let last = 0;
    for await (const chunk of res) {
      const b = chunk as Buffer;
      if (st.have + b.length > r.size) {
        res.destroy();
        await fsp.rm(join(this.d.partialDir, hexOf(r.digest)), { force: true });
        throw digestError(`filesystem layer verification failed for digest ${r.digest}: more than ${r.size} bytes`);
      }
      await fh.write(b, 0, b.length, st.have);
      st.hash.update(b);
      st.have += b.length;
      st.growth?.set({ size: st.have });
      const now = Date.now();
      if (now - last > 100 || st.have === r.size) {
        last = now;
        r.onProgress?.(st.have, r.size);
      }
    }
  }
}

interface State {
  have: number;
  hash: Hash;
  growth?: Growth;
}
