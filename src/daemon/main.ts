import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, isLogLevel } from '../lib/log.js';
import { messageOf } from '../lib/errors.js';
import { createEngine } from '../engine/engine.js';
import { ApplyPool } from '../engine/snapshots/index.js';
import { createApiServer } from '../api/server.js';
import { systemRoutes, PETI_VERSION } from '../api/routes/system.js';
import { imageRoutes } from '../api/routes/images.js';
import { containerRoutes } from '../api/routes/containers.js';
import { execRoutes } from '../api/routes/exec.js';
import { networkRoutes } from '../api/routes/networks.js';
import { volumeRoutes } from '../api/routes/volumes.js';
import { containerOpsRoutes } from '../api/routes/container-ops.js';
import { distributionRoutes } from '../api/routes/distribution.js';
import { buildRoutes } from '../api/routes/build.js';
import { parseInsecureRegistries } from '../engine/distribution/index.js';
import { acquirePidLock } from './lock.js';

const USAGE = `Usage: petid [OPTIONS]

The Peti daemon: serves the Docker Engine API on a unix socket.

Options:
      --data-root DIR     Root of persistent state (default /var/lib/peti)
      --exec-root DIR     Root of runtime state (default /run/peti)
  -H, --host unix://PATH  Socket to listen on (default unix:///run/peti/peti.sock)
      --log-level LEVEL   debug, info, warn or error (default info)
      --default-runtime R OCI runtime for containers: crun (default) or runc
      --insecure-registry HOST[:PORT]
                          Allow plain HTTP and unverified TLS for this registry (repeatable;
                          127.0.0.0/8, ::1 and localhost always are)
      --bridge NAME       Linux bridge of the default network (default peti0)
      --bip CIDR          Gateway address and prefix of the default network (default 10.99.0.1/16; Docker uses 172.17.0.0/16 and Podman 10.88.0.0/16)
  -v, --version           Print the version and exit
  -h, --help              Print this help

Environment:
  PETI_MAX_LAYER_BYTES    Most uncompressed bytes one layer may unpack to (default 64 GiB)
  PETI_MAX_LAYER_ENTRIES  Most entries one layer may hold (default 1000000)
`;

/** Caps on one layer's unpacked bytes and entries (defaults in applyLayer: 64 GiB, 1,000,000 entries). */
function limitsFromEnv(): { maxBytes?: number; maxEntries?: number } {
  const num = (name: string): number | undefined => {
    const v = process.env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${v}`);
    return n;
  };
  const maxBytes = num('PETI_MAX_LAYER_BYTES');
  const maxEntries = num('PETI_MAX_LAYER_ENTRIES');
  return { ...(maxBytes ? { maxBytes } : {}), ...(maxEntries ? { maxEntries } : {}) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-root': { type: 'string', default: '/var/lib/peti' },
      'exec-root': { type: 'string', default: '/run/peti' },
      host: { type: 'string', short: 'H' },
      'log-level': { type: 'string', default: 'info' },
      'default-runtime': { type: 'string', default: 'crun' },
      'insecure-registry': { type: 'string', multiple: true, default: [] },
      bridge: { type: 'string', default: 'peti0' },
      bip: { type: 'string', default: '10.99.0.1/16' },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.version) {
    process.stdout.write(`petid version ${PETI_VERSION}\n`);
    return;
  }
  const level = values['log-level']!;
  if (!isLogLevel(level)) throw new Error(`invalid --log-level ${level}: use debug, info, warn or error`);
  const log = createLogger(level, { svc: 'petid' });
  const dataRoot = values['data-root']!;
  const execRoot = values['exec-root']!;
  const host = values.host ?? `unix://${join(execRoot, 'peti.sock')}`;
  if (!host.startsWith('unix://')) throw new Error(`unsupported -H ${host}: only unix:// sockets are served`);
  const socketPath = host.slice('unix://'.length);

  await fsp.mkdir(dataRoot, { recursive: true, mode: 0o700 });
  const unlock = await acquirePidLock(join(dataRoot, 'petid.pid'));
  try {
    // The bundle sits beside dist/apply-worker.js; layers unpack there so the API keeps answering.
    const pool = new ApplyPool(new URL('./apply-worker.js', import.meta.url));
    const rt = values['default-runtime'];
    if (rt !== 'crun' && rt !== 'runc') throw new Error(`invalid --default-runtime ${rt}: use crun or runc`);
    const engine = await createEngine({ dataRoot, execRoot, log, applyFile: pool.apply, limits: limitsFromEnv(), defaultRuntime: rt, insecureRegistries: parseInsecureRegistries(values['insecure-registry'] ?? []), bridge: values.bridge, bip: values.bip });
    const server = createApiServer({ log, routes: [...systemRoutes(engine), ...networkRoutes(engine), ...imageRoutes(engine), ...distributionRoutes(engine), ...buildRoutes(engine), ...containerRoutes(engine.containers), ...containerOpsRoutes(engine.containers), ...execRoutes(engine.containers), ...volumeRoutes(engine.volumes)], serverHeader: `Peti/${PETI_VERSION} (linux)` });
    await fsp.mkdir(dirname(socketPath), { recursive: true, mode: 0o711 });
    await fsp.rm(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    await fsp.chmod(socketPath, 0o660);
    log.info('petid ready', { socket: socketPath, dataRoot, execRoot, version: PETI_VERSION, pid: process.pid });
    engine.events.emit('daemon', 'start', engine.id, { name: engine.name });

    let stopping = false;
    const stop = async (sig: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal: sig });
      server.close();
      server.closeAllConnections();
      await engine.close();
      await pool.close();
      await fsp.rm(socketPath, { force: true });
      await unlock();
      log.info('stopped');
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  } catch (e) {
    await unlock();
    throw e;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`petid: ${messageOf(e)}\n`);
  process.exit(1);
});
