/** Pull/push progress as Docker's JSON messages (moby pkg/jsonmessage), including the `progress` bar text. */
import type { AuthConfig, DistProgress } from '../../engine/distribution/index.js';

/** go-units HumanSize: decimal units, 4 significant digits, Go's %g (no trailing zeros). */
export function goHumanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** JSONProgress.String() at the daemon's width: `[=====>     ]  1.2MB/3.4MB`. */
export function progressBar(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return goHumanSize(current).padStart(8);
  const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `;
  const numbers = current > total ? goHumanSize(current).padStart(8) : `${goHumanSize(current).padStart(8)}/${goHumanSize(total)}`;
  return bar + numbers;
}

export function distProgressJson(p: DistProgress): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (p.status !== undefined) o.status = p.status;
  // Docker sends progressDetail on layer lines (empty when there are no numbers) and with aux.
  if (p.current !== undefined) {
    o.progressDetail = { current: p.current, total: p.total };
    o.progress = progressBar(p.current, p.total ?? 0);
  } else if (p.id !== undefined && !p.status?.startsWith('Pulling from') || p.aux) o.progressDetail = {};
  if (p.id !== undefined) o.id = p.id;
  if (p.aux) o.aux = p.aux;
  return o;
}

/** `X-Registry-Auth`: base64url (or standard base64) JSON; absent, empty or `e30=` mean anonymous. */
export function registryAuthHeader(v: string | string[] | undefined): AuthConfig | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  let j: unknown;
  try {
    j = JSON.parse(Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  return authConfig(j);
}

/** Keep only the string fields Docker defines (a body or header may carry more). */
export function authConfig(j: unknown): AuthConfig | undefined {
  if (typeof j !== 'object' || j === null) return undefined;
  const o = j as Record<string, unknown>;
  const out: AuthConfig = {};
  for (const k of ['username', 'password', 'auth', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
    if (typeof o[k] === 'string' && o[k] !== '') out[k] = o[k] as string;
  }
  return Object.keys(out).length ? out : undefined;
}
