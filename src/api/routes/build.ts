import type { Engine } from '../../engine/engine.js';
import { StepFailed, commitContainer, type BuildEvent } from '../../engine/build/index.js';
import { normalizeRef } from '../../engine/images/index.js';
import { InvalidArgument, messageOf } from '../../lib/errors.js';
import { formatFull, parseRepoTag } from '../../lib/reference.js';
import type { Route } from '../router.js';
import { sendJson } from '../server.js';
import { boolParam, filtersParam, intParam, jsonObjectParam, timeParamNs } from '../convert/query.js';
import { JsonStream } from '../stream/json.js';

const short = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

/** The classic builder's output lines (moby builder/dockerfile), from the typed build events. */
export function classicBuildJson(e: BuildEvent, o: { quiet: boolean; rm: boolean }): Record<string, unknown>[] {
  if (o.quiet) return e.type === 'built' ? [{ aux: { ID: e.id } }, { stream: `${e.id}\n` }] : [];
  switch (e.type) {
    case 'step': return [{ stream: `Step ${e.n}/${e.total} : ${e.text}\n` }];
    case 'cached': return [{ stream: ' ---> Using cache\n' }];
    case 'running': return [{ stream: ` ---> Running in ${short(e.container)}\n` }];
    case 'output': return [{ stream: e.data }];
    case 'removed': return o.rm ? [{ stream: `Removing intermediate container ${short(e.container)}\n` }] : [];
    case 'result': return [{ stream: ` ---> ${short(e.id)}\n` }];
    case 'warning': return [{ stream: `${e.text}\n` }];
    case 'status': return [{ status: e.text }];
    case 'built': return [{ aux: { ID: e.id } }, { stream: `Successfully built ${short(e.id)}\n` }];
    case 'tagged': return [{ stream: `Successfully tagged ${e.reference}\n` }];
  }
}

/** `buildargs` and `labels`: a null value means "take it from the client's environment", which the CLI already did. */
function stringMap(q: URLSearchParams, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(jsonObjectParam(q, name)).filter(([, x]) => x !== null).map(([k, x]) => [k, String(x)]));
}

export function buildRoutes(engine: Engine): Route[] {
  return [
    {
      method: 'POST', path: '/build',
      handler: async ({ req, res, query, signal }) => {
        if (query.get('remote')) throw new InvalidArgument('remote build contexts are not supported: there is no network access here; send the context as a tar body');
        if ((query.get('version') ?? '1') !== '1') throw new InvalidArgument('only the classic builder (version=1) is available: BuildKit sessions are not supported');
        const quiet = boolParam(query, 'q');
        const rm = boolParam(query, 'rm', true) || boolParam(query, 'forcerm');
        const tags = query.getAll('t').filter(Boolean).map((t) => normalizeRef(t));
        const js = new JsonStream(res);
        try {
          await engine.builder.build(req, {
            tags, dockerfile: query.get('dockerfile') || 'Dockerfile', buildArgs: stringMap(query, 'buildargs'), labels: stringMap(query, 'labels'),
            ...(query.get('target') ? { target: query.get('target')! } : {}), noCache: boolParam(query, 'nocache'), pull: boolParam(query, 'pull'),
            network: query.get('networkmode') ?? '', ...(query.get('platform') ? { platform: query.get('platform')! } : {}), signal,
          }, (e) => { for (const line of classicBuildJson(e, { quiet, rm })) js.write(line); });
        } catch (e) {
          if (!js.sent) throw e;
          const message = messageOf(e);
          // The docker CLI exits with errorDetail.code: a failed `RUN exit 3` makes `docker build` exit 3.
          res.write(JSON.stringify({ errorDetail: { ...(e instanceof StepFailed ? { code: e.exitCode } : {}), message }, error: message }) + '\r\n');
        }
        js.end();
      },
    },
    {
      method: 'POST', path: '/build/prune',
      handler: async ({ res, query }) => {
        const f = filtersParam(query);
        const untilNs = timeParamNs((f.until ?? [])[0] ?? null);
        const keep = intParam(query, 'keep-storage') ?? intParam(query, 'reserved-space') ?? (f['keep-storage'] ? Number(f['keep-storage'][0]) : undefined);
        const r = await engine.builder.prune({
          all: boolParam(query, 'all'), ...(untilNs !== undefined ? { until: Number(untilNs / 1_000_000n) } : {}), ...(keep ? { keepStorage: keep } : {}),
        });
        sendJson(res, 200, { CachesDeleted: r.deleted, SpaceReclaimed: r.reclaimed });
      },
    },
    {
      method: 'POST', path: '/commit',
      handler: async ({ res, query }) => {
        const container = query.get('container');
        if (!container) throw new InvalidArgument('container name or ID is required');
        const repo = query.get('repo') ?? '';
        const tag = query.get('tag') ?? '';
        const reference = repo ? formatFull(parseRepoTag(repo, tag || undefined)) : undefined;
        const id = await commitContainer({ content: engine.content, snapshots: engine.snapshots, images: engine.images, containers: engine.containers }, {
          container, ...(reference ? { reference } : {}), comment: query.get('comment') ?? '', author: query.get('author') ?? '',
          pause: boolParam(query, 'pause', true), changes: query.getAll('changes').flatMap((c) => c.split('\n')).filter((c) => c.trim() !== ''),
        });
        sendJson(res, 201, { Id: id });
      },
    },
  ];
}
