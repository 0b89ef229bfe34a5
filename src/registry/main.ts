/**
 * `peti registry serve|gc`: the standalone OCI Distribution server (bundled as dist/peti-registry.js; the peti CLI
 * runs it as a child process so the CLI bundle stays small).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { createLogger, isLogLevel, type LogLevel } from '../lib/log.js';
import { type Authorizer, BasicAuthorizer, OpenAuthorizer, TokenAuthorizer } from './auth.js';
import { collectGarbage } from './gc.js';
import { Htpasswd } from './htpasswd.js';
import { startRegistry } from './server.js';
import { TokenService } from './token-service.js';

const DEFAULT_ROOT = '/var/lib/peti-registry';

const USAGE = `Usage:
  peti registry serve [--addr 127.0.0.1:5000] [--root DIR] [--htpasswd FILE] [--tls-cert F --tls-key F]
                      [--token-realm URL [--token-service S] [--token-issuer X] [--token-key FILE] [--anonymous-pull]]
                      [--max-uploads N] [--log-level debug|info|warn|error]
  peti registry gc [--root DIR] [--dry-run]

Storage lives under --root (default ${DEFAULT_ROOT}). Run gc with the server stopped.
With --token-realm, the server also answers the Docker token flow at /token (users from --htpasswd).
`;

const BOOL_FLAGS = new Set(['dry-run', 'anonymous-pull', 'help']);

function parseArgs(argv: readonly string[]): { positional: string[]; flags: Map<string, string> } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') flags.set('help', 'true');
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      if (BOOL_FLAGS.has(name)) flags.set(name, eq < 0 ? 'true' : a.slice(eq + 1));
      else if (eq >= 0) flags.set(name, a.slice(eq + 1));
      else if (i + 1 < argv.length) flags.set(name, argv[++i]!);
      else throw new Error(`flag needs an argument: --${name}`);
    } else positional.push(a);
  }
  return { positional, flags };
}

function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid --addr ${JSON.stringify(addr)}: want HOST:PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid port in --addr ${addr}`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

const KNOWN = {
  serve: ['addr', 'root', 'htpasswd', 'tls-cert', 'tls-key', 'token-realm', 'token-service', 'token-issuer', 'token-key', 'anonymous-pull', 'max-uploads', 'log-level', 'help'],
  gc: ['root', 'dry-run', 'log-level', 'help'],
} as const;

async function serve(flags: Map<string, string>): Promise<number> {
  const level = flags.get('log-level') ?? 'info';
  if (!isLogLevel(level)) throw new Error(`invalid --log-level ${level}`);
  const log = createLogger(level as LogLevel, { component: 'registry' });
  const { host, port } = parseAddr(flags.get('addr') ?? '127.0.0.1:5000');
  const root = flags.get('root') ?? DEFAULT_ROOT;
  const htpasswdPath = flags.get('htpasswd');
  const users = htpasswdPath ? await Htpasswd.load(htpasswdPath, log) : undefined;
  const certPath = flags.get('tls-cert');
  const keyPath = flags.get('tls-key');
  if ((certPath === undefined) !== (keyPath === undefined)) throw new Error('--tls-cert and --tls-key go together');
  const tls = certPath && keyPath ? { cert: await fsp.readFile(certPath), key: await fsp.readFile(keyPath) } : undefined;
  const realm = flags.get('token-realm');
  let authorizer: Authorizer = users ? new BasicAuthorizer(users) : new OpenAuthorizer();
  let tokens: TokenService | undefined;
  if (realm !== undefined) {
    const service = flags.get('token-service') ?? 'peti-registry';
    const issuer = flags.get('token-issuer') ?? 'peti-registry-token';
    const keyFile = flags.get('token-key');
    // Without a key file, tokens are signed with a key that lives as long as this process.
    const key = keyFile ? await fsp.readFile(keyFile) : randomBytes(32);
    if (key.length < 16) throw new Error('--token-key must hold at least 16 bytes');
    authorizer = new TokenAuthorizer({ realm, service, issuer, key });
    tokens = new TokenService({ users, service, issuer, key, anonymousPull: flags.get('anonymous-pull') === 'true', ttl: 300 });
  }
  const maxUploads = Number(flags.get('max-uploads') ?? 1000);
  if (!Number.isSafeInteger(maxUploads) || maxUploads < 1) throw new Error('--max-uploads must be a positive integer');
  const reg = await startRegistry({ root, authorizer, tokens, log, tls, maxUploads }, host, port);
  log.info('listening', { url: reg.url, root, auth: tokens ? 'token' : users ? 'htpasswd' : 'none' });
  // Tests and scripts read the bound address (useful with port 0) from this one stdout line.
  process.stdout.write(`peti registry listening on ${reg.url}\n`);
  await new Promise<void>((ok) => {
    const stop = (): void => {
      log.info('shutting down');
      void reg.close().then(ok);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

async function gc(flags: Map<string, string>): Promise<number> {
  const log = createLogger('warn', { component: 'registry-gc' });
  const dryRun = flags.get('dry-run') === 'true';
  const r = await collectGarbage(flags.get('root') ?? DEFAULT_ROOT, { dryRun, log });
  for (const b of r.removed) process.stdout.write(`${dryRun ? 'would remove' : 'removed'} ${b.digest} (${b.size} bytes)\n`);
  process.stdout.write(`${dryRun ? 'would remove' : 'removed'} ${r.removed.length} blobs (${r.bytes} bytes), kept ${r.kept}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE);
    return cmd === undefined ? 1 : 0;
  }
  if (cmd !== 'serve' && cmd !== 'gc') {
    process.stderr.write(`peti registry: unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
    return 1;
  }
  const { positional, flags } = parseArgs(rest);
  if (flags.has('help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = [...flags.keys()].filter((f) => !(KNOWN[cmd] as readonly string[]).includes(f));
  if (unknown.length > 0 || positional.length > 0) {
    process.stderr.write(`peti registry ${cmd}: unexpected ${unknown.length ? `flag --${unknown[0]}` : `argument ${positional[0]}`}\n\n${USAGE}`);
    return 1;
  }
  return cmd === 'serve' ? serve(flags) : gc(flags);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`peti registry: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
