import { pipeline } from 'node:stream/promises';
import type { Engine } from '../../engine/engine.js';
import { normalizeRef, type Progress } from '../../engine/images/index.js';
import { InvalidArgument } from '../../lib/errors.js';
import { chainIds } from '../../lib/digest.js';
import { formatFull, parseRepoTag } from '../../lib/reference.js';
import type { Route } from '../router.js';
import { sendEmpty, sendJson } from '../server.js';
import { boolParam, filtersParam } from '../convert/query.js';
import { imageInspect, imageSummary } from '../convert/images.js';
import { JsonStream } from '../stream/json.js';
import { pullHandler } from './distribution.js';

function progressJson(p: Progress): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (p.stream !== undefined) o.stream = p.stream;
  if (p.status !== undefined) o.status = p.status;
  if (p.id !== undefined) o.id = p.id;
  if (p.current !== undefined) o.progressDetail = { current: p.current, total: p.total };
  return o;
}

export function imageRoutes(engine: Engine): Route[] {
  const images = engine.images;
  return [
    {
      method: 'GET', path: '/images/json',
      handler: async ({ res, query, version }) => {
        const list = await images.list({ all: boolParam(query, 'all'), filters: filtersParam(query) });
        sendJson(res, 200, list.map((i) => imageSummary(i, version)));
      },
    },
    {
      method: 'GET', path: '/images/get',
      handler: async ({ res, query }) => {
        const names = query.getAll('names').flatMap((n) => n.split(',')).filter(Boolean);
        if (names.length === 0) throw new InvalidArgument('no image names given');
        const tar = await images.save(names);
        res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        await pipeline(tar, res).catch(() => res.destroy());
      },
    },
    {
      method: 'POST', path: '/images/load',
      handler: async ({ req, res, query }) => {
        const quiet = boolParam(query, 'quiet');
        const js = new JsonStream(res);
        try {
          await images.load(req, (p) => { if (!quiet || p.stream) js.write(progressJson(p)); });
        } catch (e) {
          if (!js.fail(e)) throw e;
        }
        js.end();
      },
    },
    {
      method: 'POST', path: '/images/create',
      handler: async (ctx) => {
        const { req, res, query } = ctx;
        const fromSrc = query.get('fromSrc');
        if (fromSrc === null) return pullHandler(engine, ctx);
        if (fromSrc !== '-') throw new InvalidArgument('only fromSrc=- (the request body) is supported: this host has no internet access');
        const repo = query.get('repo') ?? '';
        const tag = query.get('tag') ?? '';
        const reference = repo ? formatFull(parseRepoTag(repo, tag || undefined)) : undefined;
        const js = new JsonStream(res);
        try {
          const id = await images.import(req, {
            reference, changes: query.getAll('changes'), message: query.get('message') ?? '', platform: query.get('platform') ?? undefined,
          }); // Docker sends no progress for fromSrc=-, only the ID: the CLI prints every status line
          js.write({ status: id });
        } catch (e) {
          if (!js.fail(e)) throw e;
        }
        js.end();
      },
    },
    {
      method: 'POST', path: '/images/prune',
      handler: async ({ res, query }) => {
        const filters = filtersParam(query);
        const all = (filters.dangling ?? []).some((v) => v === 'false' || v === '0');
        const r = await images.prune({ all, filters });
        sendJson(res, 200, {
          ImagesDeleted: [...r.deleted.untagged.map((u) => ({ Untagged: u })), ...r.deleted.deleted.map((d) => ({ Deleted: d }))],
          SpaceReclaimed: r.reclaimed,
        });
      },
    },
    {
      method: 'GET', path: '/images/{name*}/json',
      handler: async ({ res, params, version }) => {
        const img = await images.get(params.name!);
        const lower: string[] = [];
        for (const c of chainIds(img.diffIds).reverse()) {
          try {
            lower.push(await engine.snapshots.upperDir(c));
          } catch {
            // layer not unpacked: nothing to show
          }
        }
        const manifestSize = (await engine.content.info(img.manifest)).size;
        sendJson(res, 200, imageInspect(img, { lower, manifestSize }, version));
      },
    },
    {
      method: 'GET', path: '/images/{name*}/history',
      handler: async ({ res, params }) => {
        const h = await images.history(params.name!);
        sendJson(res, 200, h.map((x) => ({
          Id: x.id, Created: Math.floor(Date.parse(x.created) / 1000) || 0, CreatedBy: x.createdBy, Tags: x.tags.length ? x.tags : null, Size: x.size, Comment: x.comment,
        })));
      },
    },
    {
      method: 'GET', path: '/images/{name*}/get',
      handler: async ({ res, params }) => {
        const tar = await images.save([params.name!]);
        res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        await pipeline(tar, res).catch(() => res.destroy());
      },
    },
    {
      method: 'POST', path: '/images/{name*}/tag',
      handler: async ({ res, params, query }) => {
        const repo = query.get('repo');
        if (!repo) throw new InvalidArgument('repository name must have at least one component');
        const target = formatFull(parseRepoTag(repo, query.get('tag') || undefined));
        await images.tag(params.name!, target);
        sendEmpty(res, 201);
      },
    },
    {
      method: 'DELETE', path: '/images/{name*}',
      handler: async ({ res, params, query }) => {
        const r = await images.remove(params.name!, { force: boolParam(query, 'force'), noPrune: boolParam(query, 'noprune') });
        sendJson(res, 200, [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))]);
      },
    },
  ];
}

export { normalizeRef };
