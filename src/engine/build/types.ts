/**
 * Typed Dockerfile syntax tree. Values are as written (unexpanded): the executor expands the instructions Docker
 * expands (see expand.ts) with the environment of the step, so a node can be parsed once and dispatched many times.
 */

/** 1-based, inclusive line numbers in the Dockerfile, heredoc bodies included. */
export interface LineRange {
  startLine: number;
  endLine: number;
}

/** What every instruction node carries. */
export interface NodeBase extends LineRange {
  /** The instruction keyword as written (`run`, `Copy`); `kind` is the normalised one. */
  keyword: string;
  /**
   * The logical line after joining continuations, trimmed, without heredoc bodies. Docker prints it in
   * `Step N/M : <original>` and keeps it in history; cache keys should use it plus `heredocs`.
   */
  original: string;
  /** The exact source lines (startLine..endLine), continuations, comments and heredoc bodies included. */
  source: string;
}

/** A heredoc attached to RUN, COPY, ADD (or ONBUILD wrapping one of them). */
export interface Heredoc {
  /** The delimiter word with quotes removed (`EOF` for `<<"EOF"`). */
  name: string;
  /** The body: every line up to the delimiter, each with its line ending, as written (no tab stripping). */
  content: string;
  /** `<<-`: leading tabs are stripped from body lines and from the delimiter line. */
  chomp: boolean;
  /** False when any part of the delimiter was quoted: then COPY/ADD do not expand variables in the body. */
  expand: boolean;
  /** File descriptor prefix (`3<<EOF` → 3); 0 when absent. */
  fd: number;
}

/** Exec form (`["a","b"]`, run without a shell) or shell form (the text handed to `SHELL` + `-c`). */
export type CommandLine = { form: 'exec'; args: string[] } | { form: 'shell'; command: string };

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharing = 'shared' | 'private' | 'locked';

/** One `RUN --mount=...`, with BuildKit's defaults applied (type bind; read-only except cache and tmpfs). */
export interface RunMount {
  type: MountType;
  /** Stage name, stage index or image the bind/cache mount reads from; '' for the build context. */
  from: string;
  source: string;
  target: string;
  readOnly: boolean;
  /** tmpfs size in bytes; 0 = unlimited. */
  sizeLimit: number;
  /** cache/secret id ('' → for cache, the target path is the id). */
  id: string;
  /** '' when not given; BuildKit treats that as `shared`. */
  sharing: CacheSharing | '';
  required: boolean;
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

export type NetworkMode = 'default' | 'none' | 'host';
export type SecurityMode = 'sandbox' | 'insecure';

/** How a RUN with heredocs executes, as BuildKit does it. */
export type RunScript =
  /** Single heredoc starting with `#!`: written as an executable file mounted read-only at `path`; the shell runs `path`. */
  | { kind: 'file'; path: string; dir: string; name: string; content: string; mode: number; shellCommand: string }
  /** Single heredoc without shebang, or several heredocs / heredoc on a command: the shell runs `shellCommand`. */
  | { kind: 'shell'; shellCommand: string };

export interface FromInstruction extends NodeBase {
  kind: 'FROM';
  /** Base image reference or earlier stage name, unexpanded (expanded with the global ARGs only). */
  image: string;
  /** Lower-cased `AS name`, or undefined. */
  stageName?: string;
  platform?: string;
}

export interface RunInstruction extends NodeBase {
  kind: 'RUN';
  command: CommandLine;
  /** `--mount` values as written; parse each with `parseRunMount(spec, expand)` once the step's env is known. */
  mountSpecs: string[];
  /**
   * Mounts parsed with their values taken literally. A spec containing `$` is only pre-validated (BuildKit defers
   * it to dispatch) and has `needsExpansion` set.
   */
  mounts: (RunMount & { needsExpansion: boolean })[];
  network: NetworkMode;
  security: SecurityMode;
  heredocs: Heredoc[];
  /** Present when `heredocs` is not empty (shell form only). */
  script?: RunScript;
  /** Names of the flags given (`mount`, `network`, ...). */
  flagsUsed: string[];
}

export interface CmdInstruction extends NodeBase {
  kind: 'CMD';
  command: CommandLine;
}

export interface EntrypointInstruction extends NodeBase {
  kind: 'ENTRYPOINT';
  command: CommandLine;
}

export interface ShellInstruction extends NodeBase {
  kind: 'SHELL';
  shell: string[];
}

/** A heredoc used as a COPY/ADD source: a file named `path` holding `data` (mode 0644 unless --chmod). */
export interface InlineSource {
  path: string;
  /** Body with `<<-` tab stripping already applied. */
  data: string;
  /** Expand `$VAR` in data (unquoted delimiter); done with escape `\` and quotes kept, as BuildKit does. */
  expand: boolean;
}

export interface CopyInstruction extends NodeBase {
  kind: 'COPY' | 'ADD';
  /** Source paths or patterns as written (each expanded with `expand`, one word each). */
  sources: string[];
  inlineSources: InlineSource[];
  dest: string;
  /** True for the JSON array form. */
  json: boolean;
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  /** COPY --parents. */
  parents: boolean;
  excludes: string[];
  /** ADD only. */
  keepGitDir?: boolean;
  checksum?: string;
  unpack?: boolean;
  heredocs: Heredoc[];
}

export interface KeyValue {
  key: string;
  value: string;
  /** Legacy `ENV key value` form (no `=`). */
  legacy: boolean;
}

export interface EnvInstruction extends NodeBase {
  kind: 'ENV';
  pairs: KeyValue[];
}

export interface LabelInstruction extends NodeBase {
  kind: 'LABEL';
  pairs: KeyValue[];
}

export interface ArgDefinition {
  name: string;
  /** Default as written (quotes kept, unexpanded); undefined when no `=`. */
  defaultValue?: string;
}

export interface ArgInstruction extends NodeBase {
  kind: 'ARG';
  args: ArgDefinition[];
}

export interface WorkdirInstruction extends NodeBase {
  kind: 'WORKDIR';
  path: string;
}

export interface UserInstruction extends NodeBase {
  kind: 'USER';
  user: string;
}

export interface ExposeInstruction extends NodeBase {
  kind: 'EXPOSE';
  /** Sorted as BuildKit does; unexpanded. */
  ports: string[];
}

export interface VolumeInstruction extends NodeBase {
  kind: 'VOLUME';
  volumes: string[];
}

export interface StopSignalInstruction extends NodeBase {
  kind: 'STOPSIGNAL';
  signal: string;
}

/** Durations in nanoseconds, as Docker's HealthConfig stores them; 0 = inherit the default. */
export interface HealthcheckSpec {
  /** `['NONE']`, `['CMD', ...args]` or `['CMD-SHELL', command]`. */
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export interface HealthcheckInstruction extends NodeBase {
  kind: 'HEALTHCHECK';
  health: HealthcheckSpec;
}

export interface MaintainerInstruction extends NodeBase {
  kind: 'MAINTAINER';
  maintainer: string;
}

export interface OnbuildInstruction extends NodeBase {
  kind: 'ONBUILD';
  /** The trigger as stored in the image config (`OnBuild`), heredoc bodies appended as BuildKit does. */
  expression: string;
  trigger: Instruction;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | CopyInstruction
  | EnvInstruction
  | LabelInstruction
  | ArgInstruction
  | WorkdirInstruction
  | UserInstruction
  | ExposeInstruction
  | VolumeInstruction
  | StopSignalInstruction
  | HealthcheckInstruction
  | MaintainerInstruction
  | OnbuildInstruction;

export type InstructionKind = Instruction['kind'];

export interface Stage {
  /** Position among the FROMs, from 0 (what `COPY --from=0` means). */
  index: number;
  /** Lower-cased `AS` name, or undefined. */
  name?: string;
  from: FromInstruction;
  /** Instructions after FROM, in order. */
  instructions: Instruction[];
}

export interface ParserDirectives {
  syntax?: string;
  escape?: string;
  check?: string;
}

export interface Dockerfile {
  filename: string;
  escapeToken: '\\' | '`';
  directives: ParserDirectives;
  /** ARG instructions before the first FROM (global scope, visible to FROM lines). */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  /** Every instruction in file order (meta ARGs and FROMs included). */
  instructions: Instruction[];
  /** Non-fatal findings Docker prints as warnings (empty continuation lines). */
  warnings: string[];
}
