import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../lib/log.js';
import { readJson, writeJsonAtomic } from '../lib/atomic.js';
import { FileContentStore } from './content/index.js';
import { MemoryEventBus } from './events/index.js';
import { LocalImageService } from './images/index.js';
import { Distribution } from './distribution/index.js';
import { OverlaySnapshotter, applyFileInline, type ApplyFileFn, type ApplyLimits } from './snapshots/index.js';
import { Containers, specFilesFor, specNetworkFor, type SpecBuilder } from './containers/index.js';
import { NetworkService } from './network/index.js';
import { VolumeService } from './volumes/index.js';
import { Builder, unmountUnder } from './build/index.js';
import { ConmonRuntime, buildSpec, hostRlimits, prepareHost, resolveUser, detectHostFacts } from './runtime/index.js';

export interface EngineOptions {
  dataRoot: string;
  execRoot: string;
  log: Logger;
  /** How layers are unpacked (the daemon passes a worker pool; default: in this thread). */
  applyFile?: ApplyFileFn;
  limits?: ApplyLimits;
  /** OCI runtime for containers that do not name one: crun (default) or runc. */
  defaultRuntime?: 'crun' | 'runc';
  /** Registries reached over plain HTTP / unverified TLS besides loopback (`--insecure-registry`). */
  insecureRegistries?: readonly string[];
  /** Linux bridge and gateway/prefix of the default `bridge` network (`petid --bridge`, `--bip`). */
  bridge?: string;
  bip?: string;
}

export interface Engine {
  readonly dataRoot: string;
  readonly execRoot: string;
  /** Stable daemon ID (Docker's `ID` in /info), kept in the data root. */
  readonly id: string;
  readonly name: string;
  readonly content: FileContentStore;
  readonly snapshots: OverlaySnapshotter;
  readonly images: LocalImageService;
  readonly distribution: Distribution;
  readonly events: MemoryEventBus;
  readonly containers: Containers;
  readonly builder: Builder;
  readonly networks: NetworkService;
  readonly volumes: VolumeService;
  readonly cgroupVersion: 1 | 2;
  readonly startedAt: Date;
  close(): Promise<void>;
}

/** Wire the engine's services on a data root. Directories are created root-only (0700). */
export async function createEngine(opts: EngineOptions): Promise<Engine> {
  const { dataRoot, execRoot, log } = opts;
  await fsp.mkdir(dataRoot, { recursive: true, mode: 0o700 });
  await fsp.chmod(dataRoot, 0o711);
  await fsp.mkdir(execRoot, { recursive: true, mode: 0o700 });
  const tmpDir = join(dataRoot, 'tmp');
  await unmountUnder(tmpDir); // build workspaces a crash left mounted
  await fsp.rm(tmpDir, { recursive: true, force: true });
  await fsp.mkdir(tmpDir, { recursive: true, mode: 0o700 });

  const idFile = join(dataRoot, 'engine.json');
  let meta = await readJson<{ id: string }>(idFile);
  if (!meta) {
    meta = { id: randomUUID() };
    await writeJsonAtomic(idFile, meta);
  }

  const content = new FileContentStore(join(dataRoot, 'content'));
  await content.init();
  const snapshots = new OverlaySnapshotter({ root: join(dataRoot, 'snapshots'), log: log.child({ svc: 'snapshots' }) });
  const events = new MemoryEventBus();
  const images = new LocalImageService({
    root: join(dataRoot, 'images'), content, snapshots, applyFile: opts.applyFile ?? applyFileInline, limits: opts.limits, events, log: log.child({ svc: 'images' }), tmpDir,
  });
  await images.init();
  const distribution = new Distribution({
    root: join(dataRoot, 'distribution'), images, log: log.child({ svc: 'distribution' }), insecureRegistries: opts.insecureRegistries ?? [],
  });
  await distribution.init();

  const host = await prepareHost(log.child({ svc: 'host' }));
  const runtime = new ConmonRuntime({ execRoot, log: log.child({ svc: 'runtime' }), defaultRuntime: opts.defaultRuntime ?? 'crun', conmonCgroup: process.env.PETI_XNOCG ? undefined : '/peti/conmon' });
  const rlimits = hostRlimits();
  const facts = detectHostFacts();
  const initPath = ['/usr/bin/catatonit', '/usr/bin/tini-static', '/usr/bin/tini'].find((p) => existsSync(p));
  const volumes = new VolumeService({ root: join(dataRoot, 'volumes'), events, log: log.child({ svc: 'volumes' }) });
  await volumes.init();
  const specs: SpecBuilder = {
    // rec.config already holds the image defaults merged with the create body, so the image part stays empty.
    build: async (rec, rootfs) => buildSpec({
      volumes: await volumes.specMounts(rec.mounts ?? [], rootfs),
      id: rec.id, rootfs, image: {}, config: rec.config, hostConfig: rec.hostConfig,
      files: specFilesFor(containers.svc, rec),
      cgroupsPath: `/peti/${rec.id}`, hostRlimits: rlimits,
      network: specNetworkFor(containers.svc, rec),
      ...(initPath ? { initPath } : {}),
      seccompProfileLoader: (p) => fsp.readFile(p, 'utf8'),
      host: facts,
    }),
  };
  const networks = new NetworkService({ dataRoot, execRoot, log: log.child({ svc: 'network' }), events, bridge: opts.bridge, bip: opts.bip });
  await networks.init();
  const containers = new Containers({
    dataRoot, execRoot, images, snapshots, runtime, specs, events, log: log.child({ svc: 'containers' }), defaultRuntime: opts.defaultRuntime ?? 'crun', volumes, network: networks,
  }, (rootfs, user) => resolveUser(rootfs, user));
  volumes.setUsers((name) => containers.list({ all: true }).filter((r) => r.mounts?.some((m) => m.Type === 'volume' && m.Name === name)).map((r) => r.id));
  await containers.init();
  const builder = new Builder({
    dataRoot, execRoot, content, snapshots, images, log: log.child({ svc: 'build' }),
    // RUN steps on the default bridge, like `docker build`'s default network: an address, NAT and DNS settings.
    sandbox: {
      enter: async (id) => {
        // A sandbox from the pool when there is one: the step's namespace is ready at once.
        const key = networks.takeSandbox() ?? id;
        try {
          await networks.attach('bridge', { id: key, name: `build-${id.slice(0, 12)}` });
          return { netnsPath: (await networks.up(key, [])).sandboxKey, key };
        } catch (e) {
          await networks.down(key).catch(() => undefined);
          await networks.detachAll(key);
          throw e;
        }
      },
      leave: async (key) => {
        await networks.down(key).catch(() => undefined);
        networks.release(key);
      },
    },
    pull: async (reference, status, signal) => {
      await distribution.pull({ reference, ...(signal ? { signal } : {}) }, (p) => { if (p.status && !p.id) status(p.status); });
    },
  });
  await builder.init();
  images.addPinned(() => builder.pinnedSnapshots());

  return {
    dataRoot, execRoot, id: meta.id, name: hostname(), content, snapshots, images, distribution, events, containers, builder, networks, volumes, cgroupVersion: host.cgroupVersion,
    startedAt: new Date(),
    close: async () => { containers.close(); distribution.close(); await Promise.all([networks.close(), builder.close()]); },
  };
}
