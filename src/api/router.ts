import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../lib/log.js';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** API version the client asked for (from the path), as a number like 1.5 -> compare with versionAtLeast. */
  version: string;
  log: Logger;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export type Handler = (ctx: Ctx) => Promise<void>;

export interface Route {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  /** Path with `{name}` segments; `{name*}` matches across slashes (image names hold `/`). */
  path: string;
  /** Lowest API version that has this route. */
  minVersion?: string;
  handler: Handler;
}

interface Compiled extends Route {
  re: RegExp;
  keys: string[];
}

export function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number) as [number, number];
  const [b1, b2] = b.split('.').map(Number) as [number, number];
  return a1 !== b1 ? a1 - b1 : (a2 ?? 0) - (b2 ?? 0);
}

export class Router {
  private readonly routes: Compiled[] = [];

  add(routes: readonly Route[]): void {
    for (const r of routes) {
      const keys: string[] = [];
      const src = r.path.replace(/[.]/g, '\\.').replace(/\{(\w+)(\*?)\}/g, (_m, k: string, star: string) => {
        keys.push(k);
        return star ? '(.+)' : '([^/]+)';
      });
      this.routes.push({ ...r, re: new RegExp(`^${src}$`), keys });
    }
  }

  /** The route for a method and path; `methodMismatch` when only the method is wrong. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | 'methodMismatch' | undefined {
    let pathHit = false;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      pathHit = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1]!)));
      return { route: r, params };
    }
    return pathHit ? 'methodMismatch' : undefined;
  }
}
