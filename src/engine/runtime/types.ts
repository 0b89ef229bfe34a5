/** The parts of the OCI runtime spec (config.json) Peti writes. Field names are the spec's. */
export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: { bounding: string[]; effective: string[]; inheritable: string[]; permitted: string[]; ambient: string[] };
  rlimits?: { type: string; hard: number; soft: number }[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; valueTwo?: number; op: string }[] }[];
}

export interface OciLinuxResources {
  devices?: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[];
  memory?: { limit?: number; reservation?: number; swap?: number; disableOOMKiller?: boolean; swappiness?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string; realtimeRuntime?: number; realtimePeriod?: number };
  pids?: { limit: number };
  blockIO?: { weight?: number };
  hugepageLimits?: { pageSize: string; limit: number }[];
  unified?: Record<string, string>;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  hooks?: Record<string, { path: string; args?: string[]; env?: string[]; timeout?: number }[]>;
  annotations?: Record<string, string>;
  linux: {
    uidMappings?: { containerID: number; hostID: number; size: number }[];
    gidMappings?: { containerID: number; hostID: number; size: number }[];
    sysctl?: Record<string, string>;
    resources?: OciLinuxResources;
    cgroupsPath?: string;
    namespaces: { type: string; path?: string }[];
    devices?: { path: string; type: string; major: number; minor: number; fileMode?: number; uid?: number; gid?: number }[];
    seccomp?: OciSeccomp;
    rootfsPropagation?: string;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    mountLabel?: string;
  };
}

/** How one container's conmon is set up. Paths are absolute; the bundle holds config.json and the rootfs mount. */
export interface RuntimeCreateOptions {
  id: string;
  /** A name for logs (conmon -n). */
  name: string;
  bundle: string;
  /** Where conmon writes the container log (k8s-file format). */
  logPath: string;
  /** conmon writes the exit code to `<exitDir>/<id>`. */
  exitDir: string;
  /** conmon's persist dir (-0): `exit` and `oom` files land here. */
  persistDir: string;
  tty: boolean;
  /** Keep stdin open for attach (Docker's OpenStdin). */
  stdin: boolean;
  /** Leave stdin open after the first attach detaches (Docker: !StdinOnce). */
  leaveStdinOpen?: boolean;
  /** Runtime binary name or path (crun default). */
  runtime?: string;
  /** Optional max log size in bytes (conmon --log-size-max). */
  logSizeMax?: number;
}

export interface RuntimeState {
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused';
  pid: number;
}

/** Live stdio of a container or exec through conmon's attach socket. */
export interface AttachStreams {
  /** Output frames: stream 1 stdout, 2 stderr (TTY output arrives as 1). Ends when the process's output ends. */
  output: AsyncIterable<{ stream: 1 | 2; data: Buffer }>;
  /** Write stdin bytes. */
  write(data: Buffer): Promise<void>;
  /** Half-close: the container's stdin sees EOF (unless conmon was told to leave it open). */
  closeStdin(): void;
  /** Drop the attachment (the container keeps running). */
  detach(): void;
}

export interface ExecOptions {
  containerId: string;
  execId: string;
  /** A private dir for this exec (process.json, exit file, attach socket link). */
  dir: string;
  process: OciProcess;
  tty: boolean;
  stdin: boolean;
  runtime?: string;
  /** Wire stdio through conmon's attach socket (false: detached exec, output discarded). Default true. */
  attach?: boolean;
}

export interface ExecHandle {
  pid: number;
  /** Present when the exec is attached (tty or stdin/stdout wanted). */
  streams?: AttachStreams;
  /** Resolves with the exit code when the exec's process exits. */
  exited: Promise<number>;
  resize(rows: number, cols: number): Promise<void>;
}

/** The OCI runtime driven through conmon: one conmon per container, outliving petid. */
export interface ContainerRuntime {
  /**
   * Start conmon, which runs `<runtime> create`: the container exists with its process waiting for start.
   * Resolves with the container's pid and conmon's pid; throws Internal with the runtime's own message when create
   * fails (e.g. `executable file not found`).
   */
  create(opts: RuntimeCreateOptions): Promise<{ pid: number; conmonPid: number }>;
  /** `<runtime> start`: the process runs. */
  start(id: string, runtime?: string): Promise<void>;
  /** Send a signal (name like SIGTERM or a number) to the container's init (all=true: every process). */
  kill(id: string, signal: string | number, all?: boolean, runtime?: string): Promise<void>;
  /** `<runtime> delete [--force]`; absent is success. */
  delete(id: string, force?: boolean, runtime?: string): Promise<void>;
  /** `<runtime> state`, undefined when the runtime does not know the container. */
  state(id: string, runtime?: string): Promise<RuntimeState | undefined>;
  /** Connect to conmon's attach socket of a container bundle. */
  attach(bundle: string, opts: { stdin: boolean }): Promise<AttachStreams>;
  /** Resize the container's pty (conmon's ctl fifo). */
  resize(bundle: string, rows: number, cols: number): Promise<void>;
  /** Run a process in a running container through conmon --exec. */
  exec(opts: ExecOptions): Promise<ExecHandle>;
  pause(id: string, runtime?: string): Promise<void>;
  resume(id: string, runtime?: string): Promise<void>;
  /** `<runtime> update --resources`: apply new cgroup limits to a live container; Conflict with the runtime's message. */
  update(id: string, resources: OciLinuxResources, runtime?: string): Promise<void>;
  /** A container is about to be created: get the kernel ready for its cgroup moves (a hint; never fails). */
  warm?(): void;
  /** Adjust a spec about to be written as a bundle's config.json (e.g. hand the runtime what it prepared before). */
  prepareSpec?(spec: OciSpec, runtime?: string): Promise<void>;
}
