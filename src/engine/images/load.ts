import { promises as fsp } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { type Digest, isHex64, parseDigest, sha256 } from '../../lib/digest.js';
import { InvalidArgument } from '../../lib/errors.js';
import { decompress } from '../../lib/compression.js';
import { readTar } from '../../lib/tar/reader.js';
import {
  type Descriptor, type ImageConfig, type Index, type Manifest, MediaType, hostPlatform, isIndexMediaType,
} from '../../lib/oci/types.js';
import { familiarName, formatFull, parseReference, withDefaultTag } from '../../lib/reference.js';
import type { LoadResult, ProgressFn } from './types.js';
import type { LocalImageService } from './service.js';

/** Limits for a hostile archive: entries, and the JSON documents we keep in memory. */
const MAX_ENTRIES = 100_000;
const MAX_JSON = 16 * 1024 * 1024;

function unsafe(msg: string): InvalidArgument {
  return new InvalidArgument(msg, { code: 'PETI_ERR_UNSAFE_ARCHIVE' });
}

/** Archive member name, normalised and confined: no absolute names, no `..`. */
function cleanName(name: string): string {
  const n = posix.normalize(name.replace(/^\.\/+/, ''));
  if (n.startsWith('/') || n === '..' || n.startsWith('../')) throw unsafe(`invalid archive member name: ${JSON.stringify(name)}`);
  return n.replace(/\/$/, '');
}

interface Archive {
  /** member -> blob stored in the content store */
  blobs: Map<string, Digest>;
  /** small JSON members kept in memory */
  json: Map<string, Buffer>;
  /** member -> member it links to */
  links: Map<string, string>;
}

function resolveMember(a: Archive, name: string): string {
  let n = cleanName(name);
  for (let hops = 0; a.links.has(n); hops++) {
    if (hops > 16) throw unsafe(`too many links resolving ${name}`);
    n = a.links.get(n)!;
  }
  return n;
}

function blobOf(a: Archive, name: string): Digest {
  const n = resolveMember(a, name);
  const d = a.blobs.get(n);
  if (!d) throw new InvalidArgument(`invalid archive: ${name} is missing`);
  return d;
}

function jsonOf<T>(a: Archive, name: string): T {
  const n = resolveMember(a, name);
  const buf = a.json.get(n);
  if (!buf) throw new InvalidArgument(`invalid archive: ${name} is missing`);
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch {
    throw new InvalidArgument(`invalid archive: ${name} is not valid JSON`);
  }
}

/** Member bytes whether it went to the store (blobs/...) or to memory. */
async function bytesOf(svc: LocalImageService, a: Archive, name: string): Promise<Buffer> {
  const n = resolveMember(a, name);
  const j = a.json.get(n);
  if (j) return j;
  return svc.d.content.readBytes(blobOf(a, n), MAX_JSON);
}

/** Read the whole archive once: blobs stream into the content store (verified), JSON stays in memory. */
async function readArchive(svc: LocalImageService, src: Readable, hold: (d: Digest) => void): Promise<Archive> {
  const a: Archive = { blobs: new Map(), json: new Map(), links: new Map() };
  const { stream } = await decompress(src);
  let count = 0;
  const maxEntries = Math.min(MAX_ENTRIES, svc.d.limits?.maxEntries ?? MAX_ENTRIES);
  const maxSize = svc.d.limits?.maxBytes;
  for await (const { header: h, body } of readTar(stream)) {
    if (++count > maxEntries) throw unsafe(`archive has more than ${maxEntries} entries`);
    const name = cleanName(h.name);
    if (h.type === 'symlink' || h.type === 'hardlink') {
      const target = h.type === 'symlink' && !h.linkname.startsWith('/') ? posix.join(posix.dirname(name), h.linkname) : h.linkname;
      a.links.set(name, cleanName(target));
      continue;
    }
    if (h.type !== 'file') continue;
    const m = /^blobs\/sha256\/([^/]+)$/.exec(name);
    if (m) {
      if (!isHex64(m[1]!)) throw unsafe(`invalid blob name in archive: ${name}`);
      const info = await svc.d.content.ingest(body, { digest: parseDigest(`sha256:${m[1]}`), size: h.size, ...(maxSize ? { maxSize } : {}) });
      hold(info.digest);
      a.blobs.set(name, info.digest);
    } else if (name.endsWith('.json') || name === 'repositories' || name === 'oci-layout' || name.endsWith('/VERSION')) {
      if (h.size > MAX_JSON) throw unsafe(`${name} is larger than ${MAX_JSON} bytes`);
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(c);
      a.json.set(name, Buffer.concat(parts));
    } else {
      const info = await svc.d.content.ingest(body, { size: h.size, ...(maxSize ? { maxSize } : {}) });
      hold(info.digest);
      a.blobs.set(name, info.digest);
    }
  }
  return a;
}

async function headOf(path: string): Promise<Buffer> {
  const fh = await fsp.open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function layerMediaType(head: Buffer, oci: boolean): string {
  const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (oci) return gz ? MediaType.OciLayerGzip : MediaType.OciLayer;
  return gz ? MediaType.DockerLayerGzip : MediaType.DockerLayer;
}

/** Pick the manifest for this host out of an index, recursing into nested indexes. */
async function pickManifest(svc: LocalImageService, desc: Descriptor, depth = 0): Promise<Descriptor | undefined> {
  if (depth > 4) throw new InvalidArgument('image index nested too deeply');
  if (!isIndexMediaType(desc.mediaType)) return desc;
  const idx = JSON.parse((await svc.d.content.readBytes(desc.digest)).toString('utf8')) as Index;
  const host = hostPlatform();
  const cands = idx.manifests.filter((m) => !m.platform || (m.platform.os === host.os && m.platform.architecture === host.architecture));
  for (const c of cands) {
    if (c.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
    const got = await pickManifest(svc, c, depth + 1);
    if (got) return got;
  }
  return undefined;
}

/** `docker load`: Docker 25+ archives (OCI layout + manifest.json), the older Docker format, and plain OCI layouts. */
export async function loadArchive(svc: LocalImageService, src: Readable, progress?: ProgressFn): Promise<LoadResult> {
  // Every blob is leased the moment it lands, so a concurrent GC cannot take it before the image is recorded.
  const leases: (() => void)[] = [];
  const hold = (d: Digest): void => { leases.push(svc.lease([d])); };
  try {
    const a = await readArchive(svc, src, hold);
    const out: LoadResult = { loaded: [] };
    const hasManifestJson = a.json.has('manifest.json');
    const hasIndex = a.json.has('index.json');
    if (!hasManifestJson && !hasIndex) throw new InvalidArgument('invalid archive: neither manifest.json nor index.json found (is this an image archive?)');

    // OCI manifests found through index.json, keyed by config digest, so Docker 25+ archives keep their manifests.
    const ociByConfig = new Map<Digest, { desc: Descriptor; manifest: Manifest; names: string[] }>();
    if (hasIndex) {
      const index = jsonOf<Index>(a, 'index.json');
      if (!Array.isArray(index.manifests)) throw new InvalidArgument('invalid archive: index.json has no manifests');
      for (const d of index.manifests) {
        parseDigest(d.digest);
        const picked = await pickManifest(svc, d);
        if (!picked) continue;
        const manifest = JSON.parse((await svc.d.content.readBytes(picked.digest)).toString('utf8')) as Manifest;
        if (!manifest.config || !Array.isArray(manifest.layers)) throw new InvalidArgument(`invalid manifest ${picked.digest}`);
        const names: string[] = [];
        const full = d.annotations?.['io.containerd.image.name'];
        const refName = d.annotations?.['org.opencontainers.image.ref.name'];
        for (const n of [full, refName]) {
          if (!n) continue;
          try {
            const r = parseReference(n);
            names.push(formatFull(withDefaultTag(r)));
            break;
          } catch {
            // a bare tag (OCI ref.name) names nothing on its own
          }
        }
        const prev = ociByConfig.get(manifest.config.digest);
        if (prev) prev.names.push(...names);
        else ociByConfig.set(parseDigest(manifest.config.digest), { desc: { ...picked, mediaType: picked.mediaType ?? manifest.mediaType ?? MediaType.OciManifest }, manifest, names });
      }
    }

    type Entry = { Config: string; RepoTags?: string[] | null; Layers: string[] };
    const entries: { config: Buffer; tags: string[]; manifest?: { desc: Descriptor; manifest: Manifest }; layerFiles?: string[] }[] = [];
    if (hasManifestJson) {
      const mj = jsonOf<Entry[]>(a, 'manifest.json');
      if (!Array.isArray(mj)) throw new InvalidArgument('invalid archive: manifest.json is not a list');
      for (const e of mj) {
        if (typeof e.Config !== 'string' || !Array.isArray(e.Layers)) throw new InvalidArgument('invalid archive: bad manifest.json entry');
        const config = await bytesOf(svc, a, e.Config);
        const oci = ociByConfig.get(sha256(config));
        entries.push({ config, tags: (e.RepoTags ?? []).map((t) => formatFull(withDefaultTag(parseReference(t)))), ...(oci ? { manifest: oci } : { layerFiles: e.Layers }) });
      }
    } else {
      for (const [cfg, m] of ociByConfig) entries.push({ config: await svc.d.content.readBytes(cfg), tags: m.names, manifest: m });
    }

    for (const e of entries) {
      const id = sha256(e.config);
      let config: ImageConfig;
      try {
        config = JSON.parse(e.config.toString('utf8')) as ImageConfig;
      } catch {
        throw new InvalidArgument('invalid archive: image config is not valid JSON');
      }
      const diffIds = (config.rootfs?.diff_ids ?? []).map((d) => parseDigest(d));
      await svc.d.content.put(e.config);
      hold(id);
      let manifestDigest: Digest;
      let manifestType: string;
      let layers: Descriptor[];
      if (e.manifest) {
        manifestDigest = e.manifest.desc.digest;
        manifestType = e.manifest.manifest.mediaType ?? MediaType.OciManifest;
        layers = e.manifest.manifest.layers.map((l) => ({ mediaType: l.mediaType, digest: parseDigest(l.digest), size: l.size }));
      } else {
        layers = [];
        for (const f of e.layerFiles ?? []) {
          const d = blobOf(a, f);
          const info = await svc.d.content.info(d);
          const head = await headOf(svc.d.content.path(d));
          layers.push({ mediaType: layerMediaType(head, false), digest: d, size: info.size });
        }
        const manifest: Manifest = {
          schemaVersion: 2,
          mediaType: MediaType.DockerManifest,
          config: { mediaType: MediaType.DockerConfig, digest: id, size: e.config.length },
          layers,
        };
        const mb = await svc.d.content.put(JSON.stringify(manifest));
        hold(mb.digest);
        manifestDigest = mb.digest;
        manifestType = MediaType.DockerManifest;
      }
      const img = await svc.register(
        { id, manifest: manifestDigest, manifestMediaType: manifestType, layers, diffIds, repoDigests: [], created: config.created ?? new Date().toISOString() },
        config,
        e.tags[0],
      );
      for (const t of e.tags.slice(1)) await svc.tag(img.id, t);
      if (e.tags.length === 0) {
        out.loaded.push({ id: img.id });
        progress?.({ stream: `Loaded image ID: ${img.id}\n` });
      }
      for (const t of e.tags) {
        const fam = familiarName(parseReference(t));
        out.loaded.push({ reference: fam, id: img.id });
        progress?.({ stream: `Loaded image: ${fam}\n` });
      }
      svc.d.events.emit('image', 'load', img.id, e.tags[0] ? { name: familiarName(parseReference(e.tags[0])) } : {});
    }
    return out;
  } finally {
    for (const r of leases) r();
    // Blobs of the archive that no image references (e.g. other platforms) are dropped now.
    await svc.lock.run(() => svc.gcLocked()).catch(() => undefined);
  }
}
