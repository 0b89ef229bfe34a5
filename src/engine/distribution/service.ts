import { join } from 'node:path';
import type { Digest } from '../../lib/digest.js';
import { InvalidArgument, NotFound, Unauthorized, messageOf } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';

import {
  type Reference, familiarName, familiarRepoName, formatFull, parseReference, repoName,
} from '../../lib/reference.js';
import type { LocalImageService } from '../images/index.js';
import { BlobDownloader } from './download.js';
import { RegistryHttpError, asPetiError, pullError } from './errors.js';
import { canonicalDomain, endpointFor } from './hosts.js';
import { listTags } from './manifest.js';
import { parsePlatform } from './platform.js';
import { pullOne, type PullDeps } from './pull.js';
import { pushOne, type PushDeps } from './push.js';
import { RegistrySession, credentials } from './session.js';
import { BlobSources } from './sources.js';
import { Transport, drain } from './transport.js';
import type { AuthConfig, DistProgressFn, LoginResult, PullOptions, PullResult, PushOptions, RegistryClient } from './types.js';

export interface DistributionDeps {
  /** Directory for partial downloads and the blob-source record. */
  root: string;
  images: LocalImageService;
  log: Logger;
  /** `--insecure-registry` values (host[:port] or CIDR): plain HTTP and unverified TLS allowed. */
  insecureRegistries?: readonly string[];
  /** Layers downloaded at once (default 3, as Docker). */
  downloadConcurrency?: number;
  /** Blobs uploaded at once (default 3). */
  uploadConcurrency?: number;
}

/** The daemon's registry client (the one engine part that speaks HTTP, outbound). */
export class Distribution implements RegistryClient {
  private readonly transport = new Transport();
  private readonly downloader: BlobDownloader;
  private readonly sources: BlobSources;
  private readonly insecure: readonly string[];

  constructor(private readonly d: DistributionDeps) {
    this.downloader = new BlobDownloader({ partialDir: join(d.root, 'partial'), content: d.images.d.content, log: d.log });
    this.sources = new BlobSources(join(d.root, 'sources.json'));
    this.insecure = d.insecureRegistries ?? [];
  }

  async init(): Promise<void> {
    await this.downloader.init();
    await this.sources.init();
    // Pulls unpack layers while they download: a crash mid-pull leaves an active extraction snapshot behind.
    await this.d.images.unpacker.sweep();
  }

  close(): void {
    this.transport.close();
  }

  private session(domain: string, auth: AuthConfig | undefined, scopes: string[]): RegistrySession {
    const ep = endpointFor(domain, this.insecure);
    // Credentials for another registry are never sent here (the CLI picks them per registry; a stray one is ignored).
    const a = auth && auth.serveraddress && canonicalDomain(auth.serveraddress) !== ep.domain ? undefined : auth;
    return new RegistrySession(ep, a, this.transport, this.d.log.child({ registry: ep.domain }), scopes);
  }

  private pullDeps(): PullDeps {
    return { images: this.d.images, downloader: this.downloader, sources: this.sources, log: this.d.log, concurrency: this.d.downloadConcurrency ?? 3 };
  }

  async pull(opts: PullOptions, progress: DistProgressFn): Promise<PullResult> {
    const ref = parseReference(opts.reference);
    const want = parsePlatform(opts.platform);
    const session = this.session(ref.domain, opts.auth, [`repository:${ref.path}:pull`]);
    const allTags = opts.allTags === true && ref.tag === undefined && ref.digest === undefined;
    const one = ref.tag === undefined && ref.digest === undefined && !allTags ? { ...ref, tag: 'latest' } : ref;
    const ids: Digest[] = [];
    let anyUpdated = false;
    try {
      const refs: Reference[] = allTags ? (await listTags(session, ref.path, opts.signal)).map((tag) => ({ ...ref, tag })) : [one];
      if (refs.length === 0) throw new NotFound(`repository ${familiarRepoName(ref)} has no tags`);
      for (const r of refs) {
        const res = await pullOne(this.pullDeps(), session, r, want, opts.platform !== undefined && opts.platform !== '', progress, opts.signal);
        ids.push(res.id);
        anyUpdated ||= res.updated;
        if (!allTags) progress({ status: `Status: ${res.updated ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarName(r)}` });
      }
      if (allTags) progress({ status: `Status: ${anyUpdated ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarRepoName(ref)}` });
    } catch (e) {
      // Layers unpacked or blobs stored for an image that never got recorded are dropped; partial downloads stay.
      await this.d.images.lock.run(() => this.d.images.gcLocked()).catch(() => undefined);
      this.d.log.debug('pull failed', { reference: formatFull(one), error: messageOf(e) });
      throw pullError(e, familiarRepoName(ref), familiarName(one));
    }
    return { ids };
  }

  async push(opts: PushOptions, progress: DistProgressFn): Promise<void> {
    const ref = parseReference(opts.name);
    if (ref.digest) throw new InvalidArgument('cannot push a digest reference');
    const tag = opts.tag || ref.tag;
    const name = repoName(ref);
    const images = this.d.images;
    let tags: string[];
    if (tag) {
      tags = [tag];
      if (!images.store.refs.has(`${name}:${tag}`)) throw new NotFound(`An image does not exist locally with the tag: ${familiarRepoName(ref)}`, { code: 'PETI_ERR_NO_SUCH_IMAGE' });
    } else {
      tags = [...images.store.refs.keys()].filter((r) => r.startsWith(`${name}:`) && !r.slice(name.length + 1).includes('/')).map((r) => r.slice(name.length + 1)).sort();
      if (tags.length === 0) throw new NotFound(`An image does not exist locally with the tag: ${familiarRepoName(ref)}`, { code: 'PETI_ERR_NO_SUCH_IMAGE' });
    }
    const session = this.session(ref.domain, opts.auth, [`repository:${ref.path}:pull,push`]);
    progress({ status: `The push refers to repository [${name}]` });
    const deps: PushDeps = { images, sources: this.sources, log: this.d.log, concurrency: this.d.uploadConcurrency ?? 3, chunkSize: 32 * 1024 * 1024 };
    for (const t of tags) {
      const rec = images.store.records.get(images.store.refs.get(`${name}:${t}`)!);
      if (!rec) throw new NotFound(`An image does not exist locally with the tag: ${familiarRepoName(ref)}`, { code: 'PETI_ERR_NO_SUCH_IMAGE' });
      try {
        const r = await pushOne(deps, session, { ...ref, tag: t }, rec, progress, opts.signal);
        progress({ status: `${t}: digest: ${r.digest} size: ${r.size}` });
        progress({ aux: { Tag: t, Digest: r.digest, Size: r.size } });
        images.d.events.emit('image', 'push', familiarName({ ...ref, tag: t }), { name: familiarName({ ...ref, tag: t }) });
      } catch (e) {
        throw e instanceof RegistryHttpError ? asPetiError(e) : e;
      }
    }
  }

  async login(auth: AuthConfig): Promise<LoginResult> {
    const domain = canonicalDomain(auth.serveraddress || 'docker.io');
    if (!credentials(auth) && !auth.identitytoken) throw new InvalidArgument('login needs a username and password');
    const session = this.session(domain, { ...auth, serveraddress: domain }, []);
    await session.ping();
    const res = await session.request('GET', '/v2/');
    drain(res);
    if (res.statusCode === 401) {
      throw new Unauthorized(`login attempt to ${session.baseUrl.origin}/v2/ failed with status: 401 Unauthorized`, { code: 'PETI_ERR_UNAUTHORIZED' });
    }
    if ((res.statusCode ?? 500) >= 400) throw new Unauthorized(`login attempt to ${session.baseUrl.origin}/v2/ failed with status: ${res.statusCode}`);
    this.d.log.info('registry login succeeded', { registry: domain });
    return { status: 'Login Succeeded', identityToken: session.identityToken };
  }
}

