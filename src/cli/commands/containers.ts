/**
 * Container verbs with docker's flags, output and exit codes: run, create, start, stop, kill, restart, rm, ps, logs,
 * exec, attach, wait, container inspect/prune, and the `container <verb>` aliases.
 */
import { confirm } from '../confirm.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { copyOutput, readAll } from '../../client/index.js';
import { InvalidArgument, NotFound, PetiError, messageOf } from '../../lib/errors.js';
import { bool, filtersJson, list, str, type FlagSpec, type Parsed } from '../args.js';
import { ago, humanSize } from '../format/index.js';
import { printInspect, printRows } from '../output.js';
import { consoleSize } from '../tty.js';
import type { Cli, Command } from '../types.js';
import { openSession } from './container-session.js';
import { goTime } from './images.js';
import { showProgress } from './registry-client.js';
import { registryAuthFor } from '../docker-config.js';
import { CONTAINER_FLAGS, RUN_ONLY_FLAGS, buildCreate, parseKeyValueFile, parseDurationNs, type CreateRequest } from './run-flags.js';

interface ContainerJson {
  Id: string; Name: string; State: { Status: string; Running: boolean; Paused: boolean; ExitCode: number };
  Config: { Tty?: boolean; OpenStdin?: boolean }; HostConfig: { AutoRemove?: boolean };
}
interface ContainerSummary {
  Id: string; Names: string[]; Image: string; ImageID: string; Command: string; Created: number; State: string; Status: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[]; Labels: Record<string, string> | null;
  SizeRw?: number; SizeRootFs?: number; Mounts?: { Name?: string; Source?: string; Type?: string }[];
  NetworkSettings?: { Networks?: Record<string, unknown> };
}

const enc = encodeURIComponent;

/** Docker's `docker run` error shape: `peti: <message>` and the help hint; the caller returns 125. */
function runError(cli: Cli, verb: string, e: unknown): void {
  const prefix = e instanceof PetiError && isDaemon(e) ? 'Error response from daemon: ' : '';
  cli.err.write(`peti: ${prefix}${messageOf(e)}\n\nRun 'peti ${verb} --help' for more information\n`);
}
const daemonErrors = new WeakSet<object>();
function isDaemon(e: unknown): boolean {
  return typeof e === 'object' && e !== null && daemonErrors.has(e);
}
/** Mark errors that came from the daemon, so local flag errors are not dressed as daemon answers. */
async function api<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (typeof e === 'object' && e !== null) daemonErrors.add(e);
    throw e;
  }
}

/**
 * docker's exit code when start fails: 127 when the command is missing, 126 when it cannot be executed, else 125.
 * Matching on the daemon's text is docker's own rule (cli/command/container/run.go runStartContainerErr).
 */
export function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory|not found/i.test(message)) return 127;
  if (/permission denied|is a directory/i.test(message)) return 126;
  return 125;
}

function normalizeRef(image: string): { ref: string; repo: string; tag: string } {
  const at = image.indexOf('@');
  if (at >= 0) return { ref: image, repo: image.slice(0, at), tag: image.slice(at + 1) };
  const c = image.lastIndexOf(':');
  if (c > image.lastIndexOf('/')) return { ref: image, repo: image.slice(0, c), tag: image.slice(c + 1) };
  return { ref: `${image}:latest`, repo: image, tag: 'latest' };
}

async function pull(cli: Cli, image: string, platform?: string): Promise<void> {
  const { repo, tag } = normalizeRef(image);
  const res = await api(cli.client.send('POST', '/images/create', { query: { fromImage: repo, tag, platform }, headers: { 'X-Registry-Auth': registryAuthFor(image) } }));
  try {
    // docker run prints pull progress on stderr.
    await showProgress(cli, res, cli.err, false);
  } catch (e) {
    daemonErrors.add(e as object);
    throw e;
  }
}

/** POST /containers/create; a missing image is pulled once, as docker does, then create is retried. */
async function createContainer(cli: Cli, req: CreateRequest): Promise<string> {
  const post = (): Promise<{ Id: string; Warnings?: string[] | null }> =>
    api(cli.client.json('POST', '/containers/create', { query: req.query, body: req.body }));
  let r: { Id: string; Warnings?: string[] | null };
  try {
    r = await post();
  } catch (e) {
    if (!(e instanceof NotFound) || /container/i.test(e.message)) throw e;
    cli.err.write(`Unable to find image '${normalizeRef(req.image).ref}' locally\n`);
    await pull(cli, req.image, req.query.platform);
    r = await post();
  }
  for (const w of r.Warnings ?? []) cli.err.write(`WARNING: ${w}\n`);
  return r.Id;
}

function buildFrom(cli: Cli, p: Parsed, detach: boolean): CreateRequest {
  return buildCreate(p, {
    env: (n) => process.env[n], readFile: (f) => readFileSync(f, 'utf8'), cwd: process.cwd(), detach,
    consoleSize: consoleSize(cli.out),
  });
}

function writeCidfile(p: Parsed, id: string): void {
  const f = str(p, 'cidfile');
  if (f) writeFileSync(f, id);
}

function checkCidfile(p: Parsed): void {
  const f = str(p, 'cidfile');
  if (f && existsSync(f)) throw new InvalidArgument(`container ID file found, make sure the other container isn't running or delete ${f}`);
}

/** Wait (headers first), start, then stream until the container is done; returns its exit code. */
async function attachStartWait(cli: Cli, id: string, o: { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean; autoRemove: boolean; sigProxy: boolean; detachKeys?: string; verb: string; start: boolean }): Promise<number> {
  const attached = o.stdin || o.stdout || o.stderr;
  const session = attached
    ? await api(openSession(cli, {
      path: `/containers/${id}/attach`,
      query: { stream: true, stdin: o.stdin || undefined, stdout: o.stdout || undefined, stderr: o.stderr || undefined, detachKeys: o.detachKeys },
      tty: o.tty, stdin: o.stdin, detachKeys: o.detachKeys,
    }))
    : undefined;
  // The daemon answers /wait's headers at once; starting only after them cannot miss a fast exit.
  let waitRes;
  try {
    waitRes = await api(cli.client.send('POST', `/containers/${id}/wait`, { query: { condition: o.autoRemove ? 'removed' : 'next-exit' } }));
  } catch (e) {
    session?.close();
    throw e;
  }
  const waited = readAll(waitRes).then((b) => JSON.parse(b.toString('utf8') || '{}') as { StatusCode?: number; Error?: { Message: string } | null });
  // Destroyed on purpose when start fails or we detach: not an unhandled failure.
  waited.catch(() => undefined);
  if (o.start) {
    try {
      await api(cli.client.send('POST', `/containers/${id}/start`).then((r) => r.resume()));
    } catch (e) {
      session?.close();
      waitRes.destroy();
      cli.err.write(`peti: Error response from daemon: ${messageOf(e)}\n`);
      return startFailureCode(messageOf(e));
    }
  }
  session?.started({
    resize: (h, w) => cli.client.send('POST', `/containers/${id}/resize`, { query: { h, w } }).then((r) => { r.resume(); }),
    kill: o.sigProxy ? (signal) => cli.client.send('POST', `/containers/${id}/kill`, { query: { signal } }).then((r) => { r.resume(); }) : undefined,
  });
  if (session) {
    let detached = false;
    try {
      detached = await session.done;
    } catch (e) {
      cli.err.write(`peti: ${messageOf(e)}\n`);
    }
    session.close();
    if (detached) {
      waitRes.destroy();
      return 0;
    }
  }
  const r = await waited;
  if (r.Error?.Message) {
    cli.err.write(`peti: Error response from daemon: ${r.Error.Message}\n`);
    return 125;
  }
  return r.StatusCode ?? 0;
}

async function runCmd(cli: Cli, p: Parsed): Promise<number> {
  const detach = bool(p, 'detach');
  let req: CreateRequest;
  try {
    checkCidfile(p);
    req = buildFrom(cli, p, detach);
  } catch (e) {
    runError(cli, 'run', e);
    return 125;
  }
  const b = req.body as { Tty: boolean; AttachStdin: boolean; AttachStdout: boolean; AttachStderr: boolean; HostConfig: { AutoRemove: boolean } };
  if (b.AttachStdin && b.Tty && !cli.stdin.isTTY) {
    cli.err.write('the input device is not a TTY\n');
    return 1;
  }
  let id: string;
  try {
    id = await createContainer(cli, req);
  } catch (e) {
    runError(cli, 'run', e);
    return 125;
  }
  writeCidfile(p, id);
  if (detach) {
    try {
      await api(cli.client.send('POST', `/containers/${id}/start`).then((r) => r.resume()));
    } catch (e) {
      cli.err.write(`peti: Error response from daemon: ${messageOf(e)}\n`);
      return startFailureCode(messageOf(e));
    }
    cli.out.write(`${id}\n`);
    return 0;
  }
  try {
    return await attachStartWait(cli, id, {
      tty: b.Tty, stdin: b.AttachStdin, stdout: b.AttachStdout, stderr: b.AttachStderr, autoRemove: b.HostConfig.AutoRemove,
      sigProxy: p.flags['sig-proxy'] !== false, detachKeys: str(p, 'detach-keys'), verb: 'run', start: true,
    });
  } catch (e) {
    runError(cli, 'run', e);
    return 125;
  }
}

async function inspectContainer(cli: Cli, name: string, size = false): Promise<ContainerJson & Record<string, unknown>> {
  return cli.client.json('GET', `/containers/${enc(name)}/json`, { query: { size: size || undefined } });
}

/** Run `fn` for each name; errors are printed docker's way and make the exit code 1. */
async function each(cli: Cli, names: string[], fn: (name: string) => Promise<string | undefined>, tolerate?: (e: unknown) => boolean): Promise<number> {
  let failed = false;
  for (const n of names) {
    try {
      const line = await fn(n);
      if (line !== undefined) cli.out.write(`${line}\n`);
    } catch (e) {
      cli.err.write(`Error response from daemon: ${messageOf(e)}\n`);
      if (!tolerate?.(e)) failed = true;
    }
  }
  return failed ? 1 : 0;
}

/** docker's GetTimestamp: durations are relative to now, dates become `sec.nsec`, bare numbers pass through. */
export function apiTimestamp(v: string | undefined, now = Date.now()): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^(\d+(\.\d*)?|\.\d+)([a-zµ]+\d*)+$/.test(v) && !/^\d+$/.test(v)) {
    try {
      return String(Math.floor((now - parseDurationNs(v) / 1e6) / 1000));
    } catch {
      // not a duration: try a date
    }
  }
  if (/^\d+(\.\d+)?$/.test(v)) return v;
  const hasZone = /(Z|[+-]\d{2}:\d{2})$/.test(v);
  const t = Date.parse(hasZone || !v.includes('T') && v.length > 10 ? v : `${v}${v.length === 10 ? 'T00:00:00' : ''}`);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid value for "since": failed to parse value as time or duration: "${v}"`);
  const frac = /\.(\d+)/.exec(v.replace(/^[^T]*T/, ''))?.[1] ?? '';
  return `${Math.floor(t / 1000)}.${(frac + '000000000').slice(0, 9)}`;
}

/** `"sh -c 'exit 3'"`, truncated to 20 columns with `…` as docker's ps does. */
export function psCommand(cmd: string, trunc: boolean): string {
  let c = cmd;
  if (trunc && [...c].length > 20) c = [...c].slice(0, 19).join('') + '…';
  return JSON.stringify(c);
}

function displayPorts(ports: ContainerSummary['Ports']): string {
  return ports.map((p) => {
    if (p.PublicPort === undefined || p.PublicPort === 0) return `${p.PrivatePort}/${p.Type}`;
    const ip = p.IP?.includes(':') ? `[${p.IP}]` : p.IP ?? '';
    return `${ip}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`;
  }).join(', ');
}

function psRow(c: ContainerSummary, trunc: boolean): Record<string, string> {
  let image = c.Image || '<no image>';
  if (trunc) {
    if (image.startsWith('sha256:') || image === c.ImageID) image = image.replace(/^sha256:/, '').slice(0, 12);
    else image = image.replace(/@sha256:[0-9a-f]+$/, '');
  }
  const names = c.Names.map((n) => n.replace(/^\//, '')).filter((n) => !trunc || !n.includes('/'));
  const sizeRw = humanSize(c.SizeRw ?? 0, 3);
  return {
    ID: trunc ? c.Id.slice(0, 12) : c.Id,
    Image: image,
    Command: psCommand(c.Command, trunc),
    CreatedAt: goTime(new Date(c.Created * 1000)),
    RunningFor: ago(c.Created * 1000),
    Ports: displayPorts(c.Ports ?? []),
    State: c.State,
    Status: c.Status,
    Size: (c.SizeRootFs ?? 0) > 0 ? `${sizeRw} (virtual ${humanSize(c.SizeRootFs ?? 0, 3)})` : sizeRw,
    Names: names.join(','),
    Labels: Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    Mounts: (c.Mounts ?? []).map((m) => m.Name || m.Source || '').join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === 'volume').length),
  };
}


/** A local problem (not a daemon answer): docker prints it bare and exits 1. */
function fail(cli: Cli, message: string): number {
  cli.err.write(`${message}\n`);
  return 1;
}

const fmt: FlagSpec = { name: 'format', short: 'f', kind: 'string' };
const names = (...n: string[]): string[] => n.flatMap((x) => [x, `container ${x}`]);

export const containersCommands: Command[] = [
  {
    names: names('run'),
    usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
    description: 'Create and run a new container from an image',
    flags: [...CONTAINER_FLAGS, ...RUN_ONLY_FLAGS],
    interspersed: false,
    minArgs: 1,
    run: runCmd,
  },
  {
    names: names('create'),
    usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
    description: 'Create a new container',
    flags: CONTAINER_FLAGS,
    interspersed: false,
    minArgs: 1,
    async run(cli, p) {
      let req: CreateRequest;
      try {
        checkCidfile(p);
        req = buildFrom(cli, p, false);
        const id = await createContainer(cli, req);
        writeCidfile(p, id);
        cli.out.write(`${id}\n`);
        return 0;
      } catch (e) {
        runError(cli, 'create', e);
        return 125;
      }
    },
  },
  {
    names: names('start'),
    usage: 'start [OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Start one or more stopped containers',
    flags: [{ name: 'attach', short: 'a', kind: 'bool' }, { name: 'interactive', short: 'i', kind: 'bool' }, { name: 'detach-keys', kind: 'string' }],
    minArgs: 1,
    async run(cli, p) {
      if (bool(p, 'attach') || bool(p, 'interactive')) {
        if (p.args.length > 1) return fail(cli, 'you cannot start and attach multiple containers at once');
        const c = await inspectContainer(cli, p.args[0]!);
        const tty = c.Config.Tty === true;
        const stdin = bool(p, 'interactive') && c.Config.OpenStdin === true;
        if (stdin && tty && !cli.stdin.isTTY) return fail(cli, 'the input device is not a TTY');
        return attachStartWait(cli, c.Id, {
          tty, stdin, stdout: bool(p, 'attach'), stderr: bool(p, 'attach'), autoRemove: c.HostConfig.AutoRemove === true,
          sigProxy: true, detachKeys: str(p, 'detach-keys'), verb: 'start', start: true,
        });
      }
      const code = await each(cli, p.args, async (n) => {
        await cli.client.send('POST', `/containers/${enc(n)}/start`).then((r) => r.resume());
        return n;
      });
      if (code) cli.err.write(`Error: failed to start containers: ${p.args.join(', ')}\n`);
      return code;
    },
  },
  {
    names: names('stop'),
    usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Stop one or more running containers',
    flags: [{ name: 'time', short: 't', kind: 'string', aliases: ['timeout'] }, { name: 'signal', short: 's', kind: 'string' }],
    minArgs: 1,
    run: (cli, p) => each(cli, p.args, async (n) => {
      await cli.client.send('POST', `/containers/${enc(n)}/stop`, { query: { t: str(p, 'time'), signal: str(p, 'signal') } }).then((r) => r.resume());
      return n;
    }),
  },
  {
    names: names('restart'),
    usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Restart one or more containers',
    flags: [{ name: 'time', short: 't', kind: 'string', aliases: ['timeout'] }, { name: 'signal', short: 's', kind: 'string' }],
    minArgs: 1,
    run: (cli, p) => each(cli, p.args, async (n) => {
      await cli.client.send('POST', `/containers/${enc(n)}/restart`, { query: { t: str(p, 'time'), signal: str(p, 'signal') } }).then((r) => r.resume());
      return n;
    }),
  },
  {
    names: names('kill'),
    usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Kill one or more running containers',
    flags: [{ name: 'signal', short: 's', kind: 'string' }],
    minArgs: 1,
    run: (cli, p) => each(cli, p.args, async (n) => {
      await cli.client.send('POST', `/containers/${enc(n)}/kill`, { query: { signal: str(p, 'signal') } }).then((r) => r.resume());
      return n;
    }),
  },
  {
    names: ['rm', 'container rm', 'container remove'],
    usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Remove one or more containers',
    flags: [{ name: 'force', short: 'f', kind: 'bool' }, { name: 'volumes', short: 'v', kind: 'bool' }, { name: 'link', short: 'l', kind: 'bool' }],
    minArgs: 1,
    // docker rm -f reports a missing container but does not fail for it.
    run: (cli, p) => each(cli, p.args, async (n) => {
      await cli.client.send('DELETE', `/containers/${enc(n)}`, { query: { force: bool(p, 'force') || undefined, v: bool(p, 'volumes') || undefined, link: bool(p, 'link') || undefined } }).then((r) => r.resume());
      return n;
    }, (e) => bool(p, 'force') && e instanceof NotFound),
  },
  {
    names: ['ps', 'container ls', 'container ps', 'container list'],
    usage: 'ps [OPTIONS]',
    description: 'List containers',
    flags: [
      { name: 'all', short: 'a', kind: 'bool' }, { name: 'quiet', short: 'q', kind: 'bool' }, { name: 'last', short: 'n', kind: 'string' },
      { name: 'latest', short: 'l', kind: 'bool' }, { name: 'size', short: 's', kind: 'bool' }, { name: 'filter', short: 'f', kind: 'list' },
      { name: 'format', kind: 'string' }, { name: 'no-trunc', kind: 'bool' },
    ],
    maxArgs: 0,
    async run(cli, p) {
      const format = str(p, 'format');
      const quiet = bool(p, 'quiet');
      const last = str(p, 'last') !== undefined ? Number(str(p, 'last')) : -1;
      if (!Number.isInteger(last)) return fail(cli, `invalid argument "${str(p, 'last')}" for "-n, --last" flag`);
      const limit = bool(p, 'latest') ? 1 : last > 0 ? last : undefined;
      const size = !quiet && (bool(p, 'size') || (format?.includes('.Size') ?? false));
      const list0 = await cli.client.json<ContainerSummary[]>('GET', '/containers/json', {
        query: { all: bool(p, 'all') || undefined, limit, size: size || undefined, filters: filtersJson(list(p, 'filter')) },
      });
      const trunc = !bool(p, 'no-trunc');
      if (quiet) {
        for (const c of list0) cli.out.write(`${trunc ? c.Id.slice(0, 12) : c.Id}\n`);
        return 0;
      }
      const rows = list0.map((c) => psRow(c, trunc));
      const def = `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${bool(p, 'size') ? '\t{{.Size}}' : ''}`;
      printRows(cli.out, format, def, rows, {
        ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
        State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES',
      }, list0);
      return 0;
    },
  },
  {
    names: names('logs'),
    usage: 'logs [OPTIONS] CONTAINER',
    description: 'Fetch the logs of a container',
    flags: [
      { name: 'follow', short: 'f', kind: 'bool' }, { name: 'timestamps', short: 't', kind: 'bool' }, { name: 'tail', short: 'n', kind: 'string' },
      { name: 'since', kind: 'string' }, { name: 'until', kind: 'string' }, { name: 'details', kind: 'bool' },
    ],
    minArgs: 1, maxArgs: 1,
    async run(cli, p) {
      const c = await inspectContainer(cli, p.args[0]!);
      const res = await cli.client.send('GET', `/containers/${c.Id}/logs`, {
        query: {
          details: bool(p, 'details') || undefined, follow: bool(p, 'follow') || undefined, since: apiTimestamp(str(p, 'since')), stderr: true, stdout: true,
          tail: str(p, 'tail') ?? 'all', timestamps: bool(p, 'timestamps') || undefined, until: apiTimestamp(str(p, 'until')),
        },
      });
      await copyOutput(res, c.Config.Tty === true, { stdout: cli.out, stderr: cli.err });
      return 0;
    },
  },
  {
    names: names('exec'),
    usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
    description: 'Execute a command in a running container',
    flags: [
      { name: 'interactive', short: 'i', kind: 'bool' }, { name: 'tty', short: 't', kind: 'bool' }, { name: 'detach', short: 'd', kind: 'bool' },
      { name: 'env', short: 'e', kind: 'list' }, { name: 'env-file', kind: 'list' }, { name: 'workdir', short: 'w', kind: 'string' },
      { name: 'user', short: 'u', kind: 'string' }, { name: 'privileged', kind: 'bool' }, { name: 'detach-keys', kind: 'string' },
    ],
    interspersed: false,
    minArgs: 2,
    async run(cli, p) {
      const [name, ...cmd] = p.args as [string, ...string[]];
      const detach = bool(p, 'detach');
      const tty = bool(p, 'tty');
      const interactive = bool(p, 'interactive');
      await inspectContainer(cli, name);
      if (interactive && tty && !detach && !cli.stdin.isTTY) return fail(cli, 'the input device is not a TTY');
      const env = [
        ...list(p, 'env-file').flatMap((f) => parseKeyValueFile(readFileSync(f, 'utf8'), f, (n) => process.env[n])),
        ...list(p, 'env').map((e) => (e.includes('=') || process.env[e] === undefined ? e : `${e}=${process.env[e]}`)),
      ];
      const created = await cli.client.json<{ Id: string }>('POST', `/containers/${enc(name)}/exec`, {
        body: {
          User: str(p, 'user') ?? '', Privileged: bool(p, 'privileged'), Tty: tty, AttachStdin: interactive && !detach, AttachStderr: !detach,
          AttachStdout: !detach, Detach: detach, DetachKeys: str(p, 'detach-keys') ?? '', Env: env.length ? env : null, WorkingDir: str(p, 'workdir') ?? '', Cmd: cmd,
        },
      });
      if (detach) {
        await cli.client.send('POST', `/exec/${created.Id}/start`, { body: { Detach: true, Tty: tty } }).then((r) => r.resume());
        return 0;
      }
      const size = tty ? consoleSize(cli.out) : undefined;
      const session = await openSession(cli, {
        path: `/exec/${created.Id}/start`, body: { Detach: false, Tty: tty, ...(size ? { ConsoleSize: size } : {}) },
        tty, stdin: interactive, detachKeys: str(p, 'detach-keys'),
      });
      session.started({ resize: (h, w) => cli.client.send('POST', `/exec/${created.Id}/resize`, { query: { h, w } }).then((r) => { r.resume(); }) });
      try {
        await session.done;
      } finally {
        session.close();
      }
      const info = await cli.client.json<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${created.Id}/json`);
      return info.ExitCode ?? 0;
    },
  },
  {
    names: names('attach'),
    usage: 'attach [OPTIONS] CONTAINER',
    description: 'Attach local standard input, output, and error streams to a running container',
    flags: [{ name: 'no-stdin', kind: 'bool' }, { name: 'sig-proxy', kind: 'bool' }, { name: 'detach-keys', kind: 'string' }],
    minArgs: 1, maxArgs: 1,
    async run(cli, p) {
      const c = await inspectContainer(cli, p.args[0]!);
      if (!c.State.Running) return fail(cli, 'You cannot attach to a stopped container, start it first');
      if (c.State.Paused) return fail(cli, 'You cannot attach to a paused container, unpause it first');
      const tty = c.Config.Tty === true;
      const stdin = c.Config.OpenStdin === true && !bool(p, 'no-stdin');
      if (stdin && tty && !cli.stdin.isTTY) return fail(cli, 'the input device is not a TTY');
      return attachStartWait(cli, c.Id, {
        tty, stdin, stdout: true, stderr: true, autoRemove: c.HostConfig.AutoRemove === true, sigProxy: p.flags['sig-proxy'] !== false,
        detachKeys: str(p, 'detach-keys'), verb: 'attach', start: false,
      });
    },
  },
  {
    names: names('wait'),
    usage: 'wait CONTAINER [CONTAINER...]',
    description: 'Block until one or more containers stop, then print their exit codes',
    flags: [],
    minArgs: 1,
    run: (cli, p) => each(cli, p.args, async (n) => {
      const r = await cli.client.json<{ StatusCode: number }>('POST', `/containers/${enc(n)}/wait`);
      return String(r.StatusCode);
    }),
  },
  {
    names: ['container inspect'],
    usage: 'container inspect [OPTIONS] CONTAINER [CONTAINER...]',
    description: 'Display detailed information on one or more containers',
    flags: [fmt, { name: 'size', short: 's', kind: 'bool' }],
    minArgs: 1,
    async run(cli, p) {
      const out: unknown[] = [];
      let failed = false;
      for (const n of p.args) {
        try {
          out.push(await inspectContainer(cli, n, bool(p, 'size')));
        } catch (e) {
          failed = true;
          cli.err.write(`Error response from daemon: ${messageOf(e)}\n`);
        }
      }
      if (out.length || !failed) printInspect(cli.out, str(p, 'format'), out);
      return failed ? 1 : 0;
    },
  },
  {
    names: ['container prune'],
    usage: 'container prune [OPTIONS]',
    description: 'Remove all stopped containers',
    flags: [{ name: 'force', short: 'f', kind: 'bool' }, { name: 'filter', kind: 'list' }],
    maxArgs: 0,
    async run(cli, p) {
      if (!bool(p, 'force') && !(await confirm(cli, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return 0;
      const r = await cli.client.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters: filtersJson(list(p, 'filter')) } });
      if (r.ContainersDeleted?.length) cli.out.write(`Deleted Containers:\n${r.ContainersDeleted.join('\n')}\n\n`);
      cli.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
      return 0;
    },
  },
];
