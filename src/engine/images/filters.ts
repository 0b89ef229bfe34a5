import { InvalidArgument } from '../../lib/errors.js';
import { familiarName, parseReference } from '../../lib/reference.js';
import type { Image } from './types.js';

const KEYS = new Set(['reference', 'dangling', 'label', 'before', 'since', 'until']);

/** Go's path.Match for the `reference` filter: `*` and `?` never cross `/`. */
export function globMatch(pattern: string, s: string): boolean {
  let re = '^';
  for (const c of pattern) {
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$').test(s);
}

function untilMs(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const m = /^(\d+)(s|m|h)$/.exec(v);
  if (m) return Date.now() - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid filter 'until=${v}'`);
  return t;
}

/** Docker's image list filters: OR within a key, AND across keys. */
export function matchImage(img: Image, filters: Record<string, string[]>, resolve: (s: string) => Image | undefined): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (!KEYS.has(key)) throw new InvalidArgument(`invalid filter '${key}'`);
    if (values.length === 0) continue;
    const ok = values.some((v) => {
      switch (key) {
        case 'dangling':
          if (!['true', 'false', '1', '0'].includes(v)) throw new InvalidArgument(`invalid filter 'dangling=${v}'`);
          return (img.repoTags.length === 0) === (v === 'true' || v === '1');
        case 'label': {
          const labels = img.config.config?.Labels ?? {};
          const i = v.indexOf('=');
          return i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1);
        }
        case 'reference':
          return img.repoTags.some((t) => {
            const fam = familiarName(parseReference(t));
            const repo = fam.replace(/:[^:/]+$/, '');
            return globMatch(v, fam) || globMatch(v, repo) || globMatch(v, t);
          });
        case 'before': {
          const other = resolve(v);
          return other !== undefined && img.created < other.created;
        }
        case 'since': {
          const other = resolve(v);
          return other !== undefined && img.created > other.created;
        }
        case 'until':
          return Date.parse(img.created) < untilMs(v);
        default:
          return false;
      }
    });
    if (!ok) return false;
  }
  return true;
}
