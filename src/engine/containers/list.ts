import { InvalidArgument } from '../../lib/errors.js';
import type { ContainerService } from './service.js';
import type { ContainerRecord, ListFilter } from './types.js';
import { HEALTH_STATUSES, healthFilterValue } from './health.js';

const KEYS = new Set(['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'health', 'isolation', 'is-task', 'network', 'publish', 'expose', 'volume']);
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

function labelMatch(labels: Record<string, string>, v: string): boolean {
  const i = v.indexOf('=');
  return i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1);
}

/** Docker's container list: newest first, `all`, `limit`, and its filters (OR within a key, AND across keys). */
export function listContainers(svc: ContainerService, opts: ListFilter = {}): ContainerRecord[] {
  const filters = opts.filters ?? {};
  for (const k of Object.keys(filters)) if (!KEYS.has(k)) throw new InvalidArgument(`invalid filter '${k}'`);
  for (const v of filters.status ?? []) if (!STATUSES.has(v)) throw new InvalidArgument(`invalid filter 'status=${v}'`);
  for (const v of filters.health ?? []) if (!(HEALTH_STATUSES as readonly string[]).includes(v)) throw new InvalidArgument(`Unrecognised filter value for health: ${v}`);
  const all = [...svc.store.byId.values()].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  const find = (ref: string): ContainerRecord | undefined => {
    try {
      return svc.store.find(ref);
    } catch {
      return undefined;
    }
  };
  const ancestors = (v: string): Set<string> => {
    const ids = new Set<string>();
    const img = svc.d.images.resolve(v);
    if (img) ids.add(img.id);
    return ids;
  };
  let out = all.filter((r) => {
    const showAll = opts.all || (opts.limit ?? 0) > 0 || (filters.status?.length ?? 0) > 0 || (filters.exited?.length ?? 0) > 0;
    if (!showAll && r.state.status !== 'running' && r.state.status !== 'paused' && r.state.status !== 'restarting') return false;
    for (const [k, vals] of Object.entries(filters)) {
      if (vals.length === 0) continue;
      const ok = vals.some((v) => {
        switch (k) {
          case 'id': return r.id.startsWith(v);
          case 'name': return new RegExp(v).test(r.name) || new RegExp(v).test(`/${r.name}`);
          case 'label': return labelMatch((r.config.Labels ?? {}) as Record<string, string>, v);
          case 'status': return r.state.status === v;
          case 'exited': return r.state.status === 'exited' && String(r.state.exitCode) === v;
          case 'ancestor': return ancestors(v).has(r.imageId) || r.image === v;
          case 'before': { const o = find(v); return !!o && r.created < o.created; }
          case 'since': { const o = find(v); return !!o && r.created > o.created; }
          case 'isolation': return v === 'default';
          case 'is-task': return v === 'false';
          case 'health': return healthFilterValue(r) === v;
          default: return false;
        }
      });
      if (!ok) return false;
    }
    return true;
  });
  if (opts.limit && opts.limit > 0) out = out.slice(0, opts.limit);
  return out;
}
