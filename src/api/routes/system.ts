import { release } from 'node:os';
import type { Engine } from '../../engine/engine.js';
import type { EngineEvent } from '../../engine/events/index.js';
import { matchEvent } from '../../engine/events/index.js';
import type { Route } from '../router.js';
import { API_VERSION, MIN_API_VERSION, sendJson } from '../server.js';
import { filtersParam, timeParamNs } from '../convert/query.js';
import { imageSummary } from '../convert/images.js';
import { containerSummary } from '../convert/containers.js';
import { volumeJson } from '../convert/volumes.js';
import { hostPlatform } from '../../lib/oci/types.js';
import { chainIds } from '../../lib/digest.js';
import { fallbackPruneRoutes, infoJson } from './system-info.js';

export const PETI_VERSION = '0.1.0';

/** Docker's event message: the new Type/Action/Actor shape plus the legacy status/id/from fields. */
export function eventJson(e: EngineEvent): Record<string, unknown> {
  const o: Record<string, unknown> = {
    Type: e.type, Action: e.action, Actor: { ID: e.actor.id, Attributes: e.actor.attributes }, scope: 'local',
    time: Number(e.timeNano / 1_000_000_000n), timeNano: Number(e.timeNano),
  };
  if (e.type === 'container' || e.type === 'image') {
    o.status = e.action;
    o.id = e.actor.id;
    if (e.actor.attributes.image) o.from = e.actor.attributes.image;
  }
  return o;
}

export function systemRoutes(engine: Engine): Route[] {
  const ping: Route['handler'] = async ({ req, res }) => {
    res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    res.setHeader('Pragma', 'no-cache');
    // Classic builder: the docker CLI then uses POST /build without BuildKit.
    res.setHeader('Builder-Version', '1');
    res.setHeader('Swarm', 'inactive');
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
    res.end(req.method === 'HEAD' ? undefined : 'OK');
  };
  return [
    { method: 'GET', path: '/_ping', handler: ping },
    { method: 'HEAD', path: '/_ping', handler: ping },
    {
      method: 'GET', path: '/version',
      handler: async ({ res }) => {
        const details = {
          ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: 'peti', GoVersion: `node ${process.version}`,
          Os: 'linux', Arch: hostPlatform().architecture, KernelVersion: release(), BuildTime: '', Experimental: 'false',
        };
        sendJson(res, 200, {
          Platform: { Name: 'Peti' },
          Components: [{ Name: 'Engine', Version: PETI_VERSION, Details: details }],
          Version: PETI_VERSION, ...details, Experimental: false,
        });
      },
    },
    {
      method: 'GET', path: '/info',
      handler: async ({ res }) => {
        sendJson(res, 200, await infoJson(engine, PETI_VERSION));
      },
    },
    {
      method: 'GET', path: '/system/df',
      handler: async ({ res, version }) => {
        const imgs = await engine.images.list({ all: true });
        const ctrs = engine.containers.list({ all: true });
        // A layer counts once however many images share it; SharedSize is the part another image also uses.
        const users = new Map<string, number>();
        const sizeOf = new Map<string, number>();
        for (const img of imgs) {
          const chain = chainIds(img.diffIds);
          for (const c of chain) users.set(c, (users.get(c) ?? 0) + 1);
        }
        let layersSize = 0;
        await engine.snapshots.walk((s: { key: string; kind: string; labels: Record<string, string> }) => {
          const n = Number(s.labels['peti.size'] ?? 0);
          sizeOf.set(s.key, n);
          if (s.kind === 'committed') layersSize += n;
        });
        sendJson(res, 200, {
          LayersSize: layersSize,
          Images: imgs.map((img) => {
            const shared = chainIds(img.diffIds).filter((c) => (users.get(c) ?? 0) > 1).reduce((a, c) => a + (sizeOf.get(c) ?? 0), 0);
            return { ...imageSummary(img, version, shared), Containers: ctrs.filter((c) => c.imageId === img.id).length };
          }),
          Containers: await Promise.all(ctrs.map(async (c) => containerSummary(c, await engine.containers.sizes(c.id)))),
          Volumes: await Promise.all(engine.volumes.list().map(async (v) => volumeJson(v, engine.volumes.mountpoint(v.name),
            { Size: await engine.volumes.usage(v.name), RefCount: engine.volumes.refs(v.name).length }))),
          BuildCache: engine.builder.usage(),
        });
      },
    },
    {
      method: 'GET', path: '/events',
      handler: async ({ res, query, signal }) => {
        const since = timeParamNs(query.get('since'));
        const until = timeParamNs(query.get('until'));
        const filters = filtersParam(query);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        const write = (e: EngineEvent): void => { res.write(JSON.stringify(eventJson(e)) + '\n'); };
        const nowNs = BigInt(Date.now()) * 1_000_000n;
        if (since !== undefined) for (const e of engine.events.history({ filters, since, until })) write(e);
        if (until !== undefined && until <= nowNs) {
          res.end();
          return;
        }
        await new Promise<void>((resolve) => {
          const unsub = engine.events.subscribe((e) => {
            if (until !== undefined && e.timeNano > until) return;
            if (matchEvent(e, { filters })) write(e);
          });
          const done = (): void => { unsub(); clearTimeout(timer); resolve(); };
          const timer = until !== undefined ? setTimeout(done, Number((until - nowNs) / 1_000_000n)) : undefined;
          signal.addEventListener('abort', done, { once: true });
        });
        res.end();
      },
    },
    ...fallbackPruneRoutes(engine),
  ];
}
