import type { VolumeRecord } from '../../engine/volumes/index.js';

/** Docker's Volume object; UsageData only where Docker fills it (system df), else omitted. */
export function volumeJson(v: VolumeRecord, mountpoint: string, usage?: { Size: number; RefCount: number }): Record<string, unknown> {
  const labels = Object.keys(v.labels).length > 0 ? v.labels : null;
  const options = Object.keys(v.options).length > 0 ? v.options : null;
  return {
    CreatedAt: v.createdAt, Driver: v.driver, Labels: labels, Mountpoint: mountpoint, Name: v.name, Options: options, Scope: 'local',
    ...(usage ? { UsageData: usage } : {}),
  };
}

/** The create body: Docker's VolumeCreateOptions. */
export interface VolumeCreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  ClusterVolumeSpec?: unknown;
}
