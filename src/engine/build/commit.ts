/**
 * `docker commit`: a container's changes (its overlay upper dir) become a layer on top of its image, with the
 * container's config and `changes` lines applied; the image's Parent is the container's image, as in Docker. The
 * container is paused while its upper dir is read, unless `pause=false`. Mount stubs the runtime created (an
 * empty /etc/hosts, /etc/hostname, /etc/resolv.conf) are not changes: Docker keeps them in its init layer.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../../lib/digest.js';
import { type ContainerConfig, type ImageConfig, type Manifest, MediaType } from '../../lib/oci/types.js';
import type { ContentStore } from '../content/index.js';
import type { Containers } from '../containers/index.js';
import { applyChanges, type LocalImageService } from '../images/index.js';
import type { Snapshotter } from '../snapshots/index.js';
import { storeLayer } from './layer.js';

export interface CommitOptions {
  container: string;
  /** Full reference, or undefined for an untagged image. */
  reference?: string;
  comment?: string;
  author?: string;
  pause?: boolean;
  changes?: string[];
}

export interface CommitDeps {
  content: ContentStore;
  snapshots: Snapshotter;
  images: LocalImageService;
  containers: Containers;
}

const STUBS = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf'];

/** Docker's container config fields that belong in an image config. */
function imageConfigOf(c: Record<string, unknown>): ContainerConfig {
  const keys = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell', 'ArgsEscaped'];
  const out: ContainerConfig = {};
  for (const k of keys) if (c[k] !== undefined && c[k] !== null) out[k] = c[k];
  if (typeof out.Cmd === 'string') out.Cmd = [out.Cmd];
  if (typeof out.Entrypoint === 'string') out.Entrypoint = [out.Entrypoint];
  return out;
}

export async function commitContainer(d: CommitDeps, opts: CommitOptions): Promise<Digest> {
  const rec = d.containers.get(opts.container);
  const img = await d.images.get(rec.imageId);
  const upper = await d.snapshots.upperDir(rec.snapshotKey);
  const skip = new Set<string>();
  for (const s of STUBS) {
    const st = await fsp.lstat(join(upper, s)).catch(() => undefined);
    if (st?.isFile() && st.size === 0) skip.add(s);
  }
  const runtime = d.containers.svc.d.runtime;
  const pause = opts.pause !== false && rec.state.status === 'running';
  if (pause) await runtime.pause(rec.id, rec.runtime);
  let layer: { digest: Digest; size: number };
  try {
    layer = await storeLayer(d.content, upper, skip);
  } finally {
    if (pause) await runtime.resume(rec.id, rec.runtime).catch(() => undefined);
  }
  const release = d.images.lease([layer.digest]);
  try {
    const now = new Date().toISOString();
    const base = applyChanges(imageConfigOf(rec.config as Record<string, unknown>), opts.changes ?? []);
    const config: ImageConfig = {
      ...structuredClone(img.config),
      created: now,
      config: base,
      container: rec.id,
      rootfs: { type: 'layers', diff_ids: [...img.diffIds, layer.digest] },
      history: [...(img.config.history ?? []), {
        created: now, created_by: [rec.path, ...rec.args].join(' '),
        ...(opts.author ? { author: opts.author } : {}), ...(opts.comment ? { comment: opts.comment } : {}),
      }],
    };
    if (opts.author) config.author = opts.author;
    else delete config.author;
    const cfg = await d.content.put(JSON.stringify(config));
    const layers = [...img.layers, { mediaType: MediaType.OciLayer, digest: layer.digest, size: layer.size }];
    const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: cfg.digest, size: cfg.size }, layers };
    const man = await d.content.put(JSON.stringify(manifest));
    const release2 = d.images.lease([cfg.digest, man.digest]);
    try {
      const out = await d.images.register({
        id: cfg.digest, manifest: man.digest, manifestMediaType: MediaType.OciManifest, layers, diffIds: config.rootfs.diff_ids,
        repoDigests: [], created: now, parent: img.id,
      }, config, opts.reference);
      d.images.d.events.emit('container', 'commit', rec.id, { comment: opts.comment ?? '', imageID: out.id, imageRef: opts.reference ?? out.id });
      return out.id;
    } finally {
      release2();
    }
  } finally {
    release();
  }
}

