/** Container operations: archive (cp), changes (diff), export, top, stats, update, pause/unpause, rename. */
import { pipeline } from 'node:stream/promises';
import type { Containers, UpdateBody } from '../../engine/containers/index.js';
import { InvalidArgument } from '../../lib/errors.js';
import type { Ctx, Route } from '../router.js';
import { readJsonBody, sendEmpty, sendJson } from '../server.js';
import { boolParam } from '../convert/query.js';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function pathParam(ctx: Ctx): string {
  const p = ctx.query.get('path');
  if (p === null || p === '') throw new InvalidArgument('Path cannot be empty');
  return p;
}

function statHeader(stat: object): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

export function containerOpsRoutes(c: Containers): Route[] {
  const id = (ctx: Ctx): string => ctx.params.id!;
  return [
    {
      method: 'HEAD', path: '/containers/{id}/archive',
      handler: async (ctx) => {
        const stat = await c.statPath(id(ctx), pathParam(ctx));
        ctx.res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/json' });
        ctx.res.end();
      },
    },
    {
      method: 'GET', path: '/containers/{id}/archive',
      handler: async (ctx) => {
        const { stat, stream } = await c.archive(id(ctx), pathParam(ctx));
        ctx.res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/x-tar' });
        await pipeline(stream, ctx.res).catch(() => ctx.res.destroy());
      },
    },
    {
      method: 'PUT', path: '/containers/{id}/archive',
      handler: async (ctx) => {
        try {
          await c.extract(id(ctx), pathParam(ctx), ctx.req, {
            noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'), copyUIDGID: boolParam(ctx.query, 'copyUIDGID'),
          });
        } catch (e) {
          // Read the rest of a refused upload, so the client gets our answer instead of a broken pipe.
          ctx.req.resume();
          throw e;
        }
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: 'GET', path: '/containers/{id}/changes',
      handler: async (ctx) => sendJson(ctx.res, 200, await c.changes(id(ctx))),
    },
    {
      method: 'GET', path: '/containers/{id}/export',
      handler: async (ctx) => {
        const stream = await c.export(id(ctx));
        ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        await pipeline(stream, ctx.res).catch(() => ctx.res.destroy());
      },
    },
    {
      method: 'GET', path: '/containers/{id}/top',
      handler: async (ctx) => sendJson(ctx.res, 200, await c.top(id(ctx), ctx.query.get('ps_args') ?? undefined)),
    },
    {
      method: 'GET', path: '/containers/{id}/stats',
      handler: async (ctx) => {
        const stream = boolParam(ctx.query, 'stream', true);
        const frames = c.stats(id(ctx), { stream, oneShot: boolParam(ctx.query, 'one-shot'), signal: ctx.signal });
        // The first frame may take a second (stream=false primes CPU numbers): headers go first so clients see 200.
        const first = await frames.next();
        ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
        if (stream) ctx.res.flushHeaders();
        if (!first.done) ctx.res.write(`${JSON.stringify(first.value)}\n`);
        for await (const f of frames) {
          if (ctx.res.destroyed) break;
          ctx.res.write(`${JSON.stringify(f)}\n`);
        }
        ctx.res.end();
      },
    },
    {
      method: 'POST', path: '/containers/{id}/update',
      handler: async (ctx) => {
        const body = await readJsonBody<UpdateBody | null>(ctx.req, {});
        if (!body || typeof body !== 'object') throw new InvalidArgument('update body must be a JSON object');
        sendJson(ctx.res, 200, await c.update(id(ctx), body));
      },
    },
    {
      method: 'POST', path: '/containers/{id}/pause',
      handler: async (ctx) => {
        await c.pause(id(ctx));
        sendEmpty(ctx.res, 204);
      },
    },
    {
      method: 'POST', path: '/containers/{id}/unpause',
      handler: async (ctx) => {
        await c.unpause(id(ctx));
        sendEmpty(ctx.res, 204);
      },
    },
    {
      method: 'POST', path: '/containers/{id}/rename',
      handler: async (ctx) => {
        await c.rename(id(ctx), ctx.query.get('name') ?? '');
        sendEmpty(ctx.res, 204);
      },
    },
  ];
}
