import type { Digest } from '../../lib/digest.js';
import type { ContainerNetworkState } from '../network/index.js';
import type { MountPoint } from '../volumes/index.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  /** conmon's pid while a conmon watches this container. */
  conmonPid: number;
}

/** One healthcheck run (Docker's HealthcheckResult). */
export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** Docker's State.Health. */
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthResult[];
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

/** Docker's create body, as received (the wire shape; kept verbatim for inspect). */
export interface CreateBody {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | string | null;
  Entrypoint?: string[] | string | null;
  Image?: string;
  Labels?: Record<string, string> | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  StopSignal?: string;
  StopTimeout?: number | null;
  Healthcheck?: object;
  ArgsEscaped?: boolean;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  HostConfig?: Record<string, unknown>;
  NetworkingConfig?: Record<string, unknown>;
  ConsoleSize?: [number, number];
  [extra: string]: unknown;
}

export interface ContainerRecord {
  id: string;
  /** Without the leading slash. */
  name: string;
  created: string;
  /** The image as the user named it (Config.Image). */
  image: string;
  imageId: Digest;
  /** The effective Config (image defaults merged with the create body), as inspect shows it. */
  config: CreateBody;
  hostConfig: Record<string, unknown>;
  path: string;
  args: string[];
  state: ContainerState;
  restartCount: number;
  /** The restart policy's current back-off (Docker's: 100 ms doubling to a minute). */
  restartDelayMs?: number;
  /** The user stopped it (docker stop/kill): restart policies other than `always` stay quiet. */
  manualStop: boolean;
  /** Snapshot key of the container's writable layer. */
  snapshotKey: string;
  /** Chain ID the snapshot sits on (pins the image's layers against GC). */
  parentSnapshot?: string;
  runtime: string;
  logPath: string;
  hostsPath: string;
  hostnamePath: string;
  resolvConfPath: string;
  /** Healthcheck state (inspect's State.Health), kept across restarts of the container and of petid. */
  health?: HealthState;
  /** Networks, published ports and namespace path (inspect's NetworkSettings); absent without a network service. */
  networkSettings?: ContainerNetworkState;
  /** Volumes and binds resolved at create (Docker's MountPoints): inspect's Mounts, rm -v, --volumes-from. */
  mounts?: MountPoint[];
}

export interface ListFilter {
  all?: boolean;
  limit?: number;
  filters?: Record<string, string[]>;
}

export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string } | null;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';
