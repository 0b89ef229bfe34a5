import type { Readable } from 'node:stream';
import { type Digest, hexOf } from '../../lib/digest.js';
import { NotFound } from '../../lib/errors.js';
import { TarWriter } from '../../lib/tar/writer.js';
import { type Descriptor, type Index, MediaType } from '../../lib/oci/types.js';
import { familiarName, familiarRepoName, formatFull, parseReference } from '../../lib/reference.js';
import type { LocalImageService } from './service.js';

interface Selected {
  id: Digest;
  refs: string[];
}

/** Which images a list of names means; a repository without a tag means all its tags (as Docker does). */
function select(svc: LocalImageService, names: string[]): Selected[] {
  const byId = new Map<Digest, Set<string>>();
  const add = (id: Digest, ref?: string): void => {
    const s = byId.get(id) ?? new Set<string>();
    if (ref) s.add(ref);
    byId.set(id, s);
  };
  for (const name of names) {
    let ref: ReturnType<typeof parseReference> | undefined;
    try {
      ref = parseReference(name);
    } catch {
      ref = undefined;
    }
    if (ref && !ref.tag && !ref.digest) {
      const repo = formatFull(ref);
      const tags = [...svc.store.refs.keys()].filter((r) => r.startsWith(`${repo}:`));
      if (tags.length > 0) {
        for (const t of tags) add(svc.store.refs.get(t)!, t);
        continue;
      }
    }
    const rec = svc.resolve(name);
    if (!rec) throw new NotFound(`No such image: ${name}`, { code: 'PETI_ERR_NO_SUCH_IMAGE' });
    const full = ref && ref.tag ? formatFull(ref) : undefined;
    add(rec.id, full && svc.store.refs.get(full) === rec.id ? full : undefined);
  }
  return [...byId].map(([id, refs]) => ({ id, refs: [...refs].sort() }));
}

/** `docker save`: the Docker 25+ archive (OCI layout + manifest.json + repositories), streamed. */
export async function saveImages(svc: LocalImageService, names: string[]): Promise<Readable> {
  for (const n of names) await svc.get(n); // NotFound before any byte is sent
  const sel = select(svc, names);
  const blobs = new Set<Digest>();
  const mjson: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
  const repositories: Record<string, Record<string, string>> = {};
  const order: Digest[] = [];
  const want = (d: Digest): void => {
    if (!blobs.has(d)) {
      blobs.add(d);
      order.push(d);
    }
  };
  for (const s of sel) {
    const rec = svc.store.records.get(s.id)!;
    want(rec.id);
    for (const l of rec.layers) want(l.digest);
    want(rec.manifest);
    const manInfo = await svc.d.content.info(rec.manifest);
    const base: Descriptor = { mediaType: rec.manifestMediaType, digest: rec.manifest, size: manInfo.size };
    if (s.refs.length === 0) index.manifests.push(base);
    for (const r of s.refs) {
      const parsed = parseReference(r);
      index.manifests.push({ ...base, annotations: { 'io.containerd.image.name': r, 'org.opencontainers.image.ref.name': parsed.tag ?? 'latest' } });
      const repo = familiarRepoName(parsed);
      repositories[repo] = { ...(repositories[repo] ?? {}), [parsed.tag ?? 'latest']: hexOf(rec.layers[rec.layers.length - 1]?.digest ?? rec.id) };
    }
    mjson.push({
      Config: `blobs/sha256/${hexOf(rec.id)}`,
      RepoTags: s.refs.map((r) => familiarName(parseReference(r))),
      Layers: rec.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`),
    });
  }
  // Hold the blobs until the stream is done, so a concurrent rmi cannot pull them from under us.
  const release = svc.lease(order);
  const w = new TarWriter();
  const now = Math.floor(Date.now() / 1000);
  const dir = (name: string): Promise<void> => w.add({ name, type: 'dir', mode: 0o755, mtime: now });
  const file = (name: string, data: string): Promise<void> => w.add({ name, type: 'file', mode: 0o644, mtime: now, size: Buffer.byteLength(data) }, Buffer.from(data));
  (async () => {
    await dir('blobs/');
    await dir('blobs/sha256/');
    for (const d of order) {
      const { size } = await svc.d.content.info(d);
      await w.add({ name: `blobs/sha256/${hexOf(d)}`, type: 'file', mode: 0o644, mtime: now, size }, await svc.d.content.read(d));
    }
    await file('index.json', JSON.stringify(index));
    await file('manifest.json', JSON.stringify(mjson));
    await file('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (Object.keys(repositories).length > 0) await file('repositories', JSON.stringify(repositories));
    await w.finalize();
    for (const s of sel) svc.d.events.emit('image', 'save', s.id, s.refs[0] ? { name: familiarName(parseReference(s.refs[0])) } : {});
  })()
    .catch((e: unknown) => w.stream.destroy(e instanceof Error ? e : new Error(String(e))))
    .finally(release);
  return w.stream;
}
