import type { VolumeService } from '../../engine/volumes/index.js';
import { InvalidArgument } from '../../lib/errors.js';
import { compareVersions, type Route } from '../router.js';
import { readJsonBody, sendEmpty, sendJson } from '../server.js';
import { boolParam, filtersParam } from '../convert/query.js';
import { volumeJson, type VolumeCreateBody } from '../convert/volumes.js';

type Volumes = Pick<VolumeService, 'create' | 'get' | 'list' | 'remove' | 'prune' | 'mountpoint'>;

/** `/volumes`: Docker's shapes (API 1.24+; prune 1.25+, prune's anonymous-only default 1.42+). */
export function volumeRoutes(v: Volumes): Route[] {
  const json = (name: string): Record<string, unknown> => volumeJson(v.get(name), v.mountpoint(name));
  return [
    {
      method: 'POST', path: '/volumes/create',
      handler: async (ctx) => {
        const body = await readJsonBody<VolumeCreateBody>(ctx.req, {});
        if (body.ClusterVolumeSpec) throw new InvalidArgument('cluster volumes are not supported (this node is not a swarm manager)');
        const rec = await v.create({
          ...(body.Name ? { name: body.Name } : {}), ...(body.Driver ? { driver: body.Driver } : {}),
          driverOpts: body.DriverOpts ?? null, labels: body.Labels ?? null,
        });
        sendJson(ctx.res, 201, json(rec.name));
      },
    },
    {
      method: 'GET', path: '/volumes',
      handler: async (ctx) => {
        const list = v.list(filtersParam(ctx.query));
        sendJson(ctx.res, 200, { Volumes: list.map((r) => json(r.name)), Warnings: [] });
      },
    },
    {
      method: 'POST', path: '/volumes/prune', minVersion: '1.25',
      handler: async (ctx) => {
        const filters = filtersParam(ctx.query);
        // Before API 1.42 prune removed named volumes too.
        if (compareVersions(ctx.version, '1.42') < 0 && !filters.all) filters.all = ['true'];
        const r = await v.prune(filters);
        sendJson(ctx.res, 200, { VolumesDeleted: r.deleted, SpaceReclaimed: r.reclaimed });
      },
    },
    {
      method: 'GET', path: '/volumes/{name}',
      handler: async (ctx) => sendJson(ctx.res, 200, json(ctx.params.name ?? '')),
    },
    {
      method: 'DELETE', path: '/volumes/{name}',
      handler: async (ctx) => {
        await v.remove(ctx.params.name ?? '', { force: boolParam(ctx.query, 'force') });
        sendEmpty(ctx.res, 204);
      },
    },
  ];
}
