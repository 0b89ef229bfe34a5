import { InvalidArgument } from '../../lib/errors.js';
import type { ContainerConfig } from '../../lib/oci/types.js';

/** Instructions Docker accepts in `import --change` and `commit --change`. */
const ALLOWED = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

/** Split `a "b c" d` the way the Dockerfile shell-word rules do for ENV/LABEL key=value lists. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let any = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      any = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      any = true;
    } else if (/\s/.test(c)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += c;
    }
  }
  if (quote) throw new InvalidArgument(`unterminated quote in ${JSON.stringify(s)}`);
  if (cur || any) out.push(cur);
  return out;
}

/** JSON array form if it parses as an array of strings, else undefined. */
function jsonArgs(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: Docker falls back to the shell form
  }
  return undefined;
}

function keyValues(instr: string, rest: string): [string, string][] {
  const ws = words(rest);
  if (ws.length === 0) throw new InvalidArgument(`${instr} requires at least one argument`);
  if (!ws[0]!.includes('=')) {
    // legacy `ENV key value with spaces`
    const m = /^(\S+)\s+(.*)$/s.exec(rest.trim());
    if (!m) throw new InvalidArgument(`${instr} must have two arguments`);
    return [[m[1]!, m[2]!]];
  }
  return ws.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new InvalidArgument(`${instr} names can not be blank`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/** Apply Dockerfile-style change lines to a container config (returns a new object). */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const cfg: ContainerConfig = structuredClone(base);
  for (const raw of changes) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(\S+)\s*(.*)$/s.exec(line)!;
    const instr = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (!ALLOWED.has(instr)) throw new InvalidArgument(`${m[1]} is not a valid change command`);
    switch (instr) {
      case 'CMD':
      case 'ENTRYPOINT': {
        const v = jsonArgs(rest) ?? (rest ? ['/bin/sh', '-c', rest] : []);
        if (instr === 'CMD') cfg.Cmd = v;
        else cfg.Entrypoint = v;
        break;
      }
      case 'ENV': {
        const env = cfg.Env ? [...cfg.Env] : [];
        for (const [k, v] of keyValues(instr, rest)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case 'LABEL':
        cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(keyValues(instr, rest)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of words(rest)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new InvalidArgument(`invalid containerPort: ${p}`);
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        cfg.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(cfg.Volumes ?? {}) };
        for (const v of jsonArgs(rest) ?? words(rest)) vols[v] = {};
        cfg.Volumes = vols;
        break;
      }
      case 'USER':
        cfg.User = rest;
        break;
      case 'WORKDIR':
        cfg.WorkingDir = rest.startsWith('/') ? rest : `${(cfg.WorkingDir ?? '/').replace(/\/$/, '')}/${rest}`;
        break;
      case 'STOPSIGNAL':
        cfg.StopSignal = rest;
        break;
      case 'ONBUILD':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
        break;
      case 'HEALTHCHECK': {
        const v = jsonArgs(rest.replace(/^CMD\s+/i, ''));
        if (/^NONE$/i.test(rest)) cfg.Healthcheck = { Test: ['NONE'] };
        else if (/^CMD\s/i.test(rest)) cfg.Healthcheck = { Test: v ? ['CMD', ...v] : ['CMD-SHELL', rest.replace(/^CMD\s+/i, '')] };
        else throw new InvalidArgument('HEALTHCHECK change must be NONE or CMD ...');
        break;
      }
    }
  }
  return cfg;
}
