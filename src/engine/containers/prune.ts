import type { ContainerService } from './service.js';
import { listContainers } from './list.js';
import { removeContainer } from './remove.js';

/** Remove stopped containers matching `until` and `label` filters; returns IDs and the bytes their layers held. */
export async function pruneContainers(svc: ContainerService, filters: Record<string, string[]>): Promise<{ deleted: string[]; reclaimed: number }> {
  const until = filters.until?.[0];
  const cutoff = until ? (/^\d+(\.\d+)?$/.test(until) ? Number(until) * 1000 : Date.parse(until)) : undefined;
  const labelFilters = { ...(filters.label ? { label: filters.label } : {}) };
  const negLabels = filters['label!'] ?? [];
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const rec of listContainers(svc, { all: true, filters: labelFilters })) {
    if (rec.state.status === 'running' || rec.state.status === 'paused' || rec.state.status === 'restarting') continue;
    if (cutoff !== undefined && Date.parse(rec.created) >= cutoff) continue;
    const labels = (rec.config.Labels ?? {}) as Record<string, string>;
    if (negLabels.some((l) => { const i = l.indexOf('='); return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1); })) continue;
    const size = await svc.d.snapshots.usage(rec.snapshotKey).then((u) => u.size, () => 0);
    await removeContainer(svc, rec.id, { force: false });
    deleted.push(rec.id);
    reclaimed += size;
  }
  return { deleted, reclaimed };
}
