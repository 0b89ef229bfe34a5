/** Records and interfaces of the volume service (named, anonymous and tmpfs/bind-device volumes of the local driver). */

/** Docker 23+ marks anonymous volumes with this label; `volume prune` without `all` removes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** One volume as stored in `<dataRoot>/volumes/<name>/volume.json`. */
export interface VolumeRecord {
  name: string;
  /** Always `local`: the only driver Peti has. */
  driver: string;
  /** RFC 3339, seconds. */
  createdAt: string;
  labels: Record<string, string>;
  /** The local driver's options (`type`, `device`, `o`), verbatim as given. */
  options: Record<string, string>;
  /** The image content was copied in once (Docker seeds an empty volume at its first mount unless nocopy). */
  seeded?: boolean;
}

export interface CreateVolumeOptions {
  name?: string;
  driver?: string;
  driverOpts?: Record<string, string> | null;
  labels?: Record<string, string> | null;
}

/**
 * A container's mount as Docker records it (`MountPoints`, shown by inspect as `Mounts`). Kept on the container
 * record at create so restarts, `rm -v` and `--volumes-from` see the same volumes.
 */
export interface MountPoint {
  Type: 'volume' | 'bind' | 'tmpfs';
  /** Volume name (Type volume). */
  Name?: string;
  /** Host path: the volume's mount point or the bind source ('' for tmpfs). */
  Source: string;
  /** Path inside the container, as the user wrote it (cleaned). */
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Do not seed the volume with the image's content at Destination. */
  NoCopy?: boolean;
  /** Inherited through VolumesFrom from this container ID: the spec takes it from here, not from HostConfig. */
  From?: string;
}

/** A mount the OCI spec gets from the volume service: destination already resolved inside the rootfs. */
export interface VolumeSpecMount {
  destination: string;
  source: string;
  readonly: boolean;
  propagation?: string;
}

/** What a container's create body says about its mounts (the fields of Docker's Config and HostConfig). */
export interface ContainerMountConfig {
  /** Config.Volumes: the image's VOLUME paths and `-v /path`, merged. */
  volumes?: Record<string, unknown> | null;
  binds?: string[] | null;
  mounts?: unknown[] | null;
  volumesFrom?: string[] | null;
}

/** The containers service's view of the volume service. */
export interface ContainerVolumes {
  /**
   * Resolve a new container's mounts: create named volumes on demand and anonymous ones, mount volumes whose
   * driver options ask for it, seed new volumes from the rootfs mounted at `rootfs`. `mountsOf` gives another
   * container's mounts for VolumesFrom (throws NotFound). Throws InvalidArgument for a bad spec; on failure the
   * anonymous volumes it created are removed again.
   */
  setup(containerId: string, cfg: ContainerMountConfig, rootfs: string, mountsOf: (ref: string) => { id: string; mounts: MountPoint[] }): Promise<MountPoint[]>;
  /** The spec's view of the mounts, each target resolved inside `rootfs`; mounts volumes that need it. */
  specMounts(mounts: readonly MountPoint[], rootfs: string): Promise<VolumeSpecMount[]>;
  /** A container started: `mount` events. */
  started(containerId: string, mounts: readonly MountPoint[]): void;
  /**
   * A container is gone: `unmount` events, its anonymous volumes removed when `removeAnonymous` (rm -v, --rm)
   * and no other container uses them, volumes no container uses any more unmounted. Never throws.
   */
  released(containerId: string, mounts: readonly MountPoint[], removeAnonymous: boolean): Promise<void>;
}
