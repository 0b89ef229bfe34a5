import { closeSync } from 'node:fs';
import { type Digest, chainIds, hexOf, parseDigest } from '../../lib/digest.js';
import { InvalidArgument, NotFound, messageOf } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { type Descriptor, type ImageConfig, type Platform, layerCompression } from '../../lib/oci/types.js';
import { type Reference, familiarName, familiarRepoName, formatFull, repoName } from '../../lib/reference.js';
import type { LocalImageService } from '../images/index.js';
import type { BlobDownloader } from './download.js';
import { fetchManifest, type FetchedManifest } from './manifest.js';
import { candidates, formatPlatform } from './platform.js';
import type { BlobSources } from './sources.js';
import type { RegistrySession } from './session.js';
import { limiter } from './limit.js';
import type { DistProgressFn } from './types.js';

export interface PullDeps {
  images: LocalImageService;
  downloader: BlobDownloader;
  sources: BlobSources;
  log: Logger;
  /** Layers downloaded at once (Docker's default is 3). */
  concurrency: number;
}

export interface PullTagResult {
  id: Digest;
  /** What the tag resolved to: the index digest for a multi-platform image. */
  digest: Digest;
  /** False when the tag already named this image ("Image is up to date"). */
  updated: boolean;
}

const MAX_CONFIG = 8 * 1024 * 1024;

export const shortId = (d: Digest): string => hexOf(d).slice(0, 12);

/** Pick the host's (or the asked) platform out of an index, one nested level deep. */
async function resolvePlatform(session: RegistrySession, repo: string, top: FetchedManifest, want: Platform, signal?: AbortSignal): Promise<FetchedManifest> {
  let cur = top;
  for (let depth = 0; cur.index; depth++) {
    if (depth > 2) throw new InvalidArgument('image index nested too deeply');
    const pick = candidates(cur.index.manifests, want)[0];
    if (!pick) throw new NotFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
    cur = await fetchManifest(session, repo, pick.digest, signal);
  }
  return cur;
}

/**
 * Pull one tag or digest: manifest (through an index to the platform), config, then the layers, downloaded
 * `concurrency` at a time and unpacked in order as soon as each one and all below it are present, so extraction
 * overlaps the downloads. Every digest is verified (manifest, config, each layer; diff IDs by the unpacker).
 * Layers already unpacked and stored are not downloaded again. Nothing is recorded unless everything verified.
 */
export async function pullOne(deps: PullDeps, session: RegistrySession, ref: Reference, want: Platform, explicitPlatform: boolean, progress: DistProgressFn, signal?: AbortSignal): Promise<PullTagResult> {
  const { images } = deps;
  const content = images.d.content;
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
  const top = await fetchManifest(session, ref.path, tagOrDigest, signal);
  progress({ status: `Pulling from ${familiarRepoName(ref)}`, id: tagOrDigest });
  const leased = new Set<Digest>([top.digest]);
  const release: (() => void)[] = [images.lease([top.digest])];
  const hold = (ds: Digest[]): void => {
    for (const d of ds) leased.add(d);
    release.push(images.lease(ds));
  };
  try {
    const picked = await resolvePlatform(session, ref.path, top, want, signal);
    const manifest = picked.manifest!;
    hold([picked.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)]);

    const cfgDesc = manifest.config;
    if (cfgDesc.size > MAX_CONFIG) throw new InvalidArgument(`image config of ${cfgDesc.size} bytes exceeds the limit of ${MAX_CONFIG} bytes`);
    await deps.downloader.fetch({ session, repo: ref.path, digest: cfgDesc.digest, size: cfgDesc.size, signal });
    let config: ImageConfig;
    try {
      config = JSON.parse((await content.readBytes(cfgDesc.digest, MAX_CONFIG)).toString('utf8')) as ImageConfig;
    } catch {
      throw new InvalidArgument(`image config ${cfgDesc.digest} is not valid JSON`);
    }
    if (explicitPlatform && !top.index && (config.os !== want.os || config.architecture !== want.architecture)) {
      throw new NotFound(`image with reference ${familiarName(ref)} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) })}`);
    }
    const diffIds = (config.rootfs?.diff_ids ?? []).map((d) => parseDigest(d));
    const layers: Descriptor[] = manifest.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }));
    if (layers.length !== diffIds.length) throw new InvalidArgument(`image has ${layers.length} layers but its config lists ${diffIds.length} diff IDs`);
    for (const l of layers) {
      if (layerCompression(l.mediaType) === undefined) {
        throw new InvalidArgument(`unsupported layer media type ${l.mediaType}`);
      }
    }
    const chain = chainIds(diffIds);
    const present = await Promise.all(layers.map(async (l, i) => {
      if (!(await content.has(l.digest))) return false;
      try {
        await images.d.snapshots.stat(chain[i]!);
        return true;
      } catch {
        return false;
      }
    }));

    // Docker prints no layer lines when the image itself is already here (moby pullSchema2's early return).
    const known = images.store.records.has(cfgDesc.digest) && present.every(Boolean);
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal?.addEventListener('abort', onAbort);
    const limit = limiter(deps.concurrency);
    let started = 0;
    for (let i = 0; i < layers.length; i++) {
      const id = shortId(layers[i]!.digest);
      if (known) continue;
      if (present[i]) progress({ status: 'Already exists', id });
      else progress({ status: 'Pulling fs layer', id });
    }
    // Resolves once a layer's download has its partial file open (unpacking can follow it), or has settled.
    const begun = layers.map(() => {
      let ok!: () => void;
      const p = new Promise<void>((r) => { ok = r; });
      return { p, ok };
    });
    const downloads = layers.map((l, i) => {
      if (present[i]) return Promise.resolve();
      const id = shortId(l.digest);
      if (++started > deps.concurrency) progress({ status: 'Waiting', id });
      return limit(async () => {
        if (ac.signal.aborted) throw new Error('aborted');
        const had = await content.has(l.digest);
        if (!had) {
          await deps.downloader.fetch({
            session, repo: ref.path, digest: l.digest, size: l.size, signal: ac.signal,
            onProgress: (current, total) => progress({ status: 'Downloading', id, current, total }),
            onStart: () => begun[i]!.ok(),
          });
          progress({ status: 'Verifying Checksum', id });
        }
        progress({ status: 'Download complete', id });
      });
    });
    // A failed download stops the others; its error is the one reported.
    downloads.forEach((p, i) => {
      p.catch(() => ac.abort());
      void p.finally(() => begun[i]!.ok()).catch(() => undefined);
    });
    try {
      for (let i = 0; i < layers.length; i++) {
        if (present[i]) {
          await downloads[i];
          continue;
        }
        const id = shortId(layers[i]!.digest);
        // Unpack while the layer downloads: from its growing partial file once the layers below are committed.
        await begun[i]!.p;
        const growing = deps.downloader.follow(layers[i]!.digest);
        let unpacked = false;
        if (growing) {
          progress({ status: 'Extracting', id, current: 0, total: layers[i]!.size });
          try {
            await images.unpacker.unpack(layers.slice(0, i + 1), diffIds.slice(0, i + 1), growing);
            unpacked = true;
          } catch (e) {
            // A failed download is the error to report; a download that restarted from zero is unpacked again
            // from the store; anything else (a diff ID mismatch) is the unpack's own error.
            await downloads[i];
            if (growing.state().error === undefined) throw e;
            deps.log.debug('streaming unpack gave up, unpacking from the store', { digest: layers[i]!.digest, error: messageOf(e) });
          } finally {
            closeSync(growing.fd);
          }
        }
        await downloads[i];
        if (!unpacked) {
          progress({ status: 'Extracting', id, current: 0, total: layers[i]!.size });
          await images.unpacker.unpack(layers.slice(0, i + 1), diffIds.slice(0, i + 1));
        }
        progress({ status: 'Extracting', id, current: layers[i]!.size, total: layers[i]!.size });
        progress({ status: 'Pull complete', id });
      }
    } catch (e) {
      ac.abort();
      await Promise.allSettled(downloads);
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }

    await content.put(picked.bytes, { digest: picked.digest });
    const id = cfgDesc.digest;
    const tagRef = ref.tag !== undefined && ref.digest === undefined ? formatFull(ref) : undefined;
    const before = tagRef ? images.store.refs.get(tagRef) : images.store.records.get(id) ? id : undefined;
    const repoDigest = `${repoName(ref)}@${top.digest}`;
    await images.register({
      id, manifest: picked.digest, manifestMediaType: picked.mediaType, layers, diffIds, repoDigests: [repoDigest],
      created: config.created ?? new Date().toISOString(),
    }, config, tagRef);
    await deps.sources.add(leased, { registry: session.endpoint.domain, repo: ref.path });
    images.d.events.emit('image', 'pull', familiarName(ref), { name: familiarName(ref) });
    progress({ status: `Digest: ${top.digest}` });
    return { id, digest: top.digest, updated: before !== id };
  } finally {
    for (const r of release) r();
  }
}
