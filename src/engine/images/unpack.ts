import { randomBytes } from 'node:crypto';
import { type Digest, chainIds } from '../../lib/digest.js';
import { InvalidArgument, NotFound } from '../../lib/errors.js';
import { KeyedMutex } from '../../lib/mutex.js';
import type { Logger } from '../../lib/log.js';
import type { Descriptor } from '../../lib/oci/types.js';
import type { ContentStore } from '../content/index.js';
import type { ApplyLimits, ApplyResult, Snapshotter } from '../snapshots/index.js';
import type { ApplyFileFn, GrowingFile } from '../snapshots/index.js';

export interface UnpackDeps {
  content: ContentStore;
  snapshots: Snapshotter;
  applyFile: ApplyFileFn;
  log: Logger;
  limits?: ApplyLimits;
}

/**
 * Unpacks an image's layers into committed snapshots keyed by chain ID. A layer already unpacked (by any image)
 * is reused; two unpacks of the same chain ID wait for each other. Returns the uncompressed size of each layer.
 */
export class Unpacker {
  private readonly locks = new KeyedMutex();
  constructor(private readonly d: UnpackDeps) {}

  /**
   * With `growing`, the top layer is read from that file while it is still being written (a download), not from
   * the content store; nothing is committed unless the file completes and its diff ID verifies.
   */
  /** Remove the active snapshots of extractions a crash cut short (none can be running at startup). */
  async sweep(): Promise<void> {
    const stale: string[] = [];
    await this.d.snapshots.walk((info) => {
      if (info.kind === 'active' && info.key.startsWith('extract-')) stale.push(info.key);
    });
    for (const key of stale) {
      this.d.log.info('removing an interrupted layer extraction', { key });
      await this.d.snapshots.remove(key).catch(() => undefined);
    }
  }

  async unpack(layers: readonly Descriptor[], diffIds: readonly Digest[], growing?: GrowingFile): Promise<number[]> {
    if (layers.length !== diffIds.length) {
      throw new InvalidArgument(`image has ${layers.length} layers but its config lists ${diffIds.length} diff IDs`);
    }
    const chain = chainIds(diffIds);
    const sizes: number[] = [];
    for (let i = 0; i < layers.length; i++) {
      const key = chain[i]!;
      const parent = i > 0 ? chain[i - 1] : undefined;
      const g = i === layers.length - 1 ? growing : undefined;
      sizes.push(await this.locks.run(key, () => this.one(layers[i]!, diffIds[i]!, key, parent, g)));
    }
    return sizes;
  }

  private async one(layer: Descriptor, diffId: Digest, key: string, parent: string | undefined, growing?: GrowingFile): Promise<number> {
    try {
      const info = await this.d.snapshots.stat(key);
      return Number(info.labels['peti.size'] ?? 0);
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
    }
    const active = `extract-${randomBytes(6).toString('hex')}-${key}`;
    await this.d.snapshots.prepare(active, parent);
    let res: ApplyResult;
    try {
      const dir = await this.d.snapshots.upperDir(active);
      if (!growing) await this.d.content.info(layer.digest);
      res = await this.d.applyFile(this.d.content.path(layer.digest), dir, { compression: 'auto', ...this.d.limits }, growing);
      if (res.diffId !== diffId) {
        throw new InvalidArgument(`layer ${layer.digest} unpacks to ${res.diffId}, but the image config says ${diffId}`, { code: 'PETI_ERR_DIGEST_MISMATCH' });
      }
      await this.d.snapshots.commit(key, active, { 'peti.size': String(res.size), 'peti.diffid': diffId });
    } catch (e) {
      await this.d.snapshots.remove(active).catch(() => undefined);
      throw e;
    }
    this.d.log.debug('layer unpacked', { chainId: key, size: res.size });
    return res.size;
  }
}
