import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type Digest, hexOf, isHex64, parseDigest } from '../../lib/digest.js';
import { InvalidArgument, NotFound } from '../../lib/errors.js';
import { fsyncDir } from '../../lib/atomic.js';
import type { BlobInfo, ContentStore, IngestExpect } from './types.js';

/** Manifests and configs are small; a cap keeps a hostile one from filling memory. */
const DEFAULT_READ_CAP = 16 * 1024 * 1024;

export class FileContentStore implements ContentStore {
  private readonly blobs: string;
  private readonly ingestDir: string;

  constructor(root: string) {
    this.blobs = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.blobs, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.ingestDir, { recursive: true, mode: 0o700 });
    // Leftovers of an ingest cut short by a crash are never valid blobs.
    for (const name of await fsp.readdir(this.ingestDir)) await fsp.rm(join(this.ingestDir, name), { force: true });
  }

  path(digest: Digest): string {
    return join(this.blobs, hexOf(parseDigest(digest)));
  }

  async ingest(src: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, expect: IngestExpect = {}): Promise<BlobInfo> {
    const tmp = join(this.ingestDir, randomBytes(12).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    const fh = await fsp.open(tmp, 'wx', 0o600);
    try {
      for await (const chunk of src) {
        const buf = chunk as Uint8Array;
        size += buf.length;
        if (expect.maxSize !== undefined && size > expect.maxSize) {
          throw new InvalidArgument(`content exceeds the limit of ${expect.maxSize} bytes`, { code: 'PETI_ERR_UNSAFE_ARCHIVE' });
        }
        if (expect.size !== undefined && size > expect.size) {
          throw new InvalidArgument(`content is larger than the expected ${expect.size} bytes`, { code: 'PETI_ERR_DIGEST_MISMATCH' });
        }
        hash.update(buf);
        await fh.write(buf);
      }
      await fh.sync();
    } catch (e) {
      await fh.close();
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    const digest = `sha256:${hash.digest('hex')}` as Digest;
    try {
      this.check(digest, size, expect);
      await fsp.rename(tmp, join(this.blobs, hexOf(digest)));
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    await fsyncDir(this.blobs);
    return { digest, size };
  }

  async adopt(file: string, expect: IngestExpect & { digest: Digest }): Promise<BlobInfo> {
    const hash = createHash('sha256');
    let size = 0;
    try {
      const fh = await fsp.open(file, 'r');
      try {
        const buf = Buffer.allocUnsafe(1024 * 1024);
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, size);
          if (bytesRead === 0) break;
          hash.update(buf.subarray(0, bytesRead));
          size += bytesRead;
          if (expect.size !== undefined && size > expect.size) break;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = `sha256:${hash.digest('hex')}` as Digest;
      this.check(digest, size, expect);
      try {
        await fsp.rename(file, join(this.blobs, hexOf(digest)));
      } catch (e) {
        // Another file system: copy after all.
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
        await this.ingest(createReadStream(file, { highWaterMark: 1024 * 1024 }), expect);
        await fsp.rm(file, { force: true });
        return { digest, size };
      }
      await fsyncDir(this.blobs);
      return { digest, size };
    } catch (e) {
      await fsp.rm(file, { force: true });
      throw e;
    }
  }

  async put(data: Uint8Array | string, expect?: IngestExpect): Promise<BlobInfo> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = `sha256:${createHash('sha256').update(buf).digest('hex')}` as Digest;
    this.check(digest, buf.length, expect ?? {});
    if (await this.has(digest)) return { digest, size: buf.length };
    return this.ingest([buf], expect);
  }

  private check(digest: Digest, size: number, expect: IngestExpect): void {
    if (expect.digest !== undefined && expect.digest !== digest) {
      throw new InvalidArgument(`digest mismatch: expected ${expect.digest}, got ${digest}`, { code: 'PETI_ERR_DIGEST_MISMATCH' });
    }
    if (expect.size !== undefined && expect.size !== size) {
      throw new InvalidArgument(`size mismatch for ${digest}: expected ${expect.size}, got ${size}`, { code: 'PETI_ERR_DIGEST_MISMATCH' });
    }
  }

  async info(digest: Digest): Promise<BlobInfo> {
    try {
      const st = await fsp.stat(this.path(digest));
      return { digest, size: st.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFound(`blob ${digest} not found`);
      throw e;
    }
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      await fsp.access(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  async read(digest: Digest, start = 0): Promise<Readable> {
    await this.info(digest);
    return createReadStream(this.path(digest), { start, highWaterMark: 1024 * 1024 });
  }

  async readBytes(digest: Digest, maxSize = DEFAULT_READ_CAP): Promise<Buffer> {
    const { size } = await this.info(digest);
    if (size > maxSize) throw new InvalidArgument(`blob ${digest} is larger than ${maxSize} bytes`);
    return fsp.readFile(this.path(digest));
  }

  async delete(digest: Digest): Promise<void> {
    await fsp.rm(this.path(digest), { force: true });
  }

  async list(): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    for (const name of await fsp.readdir(this.blobs)) {
      if (!isHex64(name)) continue;
      const st = await fsp.stat(join(this.blobs, name));
      out.push({ digest: `sha256:${name}`, size: st.size });
    }
    return out;
  }
}
