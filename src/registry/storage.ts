/**
 * The registry's on-disk state under its root:
 *   content/                         FileContentStore: every blob and manifest, verified, appearing only by rename
 *   repositories/<name>/_blobs/<hex>      empty link file: the repository may serve this blob
 *   repositories/<name>/_manifests/<hex>  link file holding the manifest's media type
 *   repositories/<name>/_tags/<tag>       the tag's manifest digest (atomic write)
 *   repositories/<name>/_referrers/<subject hex>/<hex>  manifests whose `subject` is that digest
 * Names and tags are checked against the spec grammar before they reach a path, and the `_` prefix cannot start
 * a name component, so a nested repository never collides with these folders.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { FileContentStore } from '../engine/content/index.js';
import { writeFileAtomic } from '../lib/atomic.js';
import { type Digest, hexOf, isHex64 } from '../lib/digest.js';
import { checkRepositoryName, isRepositoryName, isTag } from './names.js';

const LINK_DIRS = ['_blobs', '_manifests', '_tags'] as const;

function isEnoent(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

async function listDir(p: string): Promise<string[]> {
  try {
    return await fsp.readdir(p);
  } catch (e) {
    if (isEnoent(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
}

export class RegistryStorage {
  readonly root: string;
  readonly content: FileContentStore;
  private readonly repos: string;

  constructor(root: string) {
    this.root = root;
    this.content = new FileContentStore(join(root, 'content'));
    this.repos = join(root, 'repositories');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.repos, { recursive: true, mode: 0o700 });
    await this.content.init();
  }

  private dir(name: string, ...parts: string[]): string {
    return join(this.repos, checkRepositoryName(name), ...parts);
  }

  async repositoryExists(name: string): Promise<boolean> {
    for (const d of LINK_DIRS) if (await exists(this.dir(name, d))) return true;
    return false;
  }

  /** Every repository, sorted as Go's sort.Strings (code-unit order), as the catalog must be. */
  async listRepositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await listDir(join(this.repos, rel));
      if (rel !== '' && entries.some((e) => (LINK_DIRS as readonly string[]).includes(e))) out.push(rel);
      for (const e of entries) {
        if (e.startsWith('_') || e.startsWith('.')) continue;
        const child = rel === '' ? e : `${rel}/${e}`;
        if (!isRepositoryName(child)) continue;
        const st = await fsp.stat(join(this.repos, child)).catch(() => undefined);
        if (st?.isDirectory()) await walk(child);
      }
    };
    await walk('');
    return out.sort();
  }

  // Blob links

  async linkBlob(name: string, digest: Digest): Promise<void> {
    const d = this.dir(name, '_blobs');
    await fsp.mkdir(d, { recursive: true, mode: 0o700 });
    await fsp.writeFile(join(d, hexOf(digest)), '', { mode: 0o600 });
  }

  /** True when the repository owns the blob (uploaded, mounted, or a manifest of it) and the content is present. */
  async hasBlob(name: string, digest: Digest): Promise<boolean> {
    const hex = hexOf(digest);
    const linked = (await exists(this.dir(name, '_blobs', hex))) || (await exists(this.dir(name, '_manifests', hex)));
    return linked && (await this.content.has(digest));
  }

  /** Removes the repository's claim on a blob; false when it had none. */
  async unlinkBlob(name: string, digest: Digest): Promise<boolean> {
    try {
      await fsp.unlink(this.dir(name, '_blobs', hexOf(digest)));
      return true;
    } catch (e) {
      if (isEnoent(e)) return false;
      throw e;
    }
  }

  async listBlobLinks(name: string): Promise<Digest[]> {
    return (await listDir(this.dir(name, '_blobs'))).filter(isHex64).map((h) => `sha256:${h}` as Digest);
  }

  // Manifests

  /** Links a stored manifest into the repository (its media type kept for GET), and under its subject's referrers. */
  async linkManifest(name: string, digest: Digest, mediaType: string, subject?: Digest): Promise<void> {
    const d = this.dir(name, '_manifests');
    await fsp.mkdir(d, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(d, hexOf(digest)), mediaType);
    if (subject !== undefined) {
      const r = this.dir(name, '_referrers', hexOf(subject));
      await fsp.mkdir(r, { recursive: true, mode: 0o700 });
      await fsp.writeFile(join(r, hexOf(digest)), '', { mode: 0o600 });
    }
  }

  /** The media type the manifest was pushed with, or undefined when the repository has no such manifest. */
  async manifestMediaType(name: string, digest: Digest): Promise<string | undefined> {
    try {
      return await fsp.readFile(this.dir(name, '_manifests', hexOf(digest)), 'utf8');
    } catch (e) {
      if (isEnoent(e)) return undefined;
      throw e;
    }
  }

  async listManifests(name: string): Promise<Digest[]> {
    return (await listDir(this.dir(name, '_manifests'))).filter(isHex64).map((h) => `sha256:${h}` as Digest);
  }

  /** Unlinks a manifest, every tag that points at it, and its referrer entry. False when it was not linked. */
  async unlinkManifest(name: string, digest: Digest, subject?: Digest): Promise<boolean> {
    for (const [tag, target] of await this.tags(name)) if (target === digest) await this.deleteTag(name, tag);
    if (subject !== undefined) await fsp.rm(this.dir(name, '_referrers', hexOf(subject), hexOf(digest)), { force: true });
    try {
      await fsp.unlink(this.dir(name, '_manifests', hexOf(digest)));
      return true;
    } catch (e) {
      if (isEnoent(e)) return false;
      throw e;
    }
  }

  async referrers(name: string, subject: Digest): Promise<Digest[]> {
    return (await listDir(this.dir(name, '_referrers', hexOf(subject)))).filter(isHex64).map((h) => `sha256:${h}` as Digest);
  }

  // Tags

  async setTag(name: string, tag: string, digest: Digest): Promise<void> {
    if (!isTag(tag)) throw new Error(`invalid tag ${JSON.stringify(tag)}`);
    const d = this.dir(name, '_tags');
    await fsp.mkdir(d, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(d, tag), digest);
  }

  async resolveTag(name: string, tag: string): Promise<Digest | undefined> {
    if (!isTag(tag)) return undefined;
    try {
      const v = (await fsp.readFile(this.dir(name, '_tags', tag), 'utf8')).trim();
      return /^sha256:[a-f0-9]{64}$/.test(v) ? (v as Digest) : undefined;
    } catch (e) {
      if (isEnoent(e)) return undefined;
      throw e;
    }
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    if (!isTag(tag)) return false;
    try {
      await fsp.unlink(this.dir(name, '_tags', tag));
      return true;
    } catch (e) {
      if (isEnoent(e)) return false;
      throw e;
    }
  }

  /** Tag → digest pairs, sorted by tag in code-unit order. */
  async tags(name: string): Promise<Array<[string, Digest]>> {
    const out: Array<[string, Digest]> = [];
    for (const t of (await listDir(this.dir(name, '_tags'))).filter(isTag).sort()) {
      const d = await this.resolveTag(name, t);
      if (d !== undefined) out.push([t, d]);
    }
    return out;
  }
}
