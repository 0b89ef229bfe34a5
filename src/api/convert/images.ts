import type { Image } from '../../engine/images/index.js';
import { familiarName, parseReference } from '../../lib/reference.js';
import { compareVersions } from '../router.js';

const fam = (r: string): string => familiarName(parseReference(r));

/** `GET /images/json` item, Docker's ImageSummary. */
export function imageSummary(img: Image, version: string, sharedSize = -1): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Id: img.id,
    ParentId: img.parent ?? '',
    RepoTags: img.repoTags.map(fam),
    RepoDigests: img.repoDigests.map(fam),
    Created: Math.floor(Date.parse(img.created) / 1000) || 0,
    Size: img.size,
    SharedSize: sharedSize,
    Labels: img.config.config?.Labels ?? {},
    Containers: -1,
  };
  if (compareVersions(version, '1.44') < 0) out.VirtualSize = img.size;
  return out;
}

/** `GET /images/{name}/json`, Docker's ImageInspect. */
export function imageInspect(img: Image, graph: { lower: string[]; manifestSize: number }, version: string): Record<string, unknown> {
  const c = img.config;
  const cc = c.config ?? {};
  const config = {
    Hostname: '', Domainname: '', User: cc.User ?? '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    ExposedPorts: cc.ExposedPorts, Tty: false, OpenStdin: false, StdinOnce: false, Env: cc.Env ?? null, Cmd: cc.Cmd ?? null,
    Healthcheck: cc.Healthcheck, ArgsEscaped: cc.ArgsEscaped, Image: '', Volumes: cc.Volumes ?? null, WorkingDir: cc.WorkingDir ?? '',
    Entrypoint: cc.Entrypoint ?? null, OnBuild: cc.OnBuild ?? null, Labels: cc.Labels ?? null, StopSignal: cc.StopSignal, Shell: cc.Shell,
  };
  const out: Record<string, unknown> = {
    Id: img.id,
    RepoTags: img.repoTags.map(fam),
    RepoDigests: img.repoDigests.map(fam),
    Parent: img.parent ?? '',
    Comment: c.history?.[c.history.length - 1]?.comment ?? '',
    Created: c.created ?? img.created,
    DockerVersion: typeof c.docker_version === 'string' ? c.docker_version : '',
    Author: c.author ?? '',
    Config: config,
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    ...(c['os.version'] ? { OsVersion: c['os.version'] } : {}),
    Size: img.size,
    GraphDriver: { Name: 'overlayfs', Data: { LowerDir: graph.lower.join(':') } },
    RootFS: { Type: 'layers', Layers: img.diffIds },
    Metadata: { LastTagTime: img.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
  if (compareVersions(version, '1.44') < 0) out.VirtualSize = img.size;
  if (compareVersions(version, '1.48') >= 0) out.Descriptor = { mediaType: img.manifestMediaType, digest: img.manifest, size: graph.manifestSize };
  return out;
}
