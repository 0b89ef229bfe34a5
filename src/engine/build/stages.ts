import { InvalidArgument } from '../../lib/errors.js';
import { expand } from './expand.js';
import type { ArgDefinition, Dockerfile, Stage } from './types.js';

/**
 * Multi-stage scoping and planning, as BuildKit's dockerfile2llb does it: global ARGs (before the first FROM) are
 * visible only to FROM lines unless a stage redeclares them with `ARG NAME`; stages are found by name
 * (case-insensitive) or index; only the stages the target reaches are built; independent ones can run in parallel.
 */

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Build args BuildKit and the classic builder accept without an ARG: passed to RUN, kept out of history. */
export const PROXY_ARGS: readonly string[] = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy',
  'ALL_PROXY', 'all_proxy',
];

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x).join('/');
}

/**
 * The automatic platform ARGs in global scope (usable in FROM; a stage sees them after `ARG TARGETARCH` etc.).
 * `--build-arg` overrides them, as in BuildKit.
 */
export function platformArgs(target: Platform, build: Platform = target, targetStage = 'default', overrides: Readonly<Record<string, string>> = {}): Map<string, string> {
  const pairs: [string, string][] = [
    ['BUILDPLATFORM', formatPlatform(build)], ['BUILDOS', build.os], ['BUILDOSVERSION', ''],
    ['BUILDARCH', build.architecture], ['BUILDVARIANT', build.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(target)], ['TARGETOS', target.os], ['TARGETOSVERSION', ''],
    ['TARGETARCH', target.architecture], ['TARGETVARIANT', target.variant ?? ''], ['TARGETSTAGE', targetStage],
  ];
  return new Map(pairs.map(([k, v]) => [k, Object.hasOwn(overrides, k) ? overrides[k]! : v]));
}

/**
 * Value an `ARG` inside a stage takes: the --build-arg, else its default expanded with the stage's current
 * variables, else (no default) the global ARG of the same name; undefined when none applies.
 */
export function resolveStageArg(
  def: ArgDefinition,
  ctx: { buildArgs: Readonly<Record<string, string>>; globalArgs: ReadonlyMap<string, string>; env: ReadonlyMap<string, string>; escapeToken?: string },
): string | undefined {
  if (Object.hasOwn(ctx.buildArgs, def.name)) return ctx.buildArgs[def.name];
  if (def.defaultValue !== undefined) return expand(def.defaultValue, ctx.env, { escapeToken: ctx.escapeToken ?? '\\' });
  return ctx.globalArgs.get(def.name);
}

export type StageBase = { kind: 'scratch' } | { kind: 'stage'; index: number } | { kind: 'image'; ref: string };

/** Why a stage needs another stage or an image. */
export interface StageDependency {
  /** Stage index, or undefined for an external image. */
  stage?: number;
  image?: string;
  via: 'FROM' | 'COPY --from' | 'RUN --mount';
  line: number;
}

export interface ResolvedStage {
  index: number;
  name?: string;
  /** `name` or `stage-N`, as BuildKit names stages in messages. */
  displayName: string;
  stage: Stage;
  /** FROM after global ARG expansion. */
  baseName: string;
  base: StageBase;
  /** Expanded `--platform`, if given. */
  platform?: string;
  deps: StageDependency[];
}

export interface BuildPlan {
  stages: ResolvedStage[];
  /** Index of the target stage. */
  target: number;
  /** Stages the target needs, dependencies first. */
  order: number[];
  /** `order` grouped: every stage of a group depends only on earlier groups, so a group builds in parallel. */
  parallel: number[][];
  /** Global scope after the meta ARGs: platform ARGs plus ARGs before the first FROM (with --build-arg values). */
  globalArgs: Map<string, string>;
  /** Build args no ARG of the needed stages (nor the global scope) declares, and no proxy arg: Docker warns. */
  unusedBuildArgs: string[];
}

export interface ResolveOptions {
  buildArgs?: Readonly<Record<string, string>>;
  /** `--target`; default the last stage. */
  target?: string;
  /** Host platform: the build and (Peti builds for the host only) the target platform. */
  platform: Platform;
}

function findByName(stages: readonly ResolvedStage[], name: string): ResolvedStage | undefined {
  const n = name.toLowerCase();
  return stages.find((s) => s.name === n);
}

/** Resolve bases, names, dependencies and the stages the target needs. Throws InvalidArgument. */
export function resolveStages(df: Dockerfile, opts: ResolveOptions): BuildPlan {
  const buildArgs = opts.buildArgs ?? {};
  const esc = { escapeToken: df.escapeToken };
  const last = df.stages[df.stages.length - 1];
  if (!last) throw new InvalidArgument('the Dockerfile has no FROM instruction');
  const targetName = opts.target || last.name || '';
  const globalArgs = platformArgs(opts.platform, opts.platform, targetName || 'default', buildArgs);
  for (const cmd of df.metaArgs) {
    for (const a of cmd.args) {
      let v: string | undefined;
      if (Object.hasOwn(buildArgs, a.name)) v = buildArgs[a.name];
      else if (a.defaultValue !== undefined) v = expand(a.defaultValue, globalArgs, esc);
      if (v !== undefined) globalArgs.set(a.name, v);
    }
  }

  const stages: ResolvedStage[] = [];
  for (const st of df.stages) {
    const where = `${df.filename}:${st.from.startLine}`;
    const baseName = expand(st.from.image, globalArgs, esc);
    if (baseName === '') throw new InvalidArgument(`${where}: base name (${st.from.image}) should not be blank`);
    const prev = findByName(stages, baseName);
    const base: StageBase = prev ? { kind: 'stage', index: prev.index }
      : baseName === 'scratch' ? { kind: 'scratch' } : { kind: 'image', ref: baseName };
    const rs: ResolvedStage = { index: st.index, displayName: st.name ?? `stage-${st.index}`, stage: st, baseName, base, deps: [] };
    if (st.name) rs.name = st.name;
    if (st.from.platform) {
      const p = expand(st.from.platform, globalArgs, esc);
      if (p === '') throw new InvalidArgument(`${where}: empty platform value from expression ${st.from.platform}`);
      rs.platform = p;
    }
    if (prev) rs.deps.push({ stage: prev.index, via: 'FROM', line: st.from.startLine });
    stages.push(rs);
  }

  for (const rs of stages) {
    for (const ins of rs.stage.instructions) {
      const where = `${df.filename}:${ins.startLine}`;
      const trigger = ins.kind === 'ONBUILD' ? null : ins;
      if (trigger?.kind === 'COPY' && trigger.from !== undefined) {
        const from = trigger.from;
        if (expand(from, new Map(), esc) !== from) {
          throw new InvalidArgument(`${where}: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround`);
        }
        if (/^[+-]?\d+$/.test(from)) {
          const i = Number(from);
          if (i < 0 || i >= stages.length) throw new InvalidArgument(`${where}: invalid stage index ${i}`);
          rs.deps.push({ stage: i, via: 'COPY --from', line: ins.startLine });
        } else {
          const s = findByName(stages, from);
          rs.deps.push(s ? { stage: s.index, via: 'COPY --from', line: ins.startLine } : { image: from, via: 'COPY --from', line: ins.startLine });
        }
      } else if (trigger?.kind === 'RUN') {
        for (const m of trigger.mounts) {
          if (m.from === '') continue;
          const s = findByName(stages, m.from);
          rs.deps.push(s ? { stage: s.index, via: 'RUN --mount', line: ins.startLine } : { image: m.from, via: 'RUN --mount', line: ins.startLine });
        }
      }
    }
  }

  // Cycles (possible with COPY --from a later stage), reported as BuildKit does.
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (i: number, root: number): void => {
    state.set(i, 'visiting');
    for (const d of stages[i]!.deps) {
      if (d.stage === undefined) continue;
      const s = state.get(d.stage);
      if (s === 'visiting') throw new InvalidArgument(`${df.filename}:${d.line}: circular dependency detected on stage: ${stages[root]!.displayName}`);
      if (s === undefined) visit(d.stage, root);
    }
    state.set(i, 'done');
  };
  for (const s of stages) if (!state.has(s.index)) visit(s.index, s.index);

  let target = stages[stages.length - 1]!;
  if (opts.target) {
    const t = findByName(stages, opts.target);
    if (!t) throw new InvalidArgument(`target stage ${JSON.stringify(opts.target)} could not be found`);
    target = t;
  }

  const order: number[] = [];
  const level = new Map<number, number>();
  const place = (i: number): number => {
    const known = level.get(i);
    if (known !== undefined) return known;
    let l = 0;
    for (const d of stages[i]!.deps) if (d.stage !== undefined) l = Math.max(l, place(d.stage) + 1);
    level.set(i, l);
    order.push(i);
    return l;
  };
  place(target.index);
  const parallel: number[][] = [];
  for (const i of [...order].sort((a, b) => a - b)) (parallel[level.get(i)!] ??= []).push(i);

  const declared = new Set<string>([...PROXY_ARGS, ...df.metaArgs.flatMap((m) => m.args.map((a) => a.name))]);
  for (const i of order) {
    for (const ins of stages[i]!.stage.instructions) if (ins.kind === 'ARG') ins.args.forEach((a) => declared.add(a.name));
  }
  const unusedBuildArgs = Object.keys(buildArgs).filter((k) => !declared.has(k)).sort();

  return { stages, target: target.index, order, parallel, globalArgs, unusedBuildArgs };
}
