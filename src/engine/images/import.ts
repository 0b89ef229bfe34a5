import type { Readable } from 'node:stream';
import type { Digest } from '../../lib/digest.js';
import { InvalidArgument } from '../../lib/errors.js';
import { decompress } from '../../lib/compression.js';
import { type ImageConfig, type Manifest, MediaType, hostPlatform } from '../../lib/oci/types.js';
import { applyChanges } from './changes.js';
import type { ImportOptions, ProgressFn } from './types.js';
import type { LocalImageService } from './service.js';

/** `docker import`: a rootfs tar (plain or compressed) becomes a one-layer image. */
export async function importRootfs(svc: LocalImageService, src: Readable, opts: ImportOptions, progress?: ProgressFn): Promise<Digest> {
  const cfgBody = applyChanges({}, opts.changes ?? []);
  const plat = hostPlatform();
  if (opts.platform) {
    const [os, arch, variant] = opts.platform.split('/');
    if (!os || !arch) throw new InvalidArgument(`invalid platform: ${opts.platform}`);
    plat.os = os;
    plat.architecture = arch;
    if (variant) plat.variant = variant;
  }
  progress?.({ status: 'Importing' });
  const { stream } = await decompress(src);
  // The plain tar is stored before it is unpacked: cap it here too, or a gzip bomb fills the disk first.
  const layer = await svc.d.content.ingest(stream, svc.d.limits?.maxBytes ? { maxSize: svc.d.limits.maxBytes } : {});
  const release = svc.lease([layer.digest]);
  let done = false;
  try {
    const now = new Date().toISOString();
    const config: ImageConfig = {
      architecture: plat.architecture,
      os: plat.os,
      ...(plat.variant ? { variant: plat.variant } : {}),
      created: now,
      config: cfgBody,
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
      history: [{ created: now, comment: opts.message || 'Imported from -' }],
    };
    const cfgBlob = await svc.d.content.put(JSON.stringify(config));
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: cfgBlob.digest, size: cfgBlob.size },
      layers: [{ mediaType: MediaType.OciLayer, digest: layer.digest, size: layer.size }],
    };
    const manBlob = await svc.d.content.put(JSON.stringify(manifest));
    const release2 = svc.lease([cfgBlob.digest, manBlob.digest]);
    try {
      const img = await svc.register(
        { id: cfgBlob.digest, manifest: manBlob.digest, manifestMediaType: MediaType.OciManifest, layers: manifest.layers, diffIds: [layer.digest], repoDigests: [], created: now },
        config,
        opts.reference,
      );
      svc.d.events.emit('image', 'import', img.id, { name: img.id }); // Docker names the import event by image ID
      done = true;
      return img.id;
    } finally {
      release2();
    }
  } finally {
    release();
    // A refused layer (hostile, corrupt, over a limit) leaves no blobs behind.
    if (!done) await svc.lock.run(() => svc.gcLocked()).catch(() => undefined);
  }
}
