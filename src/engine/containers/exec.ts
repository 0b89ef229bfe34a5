import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Conflict, InvalidArgument, NotFound, messageOf } from '../../lib/errors.js';
import type { ExecHandle, OciProcess, OciSpec } from '../runtime/types.js';
import { detectHostFacts } from '../runtime/spec-exports.js';
import type { ContainerService } from './service.js';

export interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  Cmd?: string[];
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Privileged?: boolean;
  DetachKeys?: string;
  ConsoleSize?: [number, number] | null;
}

export interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  started: boolean;
  handle?: ExecHandle;
}

/** Resolves a user inside the container's rootfs (the runtime's resolveUser, bound in engine.ts). */
export type UserResolver = (rootfs: string, user: string | undefined) => Promise<{ uid: number; gid: number; additionalGids: number[] }>;

/** Exec instances live in memory, as Docker's do: they do not survive a daemon restart. */
export class ExecStore {
  readonly byId = new Map<string, ExecRecord>();
}

export function createExec(svc: ContainerService, execs: ExecStore, ref: string, cfg: ExecConfig): string {
  const rec = svc.store.get(ref);
  if (rec.state.status === 'paused') throw new Conflict(`Container ${rec.id} is paused, unpause the container before exec`);
  if (rec.state.status !== 'running') throw new Conflict(`container ${rec.id} is not running`);
  if (!Array.isArray(cfg.Cmd) || cfg.Cmd.length === 0) throw new InvalidArgument('No exec command specified');
  const id = randomBytes(32).toString('hex');
  execs.byId.set(id, { id, containerId: rec.id, config: cfg, running: false, exitCode: null, pid: 0, started: false });
  svc.emit(rec, `exec_create: ${cfg.Cmd.join(' ')}`, { execID: id });
  return id;
}

export function getExec(execs: ExecStore, id: string): ExecRecord {
  const e = execs.byId.get(id);
  if (!e) throw new NotFound(`No such exec instance: ${id}`);
  return e;
}


/** The exec's process: the container's own process settings with the exec's command, env, cwd, user and tty. */
async function execProcess(svc: ContainerService, resolveUser: UserResolver, e: ExecRecord): Promise<OciProcess> {
  const rec = svc.store.get(e.containerId);
  const spec = JSON.parse(await fsp.readFile(join(svc.bundle(rec.id), 'config.json'), 'utf8')) as OciSpec;
  const p: OciProcess = structuredClone(spec.process);
  p.args = e.config.Cmd!;
  const env = [...p.env];
  for (const kv of e.config.Env ?? []) {
    const k = kv.split('=')[0];
    const i = env.findIndex((x) => x.split('=')[0] === k);
    if (i >= 0) env[i] = kv;
    else env.push(kv);
  }
  p.env = env.filter((x) => !(x.startsWith('TERM=') && !e.config.Tty));
  if (e.config.Tty && !p.env.some((x) => x.startsWith('TERM='))) p.env.push('TERM=xterm');
  if (e.config.WorkingDir) p.cwd = e.config.WorkingDir;
  if (e.config.User) {
    const u = await resolveUser(svc.rootfs(rec.id), e.config.User);
    p.user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
  }
  p.terminal = e.config.Tty === true;
  if (e.config.ConsoleSize) p.consoleSize = { height: e.config.ConsoleSize[0], width: e.config.ConsoleSize[1] };
  else delete p.consoleSize;
  if (e.config.Privileged) {
    // Every capability petid itself holds (a container can never have more).
    const caps = detectHostFacts().boundingCaps;
    p.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
  }
  return p;
}

/**
 * With a terminal, conmon passes no runtime message when the exec fails to start: say what Docker says when the
 * command is nowhere to be found in the container (looked up through /proc/<pid>/root, names only: lstat, as an
 * absolute symlink there would resolve on the host). Undefined when there is a message or the command exists.
 */
async function missingExecutable(pid: number, cmd: string[], env: string[], message: string): Promise<string | undefined> {
  const name = cmd[0];
  if (!name || pid <= 0 || !/exited before the process started/.test(message)) return undefined;
  const root = `/proc/${pid}/root`;
  const present = (p: string): Promise<boolean> => fsp.lstat(join(root, p)).then(() => true, () => false);
  if (name.includes('/')) return (await present(name)) ? undefined : `exec: "${name}": stat ${name}: no such file or directory`;
  const path = env.find((v) => v.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const d of path.split(':')) if (d.startsWith('/') && (await present(join(d, name)))) return undefined;
  return `exec: "${name}": executable file not found in $PATH`;
}

/** Start an exec; resolves once the process runs. Its exit is recorded when it comes. */
export async function startExec(svc: ContainerService, execs: ExecStore, resolveUser: UserResolver, id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] }): Promise<ExecRecord> {
  const e = getExec(execs, id);
  if (e.started) throw new Conflict(`exec ${id} has already been started`);
  const rec = svc.store.get(e.containerId);
  if (rec.state.status !== 'running') throw new Conflict(`container ${rec.id} is not running`);
  e.started = true;
  if (opts.tty !== undefined) e.config.Tty = opts.tty;
  if (opts.consoleSize) e.config.ConsoleSize = opts.consoleSize;
  const dir = join(svc.d.execRoot, 'exec', id);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  let handle: ExecHandle;
  try {
    const process = await execProcess(svc, resolveUser, e);
    const attached = !opts.detach && (e.config.AttachStdin || e.config.AttachStdout || e.config.AttachStderr || e.config.Tty) === true;
    handle = await svc.d.runtime.exec({
      containerId: rec.id, execId: id, dir, process, tty: e.config.Tty === true, stdin: attached && e.config.AttachStdin === true, runtime: rec.runtime,
      attach: attached,
    });
  } catch (err) {
    const msg = (await missingExecutable(rec.state.pid, e.config.Cmd ?? [], e.config.Env ?? rec.config.Env ?? [], messageOf(err))) ?? messageOf(err);
    e.exitCode = /not found|No such file/i.test(msg) ? 127 : 126;
    await fsp.rm(dir, { recursive: true, force: true });
    throw new InvalidArgument(`OCI runtime exec failed: exec failed: ${msg}`, { cause: err });
  }
  e.handle = handle;
  e.pid = handle.pid;
  e.running = true;
  svc.emit(rec, `exec_start: ${e.config.Cmd!.join(' ')}`, { execID: id });
  void handle.exited.then(
    (code) => {
      e.running = false;
      e.exitCode = code;
      svc.emit(rec, 'exec_die', { execID: id, exitCode: String(code) });
    },
    () => {
      e.running = false;
      e.exitCode = e.exitCode ?? 126;
    },
  ).finally(() => fsp.rm(dir, { recursive: true, force: true }));
  return e;
}
