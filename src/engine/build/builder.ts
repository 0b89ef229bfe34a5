/**
 * The builder service: takes a context tar and options, plans the stages the target needs, runs them (stages with
 * no dependency on each other at the same time), registers and tags the result. Output of parallel stages is
 * passed through in stage order (a later stage's lines wait until the earlier ones finish) so logs stay readable.
 */
import { trace } from '../../lib/trace.js';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../../lib/digest.js';
import { InvalidArgument, NotFound, messageOf } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { KeyedMutex } from '../../lib/mutex.js';
import { type Manifest, MediaType, hostPlatform } from '../../lib/oci/types.js';
import { familiarName, parseReference } from '../../lib/reference.js';
import type { ContentStore } from '../content/index.js';
import type { Image, LocalImageService } from '../images/index.js';
import { detectHostFacts, hostRlimits, type HostFacts } from '../runtime/index.js';
import type { Snapshotter } from '../snapshots/index.js';
import { BuildCache } from './cache.js';
import { BuildContext } from './context.js';
import { contextPath } from './copy-sources.js';
import { parseDockerfile } from './dockerfile.js';
import type { BuildEvent, BuildEventFn, BuildOptions, BuildResult } from './events.js';
import { StageExecutor, type StepState } from './executor.js';
import type { BuildNetwork, BuildSandbox } from './run.js';
import { resolveStages } from './stages.js';

export interface BuilderDeps {
  dataRoot: string;
  execRoot: string;
  content: ContentStore;
  snapshots: Snapshotter;
  images: LocalImageService;
  log: Logger;
  /** Namespaces on the default bridge for RUN steps (absent: `default` networking means none). */
  sandbox?: BuildSandbox;
  /** Pull a base image from its registry (absent: `--pull` and missing bases answer an error). */
  pull?: (reference: string, status: (text: string) => void, signal?: AbortSignal) => Promise<void>;
}

/** One build cache record as `GET /system/df` reports it. */
export interface BuildCacheUsage {
  ID: string;
  Parents: string[] | null;
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string;
  UsageCount: number;
}

/** Passes events of parallel stages through in stage order. */
class OutputGate {
  private pos = 0;
  private readonly buffered = new Map<number, BuildEvent[]>();
  private readonly finished = new Set<number>();
  constructor(private readonly order: number[], private readonly out: BuildEventFn) {}
  emit(stage: number, e: BuildEvent): void {
    if (this.order[this.pos] === stage) this.out(e);
    else (this.buffered.get(stage) ?? this.buffered.set(stage, []).get(stage)!).push(e);
  }
  finish(stage: number): void {
    this.finished.add(stage);
    while (this.pos < this.order.length && this.finished.has(this.order[this.pos]!)) {
      this.pos++;
      const next = this.order[this.pos];
      if (next === undefined) break;
      for (const e of this.buffered.get(next) ?? []) this.out(e);
      this.buffered.delete(next);
    }
  }
}

export class Builder {
  readonly cache: BuildCache;
  private readonly host: HostFacts = detectHostFacts();
  private readonly rlimits = hostRlimits();
  private readonly cacheMountLocks = new KeyedMutex();
  private readonly cacheMountsInUse = new Set<string>();

  constructor(private readonly d: BuilderDeps) {
    this.cache = new BuildCache({ root: join(d.dataRoot, 'build'), content: d.content, snapshots: d.snapshots, leases: d.images });
  }

  private get cacheMountRoot(): string {
    return join(this.d.dataRoot, 'build', 'cache-mounts');
  }

  async init(): Promise<void> {
    await fsp.mkdir(join(this.d.dataRoot, 'build'), { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.cacheMountRoot, { recursive: true, mode: 0o700 });
    await this.cache.init();
    // workspaces a crash left behind are active snapshots named build-*: nothing will ever commit them
    const stale: string[] = [];
    await this.d.snapshots.walk((s) => { if (s.kind !== 'committed' && s.key.startsWith('build-')) stale.push(s.key); });
    for (const k of stale) await this.d.snapshots.remove(k).catch(() => undefined);
  }

  /** Snapshots the build cache needs: image GC keeps them. */
  pinnedSnapshots(): string[] {
    return this.cache.pinnedSnapshots();
  }

  private async baseImage(ref: string, pull: boolean, emit: BuildEventFn, signal?: AbortSignal): Promise<Image> {
    if (pull) {
      if (!this.d.pull) throw new InvalidArgument(`--pull: no registry client is available to pull ${ref}`);
      await this.d.pull(ref, (text) => emit({ type: 'status', text }), signal);
      return this.d.images.get(ref);
    }
    try {
      return await this.d.images.get(ref);
    } catch (e) {
      // The classic builder pulls a base image that is not present.
      if (!(e instanceof NotFound) || !this.d.pull) throw e;
      await this.d.pull(ref, (text) => emit({ type: 'status', text }), signal);
      return this.d.images.get(ref);
    }
  }

  /** Run a build. Throws InvalidArgument for bad input and failed steps (with Docker's wording). */
  async build(body: Readable, opts: BuildOptions, emit: BuildEventFn): Promise<BuildResult> {
    const host = hostPlatform();
    if (opts.platform) {
      const [os, arch] = opts.platform.toLowerCase().split('/');
      if (os !== host.os || (arch !== undefined && arch !== host.architecture)) {
        throw new InvalidArgument(`platform ${opts.platform} is not supported: this builder builds for the host platform ${host.os}/${host.architecture} only`);
      }
    }
    const netMode = opts.network ?? '';
    if (!['', 'default', 'bridge', 'none', 'host'].includes(netMode)) {
      throw new InvalidArgument(`network mode ${JSON.stringify(netMode)} is not supported for builds: use default, none or host`);
    }
    // `default` is the daemon's default network, as for `docker run`: the bridge when this daemon has one.
    const network: BuildNetwork = netMode === 'host' ? 'host' : netMode === 'none' ? 'none' : this.d.sandbox ? 'bridge' : 'none';

    const tmp = join(this.d.dataRoot, 'tmp', `build-${randomBytes(8).toString('hex')}`);
    trace(tmp, 'build: begin');
    const ctx = await BuildContext.receive(body, join(tmp, 'context'));
    trace(tmp, 'build: context received');
    try {
      const dfPath = contextPath(opts.dockerfile || 'Dockerfile');
      const dfEntry = ctx.lookup(dfPath, true);
      if (!dfEntry || dfEntry.type !== 'file') throw new InvalidArgument(`Cannot locate specified Dockerfile: ${opts.dockerfile || 'Dockerfile'}`);
      const patterns = ctx.applyDockerignore(dfPath);
      const text = ctx.readSync(dfEntry).toString('utf8');
      ctx.removeBuildFiles(patterns, dfPath);
      const df = parseDockerfile(text, { filename: opts.dockerfile || 'Dockerfile' });
      for (const w of df.warnings) emit({ type: 'warning', text: w });
      const buildArgs = opts.buildArgs ?? {};
      const plan = resolveStages(df, { buildArgs, ...(opts.target ? { target: opts.target } : {}), platform: host });

      const sorted = [...plan.order].sort((a, b) => a - b);
      const labels = opts.labels ?? {};
      const hasLabels = Object.keys(labels).length > 0;
      let total = 0;
      const first = new Map<number, number>();
      for (const i of sorted) {
        first.set(i, total + 1);
        total += 1 + plan.stages[i]!.stage.instructions.length;
      }
      if (hasLabels) total++;

      const gate = new OutputGate(sorted, emit);
      const abort = new AbortController();
      const onAbort = (): void => abort.abort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const results = new Map<number, Promise<StepState>>();
      const deps = {
        content: this.d.content, snapshots: this.d.snapshots, cache: this.cache, tmp, crunRoot: join(this.d.execRoot, 'build-crun'), ...(this.d.sandbox ? { sandbox: this.d.sandbox } : {}),
        cacheMountRoot: this.cacheMountRoot, cacheMountLocks: this.cacheMountLocks, cacheMountsInUse: this.cacheMountsInUse,
        hostRlimits: this.rlimits, host: this.host,
      };
      for (const i of plan.order) {
        const stage = plan.stages[i]!;
        const stageEmit: BuildEventFn = (e) => gate.emit(i, e);
        const exec = new StageExecutor({ ...deps, baseImage: (ref, pull) => this.baseImage(ref, pull, stageEmit, abort.signal) }, {
          stage, plan, ctx, buildArgs, noCache: opts.noCache === true, pull: opts.pull === true, network, escapeToken: df.escapeToken,
          firstStep: first.get(i)!, totalSteps: total,
          stageResult: (idx) => {
            const r = results.get(idx);
            if (!r) throw new InvalidArgument(`stage ${idx} is not part of this build`);
            return r;
          },
          ...(i === plan.target && hasLabels ? { extraLabels: labels } : {}),
          emit: stageEmit, signal: abort.signal,
        });
        const p = exec.run().then(
          (r) => { gate.finish(i); return r; },
          (e: unknown) => { abort.abort(); throw e; },
        );
        p.catch(() => undefined);
        results.set(i, p);
      }
      let final: StepState;
      try {
        const settled = await Promise.allSettled([...results.values()]);
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed) throw failed.reason;
        final = await results.get(plan.target)!;
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
        // Not awaited: the index only makes later builds faster (a lost write loses cache hits, never correctness).
        this.cache.flush().catch((e: unknown) => this.d.log.warn('build cache index not written', { err: messageOf(e) }));
      }
      if (plan.unusedBuildArgs.length) {
        emit({ type: 'warning', text: `[Warning] One or more build-args [${plan.unusedBuildArgs.join(' ')}] were not consumed` });
      }
      if (final.id === 'scratch') throw new InvalidArgument('No image was generated. Is your Dockerfile empty?');
      trace(tmp, 'build: steps done');
      const id = await this.register(final, opts.tags);
      trace(tmp, 'build: registered');
      emit({ type: 'built', id });
      for (const t of opts.tags) emit({ type: 'tagged', reference: familiarName(parseReference(t)) });
      return { id, tags: opts.tags };
    } finally {
      await ctx.close();
      await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      trace(tmp, 'build: end');
    }
  }

  /** Make the final state an image: its manifest, the record (Parent = the base image), the tags. */
  private async register(st: StepState, tags: string[]): Promise<Digest> {
    const id = st.id as Digest;
    const existing = this.d.images.resolve(id);
    if (!existing || existing.id !== id) {
      const cfgBlob = await this.d.content.info(id);
      const manifest: Manifest = {
        schemaVersion: 2, mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: id, size: cfgBlob.size },
        layers: st.layers,
      };
      const man = await this.d.content.put(JSON.stringify(manifest));
      const release = this.d.images.lease([man.digest, id]);
      try {
        await this.d.images.register({
          id, manifest: man.digest, manifestMediaType: MediaType.OciManifest, layers: st.layers, diffIds: st.config.rootfs.diff_ids,
          repoDigests: [], created: st.config.created ?? new Date().toISOString(), ...(st.imageId && st.imageId !== id ? { parent: st.imageId } : {}),
        }, st.config, tags[0]);
      } finally {
        release();
      }
      for (const t of tags.slice(1)) await this.d.images.tag(id, t);
    } else {
      for (const t of tags) await this.d.images.tag(id, t);
    }
    return id;
  }

  /** petid stops: the cache index reaches the disk. */
  async close(): Promise<void> {
    await this.cache.flush().catch((e: unknown) => this.d.log.warn('build cache index not written', { err: messageOf(e) }));
  }

  /** `POST /build/prune`: forget cache entries, then collect what nothing else uses. */
  async prune(opts: { all?: boolean; until?: number; keepStorage?: number }): Promise<{ deleted: string[]; reclaimed: number }> {
    const removed = await this.cache.prune({ ...opts, inUse: (id) => this.d.images.resolve(id)?.id === id });
    const before = removed.reduce((n, e) => n + (e.layer?.size ?? 0), 0);
    const reclaimed = await this.d.images.lock.run(() => this.d.images.gcLocked());
    return { deleted: removed.map((e) => e.key), reclaimed: Math.max(reclaimed, 0) || (removed.length ? before : 0) };
  }

  /** Cache records for `system df`. */
  usage(): BuildCacheUsage[] {
    return this.cache.list().map((e) => ({
      ID: e.key.slice(0, 25), Parents: null, Type: 'regular', Description: e.description,
      InUse: false, Shared: this.d.images.resolve(e.id)?.id === e.id, Size: e.layer?.size ?? 0,
      CreatedAt: e.created, LastUsedAt: e.lastUsed, UsageCount: e.usageCount,
    }));
  }
}
