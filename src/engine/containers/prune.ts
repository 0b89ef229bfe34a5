import { InvalidArgument } from '../../lib/errors.js';
import type { ContainerService } from './service.js';
import { listContainers } from './list.js';
import { removeContainer } from './remove.js';

const PRUNE_KEYS = new Set(['label', 'label!', 'until']);
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Docker's `until` prune filter (filters.GetTimestamp): unix seconds (with fraction), RFC 3339 or a date, or a Go
 * duration (`1h30m`) meaning that long before now. Milliseconds since the epoch.
 */
export function untilCutoffMs(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos > 0 && pos === v.length) return now - total;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgument(`failed to parse value as time or duration: "${v}"`);
  return t;
}

/** Remove stopped containers matching `until` and `label` filters; returns IDs and the bytes their layers held. */
export async function pruneContainers(svc: ContainerService, filters: Record<string, string[]>): Promise<{ deleted: string[]; reclaimed: number }> {
  for (const k of Object.keys(filters)) if (!PRUNE_KEYS.has(k)) throw new InvalidArgument(`invalid filter '${k}'`);
  const cutoffs = (filters.until ?? []).map((u) => untilCutoffMs(u));
  const labelFilters = { ...(filters.label ? { label: filters.label } : {}) };
  const negLabels = filters['label!'] ?? [];
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const rec of listContainers(svc, { all: true, filters: {} })) {
    if (rec.state.status === 'running' || rec.state.status === 'paused' || rec.state.status === 'restarting') continue;
    if (cutoffs.some((c) => Date.parse(rec.created) >= c)) continue;
    const labels = (rec.config.Labels ?? {}) as Record<string, string>;
    const has = (l: string): boolean => { const i = l.indexOf('='); return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1); };
    // As Docker's prune: every `label` must match, and no `label!`.
    if (!(labelFilters.label ?? []).every(has)) continue;
    if (negLabels.some(has)) continue;
    const size = await svc.d.snapshots.usage(rec.snapshotKey).then((u) => u.size, () => 0);
    await removeContainer(svc, rec.id, { force: false });
    deleted.push(rec.id);
    reclaimed += size;
  }
  svc.d.events.emit('container', 'prune', '', { reclaimed: String(reclaimed) });
  return { deleted, reclaimed };
}
