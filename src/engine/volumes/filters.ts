import { InvalidArgument } from '../../lib/errors.js';
import { ANONYMOUS_LABEL, type VolumeRecord } from './types.js';

/** Docker's label filter: `key` or `key=value`. */
export function labelMatches(labels: Record<string, string>, f: string): boolean {
  const eq = f.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels, f);
  return labels[f.slice(0, eq)] === f.slice(eq + 1);
}

function boolFilter(key: string, values: string[]): boolean {
  const v = values[values.length - 1]?.toLowerCase() ?? '';
  if (['true', '1'].includes(v)) return true;
  if (['false', '0'].includes(v)) return false;
  throw new InvalidArgument(`invalid filter '${key}=${values.join(',')}'`);
}

/** `GET /volumes` filters: name (substring), label, dangling, driver. Unknown keys are Docker's 400. */
export function matchList(filters: Record<string, string[]>, v: VolumeRecord, inUse: boolean): boolean {
  for (const key of Object.keys(filters)) {
    if (!['name', 'label', 'dangling', 'driver'].includes(key)) throw new InvalidArgument(`invalid filter '${key}'`);
  }
  const names = filters.name ?? [];
  if (names.length > 0 && !names.some((n) => v.name.includes(n))) return false;
  if (!(filters.label ?? []).every((l) => labelMatches(v.labels, l))) return false;
  const drivers = filters.driver ?? [];
  if (drivers.length > 0 && !drivers.includes(v.driver)) return false;
  if (filters.dangling && filters.dangling.length > 0 && boolFilter('dangling', filters.dangling) === inUse) return false;
  return true;
}

/**
 * `POST /volumes/prune` filters: label, label!, all. Without `all=true` only anonymous volumes go (Docker 23+,
 * API 1.42+). Used volumes never reach this function.
 */
export function matchPrune(filters: Record<string, string[]>, v: VolumeRecord): boolean {
  for (const key of Object.keys(filters)) {
    if (!['label', 'label!', 'all'].includes(key)) throw new InvalidArgument(`invalid filter '${key}'`);
  }
  const all = filters.all && filters.all.length > 0 ? boolFilter('all', filters.all) : false;
  if (!all && !Object.hasOwn(v.labels, ANONYMOUS_LABEL)) return false;
  if (!(filters.label ?? []).every((l) => labelMatches(v.labels, l))) return false;
  if ((filters['label!'] ?? []).some((l) => labelMatches(v.labels, l))) return false;
  return true;
}
