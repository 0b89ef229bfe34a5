import type { Readable } from 'node:stream';
import { type Digest, chainIds, isDigest } from '../../lib/digest.js';
import { Conflict, InvalidArgument, NotFound, messageOf } from '../../lib/errors.js';
import { Mutex } from '../../lib/mutex.js';
import type { Logger } from '../../lib/log.js';
import { familiarName, formatFull, looksLikeId, parseReference, withDefaultTag } from '../../lib/reference.js';
import type { ImageConfig } from '../../lib/oci/types.js';
import type { ContentStore } from '../content/index.js';
import type { EventBus } from '../events/index.js';
import type { ApplyFileFn, ApplyLimits, Snapshotter } from '../snapshots/index.js';
import { ImageStore } from './store.js';
import { Unpacker } from './unpack.js';
import { matchImage } from './filters.js';
import { markLive } from './gc.js';
import type {
  Image, ImageRecord, ImageService, ImageUsers, ImportOptions, ListOptions, LoadResult, ProgressFn,
  RemoveOptions, RemoveResult,
} from './types.js';
import { importRootfs } from './import.js';
import { saveImages } from './save.js';
import { loadArchive } from './load.js';

export interface ImageServiceDeps {
  root: string;
  content: ContentStore;
  snapshots: Snapshotter;
  applyFile: ApplyFileFn;
  limits?: ApplyLimits;
  events: EventBus;
  log: Logger;
  tmpDir: string;
}

/** Normalise a user reference to the full form used as a key (`docker.io/library/busybox:latest`). */
export function normalizeRef(s: string): string {
  return formatFull(withDefaultTag(parseReference(s)));
}

export class LocalImageService implements ImageService {
  readonly store: ImageStore;
  readonly unpacker: Unpacker;
  /** Serialises every change to records, refs and GC. */
  readonly lock = new Mutex();
  private users: ImageUsers = { containersUsing: () => [], pinnedSnapshots: () => [] };
  private readonly extraPins: (() => string[])[] = [];
  /** Blobs written by operations in flight: GC must not collect them (a lease). */
  private readonly leased = new Map<Digest, number>();

  constructor(readonly d: ImageServiceDeps) {
    this.store = new ImageStore(d.root, d.content);
    this.unpacker = new Unpacker({ content: d.content, snapshots: d.snapshots, applyFile: d.applyFile, log: d.log, limits: d.limits });
  }

  async init(): Promise<void> {
    await this.store.init();
  }

  setUsers(u: ImageUsers): void {
    this.users = u;
  }

  /** More snapshot roots from another service (the build cache): GC keeps them and their parents. */
  addPinned(fn: () => string[]): void {
    this.extraPins.push(fn);
  }

  lease(digests: Iterable<Digest>): () => void {
    const held = [...digests];
    for (const d of held) this.leased.set(d, (this.leased.get(d) ?? 0) + 1);
    return () => {
      for (const d of held) {
        const n = (this.leased.get(d) ?? 1) - 1;
        if (n <= 0) this.leased.delete(d);
        else this.leased.set(d, n);
      }
    };
  }

  private view(rec: ImageRecord): Image {
    return { ...rec, config: this.store.configs.get(rec.id)!, repoTags: this.store.tagsOf(rec.id) };
  }

  /** Resolve to a record without throwing; order as Docker: full ID, reference, then ID prefix. */
  resolve(nameOrId: string): ImageRecord | undefined {
    const s = nameOrId.trim();
    const full = s.startsWith('sha256:') ? s : `sha256:${s}`;
    if (isDigest(full)) {
      const r = this.store.records.get(full);
      if (r) return r;
    }
    let ref: string | undefined;
    try {
      const parsed = parseReference(s);
      if (parsed.digest && !parsed.tag) {
        const name = formatFull({ ...parsed, digest: undefined, tag: undefined });
        for (const rec of this.store.records.values()) if (rec.repoDigests.includes(`${name}@${parsed.digest}`)) return rec;
      }
      ref = formatFull(withDefaultTag(parsed));
    } catch {
      ref = undefined;
    }
    if (ref !== undefined) {
      const id = this.store.refs.get(ref);
      if (id) return this.store.records.get(id);
    }
    if (looksLikeId(s) || /^sha256:[a-f0-9]{1,64}$/.test(s)) {
      const prefix = full;
      const hits = [...this.store.records.keys()].filter((k) => k.startsWith(prefix));
      if (hits.length === 1) return this.store.records.get(hits[0]!);
    }
    return undefined;
  }

  async get(nameOrId: string): Promise<Image> {
    const rec = this.resolve(nameOrId);
    if (!rec) throw new NotFound(`No such image: ${nameOrId}`, { code: 'PETI_ERR_NO_SUCH_IMAGE' });
    return this.view(rec);
  }

  async list(opts: ListOptions = {}): Promise<Image[]> {
    const all = [...this.store.records.values()].map((r) => this.view(r));
    const parents = new Set(all.map((i) => i.parent).filter((p): p is Digest => p !== undefined));
    const resolveId = (s: string): Image | undefined => {
      const r = this.resolve(s);
      if (!r) throw new NotFound(`No such image: ${s}`, { code: 'PETI_ERR_NO_SUCH_IMAGE' });
      return this.view(r);
    };
    const refPatterns = opts.filters?.reference ?? [];
    return all
      .filter((i) => opts.all || i.repoTags.length > 0 || !parents.has(i.id))
      .filter((i) => matchImage(i, opts.filters ?? {}, resolveId))
      // Docker shows only the tags the reference filter matched.
      .map((i) => (refPatterns.length ? { ...i, repoTags: i.repoTags.filter((t) => refPatterns.some((p) => matchImage({ ...i, repoTags: [t] }, { reference: [p] }, resolveId))) } : i))
      .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  async history(nameOrId: string): Promise<{ id: string; created: string; createdBy: string; size: number; comment: string; tags: string[] }[]> {
    const img = await this.get(nameOrId);
    const hist = img.config.history ?? [];
    const sizes = await this.layerSizes(img);
    const out: { id: string; created: string; createdBy: string; size: number; comment: string; tags: string[] }[] = [];
    let layer = 0;
    for (const h of hist) {
      const empty = h.empty_layer === true;
      out.push({ id: '<missing>', created: h.created ?? '', createdBy: h.created_by ?? '', size: empty ? 0 : sizes[layer] ?? 0, comment: h.comment ?? '', tags: [] });
      if (!empty) layer++;
    }
    if (out.length === 0) out.push({ id: '<missing>', created: img.created, createdBy: '', size: img.size, comment: '', tags: [] });
    // Docker shows the image's own ID and tags on the newest entry.
    const top = out[out.length - 1]!;
    top.id = img.id;
    top.tags = img.repoTags.map((r) => familiarName(parseReference(r)));
    return out.reverse();
  }

  private async layerSizes(img: Image): Promise<number[]> {
    const sizes: number[] = [];
    for (const c of chainIds(img.diffIds)) {
      try {
        const info = await this.d.snapshots.stat(c);
        sizes.push(Number(info.labels['peti.size'] ?? 0));
      } catch {
        sizes.push(0);
      }
    }
    return sizes;
  }

  async tag(source: string, target: string): Promise<void> {
    const img = await this.get(source);
    const parsed = parseReference(target);
    if (parsed.digest) throw new InvalidArgument('refusing to create a tag with a digest reference');
    const ref = formatFull(withDefaultTag(parsed));
    const touch = async (): Promise<void> => {
      const rec = this.store.records.get(img.id);
      if (rec) await this.store.putRecord({ ...rec, lastTagTime: new Date().toISOString() }, img.config);
    };
    if (this.store.refs.get(ref) === img.id) {
      // Already so (a rebuild's tag): only LastTagTime changes, written in its turn without holding up the caller.
      this.lock.run(touch).catch((e: unknown) => this.d.log.warn('image record not written', { id: img.id, err: messageOf(e) }));
    } else {
      await this.lock.run(async () => {
        await this.store.setRef(ref, img.id);
        await touch();
      });
    }
    this.d.events.emit('image', 'tag', img.id, { name: familiarName(parsed) });
  }

  async remove(nameOrId: string, opts: RemoveOptions = {}): Promise<RemoveResult> {
    return this.lock.run(() => this.removeLocked(nameOrId, opts));
  }

  private async removeLocked(nameOrId: string, opts: RemoveOptions): Promise<RemoveResult> {
    const rec = this.resolve(nameOrId);
    if (!rec) throw new NotFound(`No such image: ${nameOrId}`, { code: 'PETI_ERR_NO_SUCH_IMAGE' });
    const short = rec.id.slice(7, 19);
    const tags = this.store.tagsOf(rec.id);
    const result: RemoveResult = { untagged: [], deleted: [] };
    let byRef: string | undefined;
    try {
      const ref = normalizeRef(nameOrId);
      if (this.store.refs.get(ref) === rec.id) byRef = ref;
    } catch {
      byRef = undefined;
    }
    const users = this.users.containersUsing(rec.id);
    if (byRef !== undefined && (tags.length > 1 || (users.length > 0 && !opts.force))) {
      if (tags.length === 1 && users.length > 0) {
        throw new Conflict(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${users[0]!.slice(0, 12)} is using its referenced image ${short}`, { code: 'PETI_ERR_IMAGE_IN_USE' });
      }
      // Removing one of several tags only untags (Docker's rule).
      await this.store.deleteRef(byRef);
      result.untagged.push(familiarName(parseReference(byRef)));
      this.d.events.emit('image', 'untag', rec.id, { name: familiarName(parseReference(byRef)) });
      return result;
    }
    if (byRef === undefined && tags.length > 1 && !opts.force) {
      throw new Conflict(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`, { code: 'PETI_ERR_IMAGE_IN_USE' });
    }
    if (users.length > 0) {
      const msg = opts.force
        ? `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container ${users[0]!.slice(0, 12)}`
        : `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${users[0]!.slice(0, 12)}`;
      throw new Conflict(msg, { code: 'PETI_ERR_IMAGE_IN_USE' });
    }
    for (const t of tags) {
      await this.store.deleteRef(t);
      const fam = familiarName(parseReference(t));
      result.untagged.push(fam);
      this.d.events.emit('image', 'untag', rec.id, { name: fam });
    }
    for (const rd of rec.repoDigests) result.untagged.push(familiarName(parseReference(rd)));
    const children = [...this.store.records.values()].filter((r) => r.parent === rec.id);
    if (children.length > 0 && !opts.force) {
      // Docker keeps a parent that still has children; it only loses its tags.
      if (tags.length === 0) throw new Conflict(`conflict: unable to delete ${short} (cannot be forced) - image has dependent child images`, { code: 'PETI_ERR_IMAGE_IN_USE' });
      return result;
    }
    await this.store.deleteRecord(rec.id);
    result.deleted.push(rec.id);
    this.d.events.emit('image', 'delete', rec.id, { name: rec.id });
    if (!opts.noPrune && rec.parent) {
      const parent = this.store.records.get(rec.parent);
      if (parent && this.store.tagsOf(parent.id).length === 0 && ![...this.store.records.values()].some((r) => r.parent === parent.id)) {
        const more = await this.removeLocked(parent.id, { noPrune: false });
        result.deleted.push(...more.deleted);
      }
    }
    await this.gcLocked();
    return result;
  }

  /** Remove blobs and snapshots nothing references any more. Call under `lock`. */
  async gcLocked(): Promise<number> {
    const live = markLive({
      images: [...this.store.records.values()],
      pinnedSnapshots: [...this.users.pinnedSnapshots(), ...this.extraPins.flatMap((f) => f())],
      leased: [...this.leased.keys()],
    });
    let reclaimed = 0;
    for (const b of await this.d.content.list()) {
      if (!live.blobs.has(b.digest)) {
        await this.d.content.delete(b.digest);
        reclaimed += b.size;
      }
    }
    // Remove dead snapshots leaves-first: a parent can only go once its children are gone.
    const snaps: { key: string; parent?: string; kind: string; size: number }[] = [];
    await this.d.snapshots.walk((i) => {
      snaps.push({ key: i.key, parent: i.parent, kind: i.kind, size: Number(i.labels['peti.size'] ?? 0) });
    });
    let dead = snaps.filter((s) => s.kind === 'committed' && !live.snapshots.has(s.key));
    let progress = true;
    while (dead.length > 0 && progress) {
      progress = false;
      const parents = new Set(snaps.map((s) => s.parent));
      for (const s of dead) {
        if (parents.has(s.key)) continue;
        await this.d.snapshots.remove(s.key);
        reclaimed += s.size;
        snaps.splice(snaps.indexOf(s), 1);
        progress = true;
      }
      dead = dead.filter((s) => snaps.includes(s));
    }
    return reclaimed;
  }

  async import(src: Readable, opts: ImportOptions, progress?: ProgressFn): Promise<Digest> {
    return importRootfs(this, src, opts, progress);
  }

  async save(names: string[]): Promise<Readable> {
    return saveImages(this, names);
  }

  async load(src: Readable, progress?: ProgressFn): Promise<LoadResult> {
    return loadArchive(this, src, progress);
  }

  /**
   * Register an image whose blobs are in the content store: unpack its layers, write the record, set the tag.
   * Shared by import, load, pull, build and commit.
   */
  async register(rec: Omit<ImageRecord, 'size'>, config: ImageConfig, reference?: string): Promise<Image> {
    const sizes = await this.unpacker.unpack(rec.layers, rec.diffIds);
    const full: ImageRecord = { ...rec, size: sizes.reduce((a, b) => a + b, 0) };
    let oldId: Digest | undefined;
    await this.lock.run(async () => {
      const prev = this.store.records.get(full.id);
      const merged = prev ? { ...full, repoDigests: [...new Set([...prev.repoDigests, ...full.repoDigests])], parent: prev.parent ?? full.parent } : full;
      await this.store.putRecord(merged, config);
      if (reference) {
        oldId = this.store.refs.get(reference);
        await this.store.setRef(reference, full.id);
      }
    });
    if (reference) this.d.events.emit('image', 'tag', full.id, { name: familiarName(parseReference(reference)) });
    if (oldId && oldId !== full.id) this.d.log.debug('tag moved', { reference, from: oldId, to: full.id });
    return this.get(full.id);
  }

  async prune(opts: { all?: boolean; filters?: Record<string, string[]> }): Promise<{ deleted: RemoveResult; reclaimed: number }> {
    const filters = { ...(opts.filters ?? {}) };
    const danglingOnly = !(opts.all || (filters.dangling ?? []).some((v) => v === 'false' || v === '0'));
    delete filters.dangling;
    const out: RemoveResult = { untagged: [], deleted: [] };
    let reclaimed = 0;
    for (const img of await this.list({ all: true, filters })) {
      if (danglingOnly && img.repoTags.length > 0) continue;
      if (this.users.containersUsing(img.id).length > 0) continue;
      if (!this.store.records.has(img.id)) continue;
      try {
        const before = img.size;
        const r = await this.lock.run(async () => {
          const res: RemoveResult = { untagged: [], deleted: [] };
          for (const t of this.store.tagsOf(img.id)) {
            await this.store.deleteRef(t);
            res.untagged.push(familiarName(parseReference(t)));
          }
          const rr = await this.removeLocked(img.id, { force: true });
          res.deleted.push(...rr.deleted);
          return res;
        });
        out.untagged.push(...r.untagged);
        out.deleted.push(...r.deleted);
        if (r.deleted.length) reclaimed += before;
      } catch (e) {
        if (!(e instanceof Conflict)) throw e;
      }
    }
    this.d.events.emit('image', 'prune', '', { reclaimed: String(reclaimed) });
    return { deleted: out, reclaimed };
  }
}
