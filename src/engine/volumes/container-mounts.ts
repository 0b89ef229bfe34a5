/**
 * A container's mounts planned from its create body, in Docker's order of precedence: mounts inherited through
 * VolumesFrom, then `Binds` (-v) and `Mounts` (--mount) that replace them by destination, then the image's
 * `VOLUME` paths (and `-v /path`) not covered yet, which become anonymous volumes. Creating, mounting and seeding
 * volumes is the service's work; this only reads (a --mount bind source must exist).
 */
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { InvalidArgument } from '../../lib/errors.js';
import { checkVolumeName } from './names.js';
import type { ContainerMountConfig, MountPoint } from './types.js';

/** A planned mount; a volume without Name is anonymous. `create` holds --mount's options for a new volume. */
export interface PlannedMount extends MountPoint {
  create?: { driverOpts: Record<string, string>; labels: Record<string, string> };
}

/** Go's filepath.Clean for an absolute host path (Docker shows sources cleaned). */
function cleanSource(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

function cleanTarget(p: string, bad: (why: string) => InvalidArgument): string {
  if (!p.startsWith('/')) throw bad(`invalid mount path: '${p}' mount path must be absolute`);
  const clean = posix.normalize(p);
  const out = clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean;
  if (out === '/') throw bad(`invalid specification: destination can't be '/'`);
  return out;
}

/** `-v` entries: `name:/dst[:mode]`, `/host:/dst[:mode]` or a lone `/dst` (anonymous). */
function parseBind(spec: string): PlannedMount {
  const bad = (why: string): InvalidArgument => new InvalidArgument(`invalid volume specification: '${spec}'${why ? `: ${why}` : ''}`);
  const parts = spec.split(':');
  if (parts.length === 1) {
    const Destination = cleanTarget(spec, (why) => bad(`invalid mount config for type "volume": ${why}`));
    return { Type: 'volume', Source: '', Destination, Driver: 'local', Mode: '', RW: true, Propagation: '' };
  }
  if (parts.length > 3 || parts[0] === '' || parts[1] === '') throw bad('');
  const [source = '', target = '', mode = ''] = parts;
  const isBind = source.startsWith('/');
  const Destination = cleanTarget(target, (why) => bad(`invalid mount config for type "${isBind ? 'bind' : 'volume'}": ${why}`));
  let rw = true;
  let propagation = '';
  let noCopy = false;
  for (const m of mode.split(',').filter((x) => x !== '')) {
    if (m === 'ro' || m === 'rw') rw = m === 'rw';
    else if (PROPAGATIONS.has(m)) propagation = m;
    else if (m === 'nocopy') noCopy = true;
    else if (!['z', 'Z', 'consistent', 'cached', 'delegated'].includes(m)) throw bad(`invalid mode: ${mode}`);
  }
  if (isBind) {
    return { Type: 'bind', Source: cleanSource(source), Destination, Mode: mode, RW: rw, Propagation: propagation || 'rprivate' };
  }
  checkVolumeName(source);
  // Docker shows the SELinux default `z` as the mode of a -v volume given without one.
  return { Type: 'volume', Name: source, Source: '', Destination, Driver: 'local', Mode: mode || 'z', RW: rw, Propagation: '', ...(noCopy ? { NoCopy: true } : {}) };
}

interface ApiMount {
  Type?: string; Source?: string; Target?: string; ReadOnly?: boolean;
  BindOptions?: { Propagation?: string } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: object | null;
}

/** `--mount` entries. Bind and tmpfs are checked again by the spec; here they are recorded for inspect. */
function parseApiMount(raw: unknown): PlannedMount {
  const m = (raw ?? {}) as ApiMount;
  const type = m.Type ?? '';
  const bad = (why: string): InvalidArgument => new InvalidArgument(`invalid mount config for type "${type}": ${why}`);
  if (!m.Target) throw bad('field Target must not be empty');
  const Destination = cleanTarget(m.Target, bad);
  const RW = m.ReadOnly !== true;
  switch (type) {
    case 'bind': {
      // Checked before any volume is created, so a bad --mount leaves nothing behind (the spec checks it again).
      const src = m.Source ?? '';
      const create = (m.BindOptions as { CreateMountpoint?: boolean } | null | undefined)?.CreateMountpoint === true;
      if (src.startsWith('/') && !create && !existsSync(cleanSource(src))) throw bad(`bind source path does not exist: ${cleanSource(src)}`);
      return { Type: 'bind', Source: src.startsWith('/') ? cleanSource(src) : src, Destination, Mode: '', RW, Propagation: m.BindOptions?.Propagation || 'rprivate' };
    }
    case 'tmpfs':
      return { Type: 'tmpfs', Source: '', Destination, Mode: '', RW, Propagation: '' };
    case 'volume': {
      if (m.BindOptions) throw bad('BindOptions must not be specified');
      if (m.TmpfsOptions) throw bad('TmpfsOptions must not be specified');
      const vo = m.VolumeOptions ?? {};
      if (vo.Subpath) throw new InvalidArgument(`HostConfig.Mounts ${Destination}: VolumeOptions.Subpath is not supported by Peti yet`);
      const driver = vo.DriverConfig?.Name || 'local';
      const name = m.Source ?? '';
      if (driver !== 'local') throw new InvalidArgument(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
      if (name !== '') checkVolumeName(name);
      return {
        Type: 'volume', ...(name !== '' ? { Name: name } : {}), Source: '', Destination, Driver: 'local', Mode: '', RW, Propagation: '',
        ...(vo.NoCopy === true ? { NoCopy: true } : {}),
        create: { driverOpts: { ...(vo.DriverConfig?.Options ?? {}) }, labels: { ...(vo.Labels ?? {}) } },
      };
    }
    default:
      throw new InvalidArgument(`HostConfig.Mounts ${Destination}: mount type ${JSON.stringify(type)} is not supported`);
  }
}

/** `--volumes-from C[:ro|rw]`: the container reference and the mode forced on what it lends. */
export function parseVolumesFrom(spec: string): { ref: string; rw?: boolean } {
  const i = spec.lastIndexOf(':');
  if (i < 0) return { ref: spec };
  const mode = spec.slice(i + 1);
  if (mode !== 'ro' && mode !== 'rw') throw new InvalidArgument(`invalid mode: ${mode}`);
  return { ref: spec.slice(0, i), rw: mode === 'rw' };
}

/** Inherited mounts from VolumesFrom containers: their volumes and binds (tmpfs stays with its owner). */
export function inheritMounts(from: { id: string; mounts: readonly MountPoint[]; rw?: boolean }[]): PlannedMount[] {
  const out: PlannedMount[] = [];
  for (const src of from) {
    for (const mp of src.mounts) {
      if (mp.Type === 'tmpfs') continue;
      const { NoCopy: _n, ...rest } = mp;
      void _n;
      out.push({ ...rest, RW: src.rw ?? mp.RW, From: src.id });
    }
  }
  return out;
}

/** The full plan; throws InvalidArgument (`Duplicate mount point: X` as Docker) for clashing destinations. */
export function planMounts(cfg: ContainerMountConfig, inherited: PlannedMount[]): PlannedMount[] {
  const byDest = new Map<string, PlannedMount>();
  for (const mp of inherited) byDest.set(mp.Destination, mp);
  const own = new Set<string>();
  const addOwn = (mp: PlannedMount): void => {
    if (own.has(mp.Destination)) throw new InvalidArgument(`Duplicate mount point: ${mp.Destination}`);
    own.add(mp.Destination);
    byDest.set(mp.Destination, mp);
  };
  for (const b of cfg.binds ?? []) addOwn(parseBind(b));
  for (const m of cfg.mounts ?? []) addOwn(parseApiMount(m));
  for (const path of Object.keys(cfg.volumes ?? {})) {
    const Destination = cleanTarget(path, (why) => new InvalidArgument(`invalid volume specification: '${path}': ${why}`));
    if (byDest.has(Destination)) continue;
    byDest.set(Destination, { Type: 'volume', Source: '', Destination, Driver: 'local', Mode: '', RW: true, Propagation: '' });
  }
  return [...byDest.values()];
}
