/**
 * Runs one stage of a Dockerfile: FROM, then each instruction updating the image config, with the layer cache
 * consulted before any work. Each step's result is an image config stored as a blob (its digest is the step's ID,
 * printed as ` ---> abc123`), the layer a RUN/COPY/ADD/WORKDIR made, and the committed snapshot of the new chain.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';
import { type Digest, chainIds, sha256 } from '../../lib/digest.js';
import { secureJoin } from '../../lib/safe-path.js';
import { InvalidArgument, NotFound } from '../../lib/errors.js';
import { KeyedMutex } from '../../lib/mutex.js';
import { type ContainerConfig, type Descriptor, type ImageConfig, MediaType, hostPlatform } from '../../lib/oci/types.js';
import type { ContentStore } from '../content/index.js';
import type { Image } from '../images/index.js';
import { resolveUser, type DockerMount, type HostFacts } from '../runtime/index.js';
import type { Snapshotter } from '../snapshots/index.js';
import { BuildCache, cacheKey } from './cache.js';
import type { BuildContext } from './context.js';
import { isRemoteSource, matchesSource, parseChmod, parseChown, sourcePattern } from './copy-sources.js';
import { contextSource, dirSource, performCopy, writeScript, type CopySource } from './copy.js';
import { parseDockerfile, parseRunMount } from './dockerfile.js';
import type { BuildEventFn } from './events.js';
import { expand, expandHeredocBody, expandWords } from './expand.js';
import { commitWorkspace, missingStubs, openView, openWorkspace, discardWorkspace, type View } from './rootfs.js';
import { runStep, type BuildNetwork, type BuildSandbox } from './run.js';
import { PROXY_ARGS, resolveStageArg, type BuildPlan, type ResolvedStage } from './stages.js';
import type { Instruction, RunInstruction, CopyInstruction, CommandLine } from './types.js';

/** The image a step produced. */
export interface StepState {
  config: ImageConfig;
  /** Config digest; 'scratch' before the first step of a scratch stage. */
  id: string;
  layers: Descriptor[];
  chain?: Digest;
  /** Nearest registered image below this state (the built image's Parent). */
  imageId?: Digest;
}

export interface ExecutorDeps {
  content: ContentStore;
  snapshots: Snapshotter;
  cache: BuildCache;
  /** Resolve (and with `pull`, refresh) a base image. */
  baseImage(ref: string, pull: boolean): Promise<Image>;
  /** Temp dir for mounts and bundles (under the data root). */
  tmp: string;
  crunRoot: string;
  /** Where `RUN --mount=type=cache` directories persist. */
  cacheMountRoot: string;
  cacheMountLocks: KeyedMutex;
  cacheMountsInUse: Set<string>;
  hostRlimits: { nofile: number; nproc: number };
  host: HostFacts;
  sandbox?: BuildSandbox;
}

export interface StageJob {
  stage: ResolvedStage;
  plan: BuildPlan;
  ctx: BuildContext;
  buildArgs: Record<string, string>;
  noCache: boolean;
  pull: boolean;
  network: BuildNetwork;
  escapeToken: string;
  /** Step number of this stage's FROM. */
  firstStep: number;
  totalSteps: number;
  /** Results of earlier stages, by index (awaited for COPY --from and bind mounts). */
  stageResult(index: number): Promise<StepState>;
  /** Extra LABEL pairs to apply as a final step (--label on the target stage). */
  extraLabels?: Record<string, string>;
  emit: BuildEventFn;
  signal?: AbortSignal;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** A RUN exited non-zero: Docker's wording, and the code the docker CLI exits with. */
export class StepFailed extends InvalidArgument {
  constructor(message: string, readonly exitCode: number) {
    super(message, { code: 'PETI_ERR_BUILD_STEP_FAILED' });
  }
}


function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function envMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, '');
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

function setEnv(env: string[], key: string, value: string): string[] {
  const out = env.filter((e) => e.split('=')[0] !== key);
  const i = env.findIndex((e) => e.split('=')[0] === key);
  const entry = `${key}=${value}`;
  if (i < 0) return [...out, entry];
  const copy = [...env];
  copy[i] = entry;
  return copy;
}

export class StageExecutor {
  private state!: StepState;
  /** Declared ARGs of this stage with their values. */
  private readonly args = new Map<string, string>();
  private cmdSet = false;
  private step: number;

  constructor(private readonly d: ExecutorDeps, private readonly job: StageJob) {
    this.step = job.firstStep;
  }

  private get shell(): string[] {
    const s = this.state.config.config?.Shell;
    return s && s.length ? s : DEFAULT_SHELL;
  }

  private get cfg(): ContainerConfig {
    return this.state.config.config ?? {};
  }

  /** Variables for expanding an instruction: declared ARGs, overridden by ENV. */
  private vars(): Map<string, string> {
    const m = new Map(this.args);
    for (const [k, v] of envMap(this.cfg.Env)) m.set(k, v);
    return m;
  }

  private x(s: string): string {
    return expand(s, this.vars(), { escapeToken: this.job.escapeToken });
  }

  private header(text: string): void {
    this.job.emit({ type: 'step', n: this.step++, total: this.job.totalSteps, text });
  }

  async run(): Promise<StepState> {
    const { stage } = this.job;
    this.header(stage.stage.from.original.replace(/^\S+/, 'FROM'));
    await this.from();
    const triggers = this.cfg.OnBuild ?? [];
    if (triggers.length) {
      // Triggers run right after FROM and are not inherited further (Docker clears OnBuild in the child).
      await this.metaStep('ONBUILD-CLEAR', (c) => { c.OnBuild = null; }, undefined, true);
      for (const t of triggers) {
        this.job.emit({ type: 'output', data: `# Executing 1 build trigger\n` });
        const parsed = parseDockerfile(`FROM scratch\n${t}\n`, { filename: 'ONBUILD' });
        const ins = parsed.stages[0]?.instructions[0];
        if (!ins) continue;
        if (ins.kind === 'ONBUILD' || ins.kind === 'FROM' || ins.kind === 'MAINTAINER') throw new InvalidArgument(`${ins.kind} isn't allowed as an ONBUILD trigger`);
        await this.dispatch(ins, false);
      }
    }
    for (const ins of stage.stage.instructions) {
      this.job.signal?.throwIfAborted();
      await this.dispatch(ins, true);
    }
    if (this.job.extraLabels && Object.keys(this.job.extraLabels).length) {
      const pairs = Object.entries(this.job.extraLabels).sort(([a], [b]) => (a < b ? -1 : 1));
      const text = `LABEL ${pairs.map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ')}`;
      this.header(text);
      await this.metaStep(text, (c) => { c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs) }; });
    }
    return this.state;
  }

  private async from(): Promise<void> {
    const { stage } = this.job;
    if (stage.platform) {
      const want = stage.platform;
      const host = hostPlatform();
      if (want !== `${host.os}/${host.architecture}` && want !== host.os + '/' + host.architecture + '/') {
        throw new InvalidArgument(`FROM --platform=${want}: only the host platform ${host.os}/${host.architecture} can be built here`);
      }
    }
    const p = hostPlatform();
    if (stage.base.kind === 'scratch') {
      this.state = { config: { architecture: p.architecture, os: p.os, config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] }, id: 'scratch', layers: [] };
    } else if (stage.base.kind === 'stage') {
      this.state = clone(await this.job.stageResult(stage.base.index));
    } else {
      const img = await this.d.baseImage(stage.base.ref, this.job.pull);
      const config = clone(img.config);
      config.config ??= {};
      config.history ??= [];
      const chain = img.diffIds.length ? chainIds(img.diffIds).at(-1) : undefined;
      this.state = { config, id: img.id, layers: [...img.layers], imageId: img.id, ...(chain ? { chain } : {}) };
    }
    this.job.emit({ type: 'result', id: this.state.id === 'scratch' ? ('sha256:' + '0'.repeat(64)) as Digest : this.state.id as Digest });
  }

  private async dispatch(ins: Instruction, counted: boolean): Promise<void> {
    if (counted) this.header(ins.original);
    switch (ins.kind) {
      case 'FROM':
        throw new InvalidArgument('FROM inside a stage');
      case 'ARG':
        for (const a of ins.args) {
          const v = resolveStageArg(a, { buildArgs: this.job.buildArgs, globalArgs: this.job.plan.globalArgs, env: this.vars(), escapeToken: this.job.escapeToken });
          if (v !== undefined) this.args.set(a.name, v);
          else this.args.delete(a.name);
        }
        // ARG changes no config: the step's result is its parent (variables reach the cache key where used)
        this.job.emit({ type: 'result', id: this.state.id as Digest });
        return;
      case 'ENV': {
        const pairs = ins.pairs.map((p) => [this.x(p.key), this.x(p.value)] as const);
        const text = `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
        return this.metaStep(text, (c) => { for (const [k, v] of pairs) c.Env = setEnv(c.Env ?? [], k, v); });
      }
      case 'LABEL': {
        const pairs = ins.pairs.map((p) => [this.x(p.key), this.x(p.value)] as const);
        const text = `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
        return this.metaStep(text, (c) => { c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs) }; });
      }
      case 'MAINTAINER': {
        const m = this.x(ins.maintainer);
        return this.metaStep(`MAINTAINER ${m}`, () => undefined, (ic) => { ic.author = m; });
      }
      case 'USER': {
        const u = this.x(ins.user);
        return this.metaStep(`USER ${u}`, (c) => { c.User = u; });
      }
      case 'EXPOSE': {
        const ports = ins.ports.flatMap((p) => expandWords(p, this.vars(), { escapeToken: this.job.escapeToken })).map((p) => (p.includes('/') ? p.toLowerCase() : `${p}/tcp`));
        return this.metaStep(`EXPOSE ${ports.join(' ')}`, (c) => {
          c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
          for (const p of ports) c.ExposedPorts[p] = {};
        });
      }
      case 'VOLUME': {
        const vols = ins.volumes.map((v) => this.x(v));
        if (vols.some((v) => v.trim() === '')) throw new InvalidArgument('VOLUME specified can not be an empty string');
        return this.metaStep(`VOLUME [${vols.join(' ')}]`, (c) => {
          c.Volumes = { ...(c.Volumes ?? {}) };
          for (const v of vols) c.Volumes[v] = {};
        });
      }
      case 'STOPSIGNAL': {
        const s = this.x(ins.signal);
        return this.metaStep(`STOPSIGNAL ${s}`, (c) => { c.StopSignal = s; });
      }
      case 'SHELL':
        return this.metaStep(`SHELL ${JSON.stringify(ins.shell)}`, (c) => { c.Shell = [...ins.shell]; });
      case 'CMD': {
        const args = this.commandArgs(ins.command);
        this.cmdSet = true;
        return this.metaStep(`CMD ${JSON.stringify(args)}`, (c) => { c.Cmd = args; });
      }
      case 'ENTRYPOINT': {
        const args = this.commandArgs(ins.command);
        const cmdSet = this.cmdSet;
        return this.metaStep(`ENTRYPOINT ${JSON.stringify(args)}`, (c) => {
          c.Entrypoint = args;
          if (!cmdSet) c.Cmd = null;
        });
      }
      case 'HEALTHCHECK': {
        const h = ins.health;
        const hc: Record<string, unknown> = { Test: h.test };
        if (h.interval) hc.Interval = h.interval;
        if (h.timeout) hc.Timeout = h.timeout;
        if (h.startPeriod) hc.StartPeriod = h.startPeriod;
        if (h.startInterval) hc.StartInterval = h.startInterval;
        if (h.retries) hc.Retries = h.retries;
        return this.metaStep(`HEALTHCHECK ${JSON.stringify(hc)}`, (c) => { c.Healthcheck = hc as ContainerConfig['Healthcheck']; });
      }
      case 'ONBUILD':
        return this.metaStep(`ONBUILD ${ins.expression}`, (c) => { c.OnBuild = [...(c.OnBuild ?? []), ins.expression]; });
      case 'WORKDIR':
        return this.workdir(this.x(ins.path));
      case 'RUN':
        return this.runInstruction(ins);
      case 'COPY':
      case 'ADD':
        return this.copyInstruction(ins);
    }
  }

  private commandArgs(c: CommandLine): string[] {
    return c.form === 'exec' ? [...c.args] : [...this.shell, c.command];
  }

  /** Consult the cache for `key`; on a hit, move the state there. */
  private async fromCache(key: string): Promise<boolean> {
    if (this.job.noCache) return false;
    const e = await this.d.cache.get(key);
    if (!e) return false;
    const config = JSON.parse(await this.d.cache.configText(e.id)) as ImageConfig;
    const layers = e.layer ? [...this.state.layers, { mediaType: MediaType.OciLayer, digest: e.layer.digest, size: e.layer.size }] : this.state.layers;
    this.state = { config, id: e.id, layers, ...(e.chainId ?? this.state.chain ? { chain: (e.chainId ?? this.state.chain) as Digest } : {}), ...(this.state.imageId ? { imageId: this.state.imageId } : {}) };
    this.job.emit({ type: 'cached' });
    this.job.emit({ type: 'result', id: e.id });
    return true;
  }

  /** Record a new step result (config blob + cache entry) and move the state there. */
  private async commit(key: string, description: string, createdBy: string,
    mutate: (c: ContainerConfig, ic: ImageConfig) => void, layer?: { diffId: Digest; size: number; chainId: Digest }): Promise<void> {
    const config = clone(this.state.config);
    config.config ??= {};
    mutate(config.config, config);
    const now = new Date().toISOString();
    config.created = now;
    config.history = [...(config.history ?? []), { created: now, created_by: createdBy, ...(layer ? {} : { empty_layer: true }) }];
    if (layer) config.rootfs = { type: 'layers', diff_ids: [...config.rootfs.diff_ids, layer.diffId] };
    const blob = await this.d.content.put(JSON.stringify(config));
    const chain = layer?.chainId ?? this.state.chain;
    this.d.cache.put(key, {
      id: blob.digest, ...(layer ? { layer: { digest: layer.diffId, size: layer.size } } : {}), ...(chain ? { chainId: chain } : {}),
      description, created: now, lastUsed: now, usageCount: 0,
    });
    const layers = layer ? [...this.state.layers, { mediaType: MediaType.OciLayer, digest: layer.diffId, size: layer.size }] : this.state.layers;
    this.state = { config, id: blob.digest, layers, ...(chain ? { chain } : {}), ...(this.state.imageId ? { imageId: this.state.imageId } : {}) };
    this.job.emit({ type: 'result', id: blob.digest });
  }

  private async metaStep(text: string, mutate: (c: ContainerConfig) => void, top?: (ic: ImageConfig) => void, quiet = false): Promise<void> {
    const key = cacheKey({ parent: this.state.id, instruction: text });
    if (!quiet && await this.fromCache(key)) return;
    if (quiet) {
      const e = this.job.noCache ? undefined : await this.d.cache.get(key);
      if (e) {
        this.state = { ...this.state, config: JSON.parse(await this.d.cache.configText(e.id)) as ImageConfig, id: e.id };
        return;
      }
    }
    await this.commit(key, text, `/bin/sh -c #(nop)  ${text}`, (c, ic) => { mutate(c); top?.(ic); });
  }

  /** Build args a RUN sees (declared and set, not shadowed by ENV), as the classic builder lists them. */
  private runArgs(): string[] {
    const env = envMap(this.cfg.Env);
    return [...this.args].filter(([k]) => !env.has(k)).map(([k, v]) => `${k}=${v}`).sort();
  }

  private async workdir(path: string): Promise<void> {
    const cur = this.cfg.WorkingDir || '/';
    const wd = posix.resolve(cur, path);
    const text = `WORKDIR ${wd}`;
    const key = cacheKey({ parent: this.state.id, instruction: text, extra: this.cfg.User ?? '' });
    if (await this.fromCache(key)) return;
    // BuildKit creates the directory owned by the current USER; an existing one is left as it is.
    const ws = await openWorkspace(this.d.snapshots, this.d.tmp, this.state.chain);
    let layer;
    try {
      const host = await secureJoin(ws.root, wd);
      const existed = await fsp.lstat(host).then((s) => s.isDirectory(), () => false);
      if (!existed) {
        const owner = this.cfg.User ? await resolveUser(ws.root, this.cfg.User) : undefined;
        await fsp.mkdir(host, { recursive: true, mode: 0o755 });
        if (owner) await fsp.lchown(host, owner.uid, owner.gid);
        layer = await commitWorkspace(this.d.snapshots, this.d.content, ws, this.state.chain);
      } else await discardWorkspace(this.d.snapshots, ws);
    } catch (e) {
      await discardWorkspace(this.d.snapshots, ws);
      throw e;
    }
    await this.commit(key, text, `/bin/sh -c #(nop) ${text}`, (c) => { c.WorkingDir = wd; }, layer);
  }

  private async runInstruction(ins: RunInstruction): Promise<void> {
    const vars = this.vars();
    const mounts = ins.mountSpecs.map((s) => parseRunMount(s, (v) => expand(v, vars, { escapeToken: this.job.escapeToken })));
    const network = ins.network === 'default' ? this.job.network : ins.network;
    let args: string[];
    if (ins.command.form === 'exec') args = [...ins.command.args];
    else args = [...this.shell, ins.script ? ins.script.shellCommand : ins.command.command];
    const runArgs = this.runArgs();
    const shown = ins.command.form === 'exec' ? args.join(' ') : args.join(' ');
    const createdBy = runArgs.length ? `|${runArgs.length} ${runArgs.join(' ')} ${shown}` : shown;
    const extra = JSON.stringify({ mounts: mounts.map((m) => [m.type, m.from, m.source, m.target, m.readOnly, m.id]), network, script: ins.script ?? null });
    const key = cacheKey({ parent: this.state.id, instruction: `RUN ${createdBy}`, args: runArgs, extra });
    if (await this.fromCache(key)) return;

    const id = randomBytes(32).toString('hex');
    this.job.emit({ type: 'running', container: id });
    const ws = await openWorkspace(this.d.snapshots, this.d.tmp, this.state.chain);
    const cleanups: (() => Promise<void>)[] = [];
    let code: number;
    let stubs: string[] = [];
    try {
      const dockerMounts: DockerMount[] = [];
      for (const m of mounts) dockerMounts.push(await this.runMount(m, cleanups));
      if (ins.script?.kind === 'file') {
        const dir = join(this.d.tmp, `script-${id}`);
        const file = await writeScript(dir, ins.script.name, ins.script.content, ins.script.mode);
        cleanups.push(() => fsp.rm(dir, { recursive: true, force: true }));
        dockerMounts.push({ Type: 'bind', Source: file, Target: ins.script.path, ReadOnly: true });
      }
      stubs = await missingStubs(ws.root, ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/proc', '/sys', '/dev', ...dockerMounts.map((m) => m.Target ?? '')]);
      const env = [...(this.cfg.Env ?? [])];
      for (const a of runArgs) env.push(a);
      for (const p of PROXY_ARGS) if (Object.hasOwn(this.job.buildArgs, p) && !this.args.has(p)) env.push(`${p}=${this.job.buildArgs[p]}`);
      code = await runStep({
        id, rootfs: ws.root, bundle: join(this.d.tmp, `run-${id}`), crunRoot: this.d.crunRoot, args, env,
        user: this.cfg.User ?? '', workdir: this.cfg.WorkingDir || '/', mounts: dockerMounts, network,
        hostRlimits: this.d.hostRlimits, host: this.d.host, ...(this.d.sandbox ? { sandbox: this.d.sandbox } : {}), output: (b) => this.job.emit({ type: 'output', data: b.toString('utf8') }),
        ...(this.job.signal ? { signal: this.job.signal } : {}),
      }).finally(() => fsp.rm(join(this.d.tmp, `run-${id}`), { recursive: true, force: true }));
    } catch (e) {
      await discardWorkspace(this.d.snapshots, ws);
      throw e;
    } finally {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    }
    this.job.emit({ type: 'removed', container: id });
    if (code !== 0) {
      await discardWorkspace(this.d.snapshots, ws);
      const cmd = args.join(' ');
      throw new StepFailed(`The command '${cmd}' returned a non-zero code: ${code}`, code);
    }
    const layer = await commitWorkspace(this.d.snapshots, this.d.content, ws, this.state.chain, stubs);
    await this.commit(key, `RUN ${shown}`, createdBy, () => undefined, layer);
  }

  private async runMount(m: ReturnType<typeof parseRunMount>, cleanups: (() => Promise<void>)[]): Promise<DockerMount> {
    const target = posix.resolve(this.cfg.WorkingDir || '/', m.target);
    switch (m.type) {
      case 'tmpfs':
        return { Type: 'tmpfs', Target: target, ...(m.sizeLimit ? { TmpfsOptions: { SizeBytes: m.sizeLimit } } : {}) };
      case 'cache': {
        const id = m.id || target;
        const name = sha256(id).slice(7, 39);
        let dir = join(this.d.cacheMountRoot, name);
        const sharing = m.sharing || 'shared';
        if (sharing === 'locked') {
          let release!: () => void;
          const held = new Promise<void>((r) => { release = r; });
          const acquired = new Promise<void>((ok) => { void this.d.cacheMountLocks.run(name, async () => { ok(); await held; }); });
          await acquired;
          cleanups.push(async () => release());
        } else if (sharing === 'private' && this.d.cacheMountsInUse.has(name)) {
          dir = join(this.d.tmp, `cache-private-${randomBytes(6).toString('hex')}`);
          cleanups.push(() => fsp.rm(dir, { recursive: true, force: true }));
        }
        this.d.cacheMountsInUse.add(name);
        cleanups.push(async () => { this.d.cacheMountsInUse.delete(name); });
        const fresh = await fsp.mkdir(dir, { recursive: true, mode: m.mode ?? 0o755 });
        if (fresh !== undefined) {
          await fsp.chmod(dir, m.mode ?? 0o755);
          await fsp.chown(dir, m.uid ?? 0, m.gid ?? 0);
        }
        return { Type: 'bind', Source: dir, Target: target, ReadOnly: m.readOnly };
      }
      case 'bind': {
        if (m.from === '') {
          // the build context, written out once for this mount
          const dir = join(this.d.tmp, `ctx-${randomBytes(6).toString('hex')}`);
          await fsp.mkdir(dir, { mode: 0o755 });
          cleanups.push(() => fsp.rm(dir, { recursive: true, force: true }));
          const src = contextSource(this.job.ctx);
          await performCopy(dir, src, { cmd: 'COPY', sources: [m.source || '.'], inline: [], dest: '/', workdir: '/', unpack: false });
          return { Type: 'bind', Source: dir, Target: target, ReadOnly: m.readOnly };
        }
        const view = await this.viewOf(m.from, !m.readOnly);
        cleanups.push(() => view.release());
        const src = await secureJoin(view.root, '/' + (m.source || ''));
        return { Type: 'bind', Source: src, Target: target, ReadOnly: m.readOnly };
      }
      default:
        throw new InvalidArgument(`RUN --mount=type=${m.type} is not supported by this builder`);
    }
  }

  /** A mounted view of a stage (by name or index) or an image. */
  private async viewOf(from: string, writable = false): Promise<View> {
    const st = await this.sourceState(from);
    return openView(this.d.snapshots, this.d.tmp, st.chain, writable);
  }

  private async sourceState(from: string): Promise<{ id: string; chain?: Digest }> {
    const stages = this.job.plan.stages;
    const byName = stages.find((s) => s.name === from.toLowerCase());
    const idx = byName ? byName.index : /^\d+$/.test(from) ? Number(from) : undefined;
    if (idx !== undefined) {
      if (idx >= this.job.stage.index) throw new InvalidArgument(`invalid from flag value ${from}: refers to current or future build stage`);
      return this.job.stageResult(idx);
    }
    const img = await this.d.baseImage(from, false);
    const chain = img.diffIds.length ? chainIds(img.diffIds).at(-1) : undefined;
    return { id: img.id, ...(chain ? { chain } : {}) };
  }

  private async copyInstruction(ins: CopyInstruction): Promise<void> {
    const cmd = ins.kind;
    const vars = this.vars();
    const sources = ins.sources.map((s) => this.x(s));
    if (cmd === 'ADD') {
      const remote = sources.find((s) => isRemoteSource(s));
      if (remote) throw new InvalidArgument(`ADD ${remote}: fetching remote URLs is not supported here (no network access); download the file into the build context and ADD or COPY it`);
    }
    const dest = this.x(ins.dest);
    const chownSpec = ins.chown !== undefined ? this.x(ins.chown) : undefined;
    const chmod = ins.chmod !== undefined ? parseChmod(this.x(ins.chmod)) : undefined;
    const inline = ins.inlineSources.map((s) => ({ path: s.path, data: s.expand ? expandHeredocBody(s.data, vars) : s.data }));
    let src: CopySource;
    let sums: string[];
    let view: View | undefined;
    if (ins.from !== undefined) {
      const st = await this.sourceState(ins.from);
      sums = [`from:${st.id}`];
      view = await openView(this.d.snapshots, this.d.tmp, st.chain);
      src = dirSource(view.root);
    } else {
      src = contextSource(this.job.ctx);
      sums = sources.map((s) => {
        const pat = sourcePattern(s);
        if (!pat.wildcard) {
          const e = this.job.ctx.lookup(pat.pattern);
          return e ? `${pat.pattern}:${this.job.ctx.checksum(e)}` : `${pat.pattern}:missing`;
        }
        const hits: string[] = [];
        const root = this.job.ctx.lookup(pat.walkRoot);
        if (root?.type === 'dir') {
          this.job.ctx.walk(root.path, (e) => { if (matchesSource(pat, e.path)) hits.push(`${e.path}:${this.job.ctx.checksum(e)}`); });
        }
        return `${s}:[${hits.join(',')}]`;
      });
    }
    try {
      const flags = [ins.from !== undefined ? `--from=${ins.from}` : '', chownSpec ? `--chown=${chownSpec}` : '', ins.chmod ? `--chmod=${ins.chmod}` : '', ins.link ? '--link' : ''].filter(Boolean);
      const text = `${cmd} ${[...flags, ...sources, ...inline.map((i) => `<<${i.path}`), dest].join(' ')}`;
      const key = cacheKey({ parent: this.state.id, instruction: text, sources: sums, extra: JSON.stringify({ inline, wd: this.cfg.WorkingDir ?? '' }) });
      if (await this.fromCache(key)) return;
      const ws = await openWorkspace(this.d.snapshots, this.d.tmp, this.state.chain);
      let layer;
      try {
        let owner: { uid: number; gid: number } | undefined;
        if (chownSpec) owner = await resolveChown(ws.root, chownSpec);
        await performCopy(ws.root, src, {
          cmd, sources, inline, dest, workdir: this.cfg.WorkingDir || '/', ...(owner ? { owner } : {}), ...(chmod !== undefined ? { chmod } : {}), unpack: cmd === 'ADD' && ins.unpack !== false,
        });
        layer = await commitWorkspace(this.d.snapshots, this.d.content, ws, this.state.chain);
      } catch (e) {
        await discardWorkspace(this.d.snapshots, ws);
        throw e;
      }
      const what = ins.from !== undefined ? `from:${ins.from}` : `${sums.length > 1 || sources.some((s) => /[*?[]/.test(s)) ? 'multi' : 'file'}:${(sums[0] ?? '').split(':').pop()}`;
      await this.commit(key, text, `/bin/sh -c #(nop) ${cmd} ${what} in ${dest} `, () => undefined, layer);
    } finally {
      await view?.release();
    }
  }
}

/** --chown=user[:group] with names looked up in the stage's /etc/passwd and /etc/group. */
async function resolveChown(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const c = parseChown(spec);
  const userPart = c.user.kind === 'id' ? String(c.user.id) : c.user.name;
  const explicitGroup = spec.includes(':');
  if (!explicitGroup) {
    if (c.user.kind === 'id') return { uid: c.user.id, gid: c.user.id };
    const u = await resolveUser(root, userPart).catch(() => {
      throw new NotFound(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${userPart}: no such user: ${userPart}`);
    });
    return { uid: u.uid, gid: u.gid };
  }
  const groupPart = c.group.kind === 'id' ? String(c.group.id) : c.group.name;
  const u = await resolveUser(root, `${userPart}:${groupPart}`).catch((e: unknown) => {
    throw new InvalidArgument(`unable to convert uid/gid chown string to host mapping: ${(e as Error).message}`);
  });
  return { uid: u.uid, gid: u.gid };
}
