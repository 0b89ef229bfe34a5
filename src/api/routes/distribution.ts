import type { Engine } from '../../engine/engine.js';
import { isDigest } from '../../lib/digest.js';
import { InvalidArgument } from '../../lib/errors.js';
import { isValidTag, parseReference, repoName } from '../../lib/reference.js';
import type { Ctx, Route } from '../router.js';
import { readJsonBody, sendJson } from '../server.js';
import { authConfig, distProgressJson, registryAuthHeader } from '../convert/progress.js';
import { JsonStream } from '../stream/json.js';

/**
 * `POST /images/create?fromImage=&tag=&platform=`: `tag` may be a digest; a name without tag and an empty `tag`
 * pull every tag (what `docker pull -a` sends). Failures before the first progress line are plain HTTP errors.
 */
export async function pullHandler(engine: Pick<Engine, 'distribution'>, { req, res, query, signal }: Ctx): Promise<void> {
  const fromImage = query.get('fromImage') ?? '';
  const tag = query.get('tag') ?? '';
  if (fromImage === '') throw new InvalidArgument('fromImage is required');
  const ref = parseReference(fromImage);
  let reference = fromImage;
  let allTags = false;
  if (tag !== '') {
    if (isDigest(tag)) reference = `${repoName(ref)}@${tag}`;
    else if (isValidTag(tag)) reference = `${repoName(ref)}:${tag}`;
    else throw new InvalidArgument(`invalid tag format: ${JSON.stringify(tag)}`);
  } else if (ref.tag === undefined && ref.digest === undefined) allTags = true;
  const js = new JsonStream(res);
  try {
    await engine.distribution.pull(
      { reference, allTags, platform: query.get('platform') || undefined, auth: registryAuthHeader(req.headers['x-registry-auth']), signal },
      (p) => js.write(distProgressJson(p)),
    );
  } catch (e) {
    if (!js.fail(e)) throw e;
  }
  js.end();
}

export function distributionRoutes(engine: Pick<Engine, 'distribution'>): Route[] {
  return [
    {
      method: 'POST', path: '/images/{name*}/push',
      handler: async ({ req, res, params, query, signal }) => {
        const js = new JsonStream(res);
        try {
          await engine.distribution.push(
            { name: params.name!, tag: query.get('tag') ?? '', auth: registryAuthHeader(req.headers['x-registry-auth']), signal },
            (p) => js.write(distProgressJson(p)),
          );
        } catch (e) {
          if (!js.fail(e)) throw e;
        }
        js.end();
      },
    },
    {
      method: 'POST', path: '/auth',
      handler: async ({ req, res }) => {
        const auth = authConfig(await readJsonBody<unknown>(req, {}));
        if (!auth) throw new InvalidArgument('login needs a username and password');
        const r = await engine.distribution.login(auth);
        sendJson(res, 200, { Status: r.status, IdentityToken: r.identityToken });
      },
    },
  ];
}
