/**
 * `docker update`: change resource limits and the restart policy. Docker's rules: a zero (or absent) field keeps
 * the current value; NanoCpus and CpuQuota/CpuPeriod exclude each other across the update too. The new HostConfig
 * is checked by building the container's OCI spec from it (the same validation as create), applied to a running
 * or paused container live with `<runtime> update --resources`, and persisted only once that worked.
 */
import { Conflict, InvalidArgument, messageOf } from '../../lib/errors.js';
import type { OciLinuxResources } from '../runtime/types.js';
import { withRootfsLocked } from './container-fs.js';
import type { ContainerService } from './service.js';
import type { RestartPolicy } from './types.js';

export interface UpdateBody {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  BlkioWeight?: number;
  KernelMemory?: number;
  RestartPolicy?: RestartPolicy;
  [extra: string]: unknown;
}

const NUMERIC = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuQuota', 'CpuPeriod', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'BlkioWeight', 'KernelMemory'] as const;

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** The HostConfig after the update, with Docker's merge rules and conflicts. */
export function mergeUpdate(hc: Record<string, unknown>, body: UpdateBody): Record<string, unknown> {
  const out: Record<string, unknown> = { ...hc };
  for (const k of NUMERIC) {
    const v = body[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new InvalidArgument(`${k} must be an integer`);
    if (v !== 0) out[k] = v;
  }
  for (const k of ['CpusetCpus', 'CpusetMems'] as const) {
    const v = body[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  if (body.PidsLimit !== undefined && body.PidsLimit !== null) {
    if (!Number.isSafeInteger(body.PidsLimit)) throw new InvalidArgument('PidsLimit must be an integer');
    out.PidsLimit = body.PidsLimit;
  }
  if (num(body.NanoCpus) > 0 && num(hc.CpuPeriod) > 0) throw new InvalidArgument('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (num(body.NanoCpus) > 0 && num(hc.CpuQuota) > 0) throw new InvalidArgument('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (num(body.CpuPeriod) > 0 && num(hc.NanoCpus) > 0) throw new InvalidArgument('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (num(body.CpuQuota) > 0 && num(hc.NanoCpus) > 0) throw new InvalidArgument('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  if (num(body.Memory) > 0 && num(body.MemorySwap) === 0 && num(hc.MemorySwap) > 0 && num(body.Memory) > num(hc.MemorySwap)) {
    throw new InvalidArgument('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  const rp = body.RestartPolicy;
  if (rp && rp.Name) {
    if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(rp.Name)) throw new InvalidArgument(`invalid restart policy '${rp.Name}'`);
    if (hc.AutoRemove === true && rp.Name !== 'no') throw new InvalidArgument('Restart policy cannot be updated because AutoRemove is enabled for the container');
    if (rp.Name !== 'on-failure' && (rp.MaximumRetryCount ?? 0) !== 0) throw new InvalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    out.RestartPolicy = { Name: rp.Name, MaximumRetryCount: rp.MaximumRetryCount ?? 0 };
  }
  return out;
}

export async function updateContainer(svc: ContainerService, ref: string, body: UpdateBody): Promise<{ Warnings: string[] }> {
  const id = svc.store.get(ref).id;
  return svc.serial(id, async () => {
    const rec = svc.store.get(id);
    const hostConfig = mergeUpdate(rec.hostConfig, body);
    const next = { ...rec, hostConfig };
    const live = (rec.state.status === 'running' || rec.state.status === 'paused') && rec.state.pid > 0;
    // Building the spec validates the new limits exactly as create does (and needs the rootfs for users and paths).
    const build = (): Promise<{ spec: { linux: { resources?: OciLinuxResources } }; warnings: string[] }> => svc.d.specs.build(next, svc.rootfs(id));
    const built = live ? await build() : await withRootfsLocked(svc, rec, build);
    if (live) {
      const { devices: _devices, ...resources } = built.spec.linux.resources ?? {};
      // An update to "no limit" must say so: leaving the field out would keep the old limit.
      if (body.PidsLimit !== undefined && body.PidsLimit !== null && body.PidsLimit <= 0) resources.pids = { limit: -1 };
      try {
        await svc.d.runtime.update(id, resources, rec.runtime);
      } catch (e) {
        throw new Conflict(`Cannot update container ${id}: ${messageOf(e)}`, { cause: e });
      }
    }
    rec.hostConfig = hostConfig;
    await svc.store.save(rec);
    svc.emit(rec, 'update');
    return { Warnings: built.warnings };
  });
}
