import type { Engine } from '../../engine/engine.js';
import { connectContainer, disconnectContainer } from '../../engine/containers/index.js';
import type { CreateNetworkRequest } from '../../engine/network/index.js';
import { InvalidArgument } from '../../lib/errors.js';
import type { Route } from '../router.js';
import { readJsonBody, sendEmpty, sendJson } from '../server.js';
import { filtersParam } from '../convert/query.js';
import { networkJson } from '../convert/networks.js';

interface ConnectBody {
  Container?: string;
  EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null;
  Force?: boolean;
}

async function body<T extends object>(req: Parameters<typeof readJsonBody>[0]): Promise<T> {
  const b = await readJsonBody<T | null>(req, null);
  if (!b || typeof b !== 'object') throw new InvalidArgument('invalid request body: a JSON object is expected');
  return b;
}

export function networkRoutes(engine: Engine): Route[] {
  const nets = engine.networks;
  const svc = engine.containers.svc;
  return [
    {
      method: 'GET', path: '/networks',
      handler: async ({ res, query }) => sendJson(res, 200, nets.list(filtersParam(query)).map((n) => networkJson(n, false))),
    },
    {
      method: 'POST', path: '/networks/create',
      handler: async ({ req, res }) => sendJson(res, 201, await nets.create(await body<CreateNetworkRequest>(req))),
    },
    {
      method: 'POST', path: '/networks/prune', minVersion: '1.25',
      handler: async ({ res, query }) => sendJson(res, 200, { NetworksDeleted: await nets.prune(filtersParam(query)) }),
    },
    {
      method: 'GET', path: '/networks/{id}',
      handler: async ({ res, params }) => sendJson(res, 200, networkJson(nets.get(params.id!), true)),
    },
    {
      method: 'DELETE', path: '/networks/{id}',
      handler: async ({ res, params }) => {
        await nets.remove(params.id!);
        sendEmpty(res, 204);
      },
    },
    {
      method: 'POST', path: '/networks/{id}/connect',
      handler: async ({ req, res, params }) => {
        const b = await body<ConnectBody>(req);
        if (!b.Container) throw new InvalidArgument('no container specified');
        const ep = b.EndpointConfig ?? {};
        await connectContainer(svc, params.id!, b.Container, {
          ...(ep.Aliases && ep.Aliases.length > 0 ? { aliases: ep.Aliases } : {}),
          ...(ep.IPAMConfig?.IPv4Address ? { ip: ep.IPAMConfig.IPv4Address } : {}),
        });
        sendEmpty(res, 200);
      },
    },
    {
      method: 'POST', path: '/networks/{id}/disconnect',
      handler: async ({ req, res, params }) => {
        const b = await body<ConnectBody>(req);
        if (!b.Container) throw new InvalidArgument('no container specified');
        await disconnectContainer(svc, params.id!, b.Container, b.Force === true);
        sendEmpty(res, 200);
      },
    },
  ];
}
