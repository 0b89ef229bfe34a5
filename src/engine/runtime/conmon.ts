import { which } from '../../lib/which.js';
import { trace } from '../../lib/trace.js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsc, watch } from 'node:fs';
import { access, mkdir, open, readdir, readFile, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { constants as osc } from 'node:os';
import { basename, delimiter, dirname, join, resolve as resolvePath } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { SeqpacketSocket } from 'node-unix-socket';
import { Conflict, Internal, InvalidArgument, NotFound, Unavailable, messageOf } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { joinCgroup, ownCgroupProcs, prepareCgroup } from './host.js';
import type {
  AttachStreams, ContainerRuntime, ExecHandle, ExecOptions, OciLinuxResources, OciSpec, RuntimeCreateOptions, RuntimeState,
} from './types.js';

export interface ConmonRuntimeOptions {
  /** Peti's exec root (/run/peti): runtime state in `<execRoot>/<runtime>`, attach links in `<execRoot>/socket`. */
  execRoot: string;
  log: Logger;
  conmonPath?: string;
  defaultRuntime?: 'crun' | 'runc';
  /**
   * A cgroup (e.g. `/peti/conmon`) every conmon is moved into, in all hierarchies, so conmons outlive a service
   * manager stopping petid's own cgroup. Unset: conmon stays in petid's cgroup.
   */
  conmonCgroup?: string;
}

/** One message conmon writes on its sync/attach pipes: `{"data": N}` or `{"data": -1, "message": "..."}`. */
interface PipeMessage { data: number; message?: string }

/** sun_path holds 108 bytes including the NUL. */
const SUN_PATH_MAX = 107;
/** Conmon reads attach packets into an 8 KiB buffer (STDIO_BUF_SIZE); a longer SEQPACKET would be truncated. */
const STDIN_PACKET_MAX = 8192;
/** `crun create` is normally ~20 ms; a stuck hook or a dead conmon must not hang petid forever. */
const SYNC_TIMEOUT_MS = 60_000;
/** crun's annotation carrying a compiled seccomp filter (base64), loaded instead of compiling the JSON profile. */
const SECCOMP_BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';
/** Distinct seccomp profiles whose compiled filter is kept (a few per daemon: default, per capability set, custom). */
const SECCOMP_CACHE_MAX = 32;

/**
 * The OCI runtime (crun or runc) driven through one conmon per container. Conmon is fully detached: it survives
 * petid, keeps logging, and leaves the exit code in `<exitDir>/<id>`.
 */
export class ConmonRuntime implements ContainerRuntime {
  private readonly execRoot: string;
  private readonly log: Logger;
  private readonly conmonPath: string;
  private readonly defaultRuntime: string;
  private readonly conmonCgroup: string | undefined;
  private conmonCgroupFiles: Promise<string[]> | undefined;
  private ownProcs: Promise<string | undefined> | undefined;
  private warming = false;
  private readonly binaries = new Map<string, string>();
  /**
   * Compiled seccomp filters by profile (crun only). crun 1.8 as packaged here (no libgcrypt) compiles the JSON
   * profile with libseccomp at every create, ~15 ms of the ~30 ms a create takes; given the filter it compiled once
   * (the `seccomp.bpf` it leaves in its state dir, also what `crun exec` loads) it just loads it.
   */
  private readonly seccompBpf = new Map<string, string>();
  /** Size and mtime of each runtime binary (part of the filter cache key), read once. */
  private readonly binStats = new Map<string, string>();

  constructor(opts: ConmonRuntimeOptions) {
    this.execRoot = opts.execRoot;
    this.log = opts.log;
    this.conmonPath = opts.conmonPath ?? 'conmon';
    this.defaultRuntime = opts.defaultRuntime ?? 'crun';
    this.conmonCgroup = opts.conmonCgroup;
  }

  private get socketDir(): string { return join(this.execRoot, 'socket'); }

  /** The runtime's state dir: Peti's containers live apart from other users of the same runtime. */
  stateRoot(runtime?: string): string {
    return join(this.execRoot, basename(runtime ?? this.defaultRuntime));
  }

  async create(opts: RuntimeCreateOptions): Promise<{ pid: number; conmonPid: number }> {
    const runtimePath = await this.binary(opts.runtime ?? this.defaultRuntime);
    const root = this.stateRoot(opts.runtime);
    // conmon's stderr goes to /dev/null (it must survive petid), so a missing log dir would fail without a word.
    const dirs = [root, this.socketDir, opts.exitDir, opts.persistDir, dirname(opts.logPath)];
    await Promise.all(dirs.map((d) => mkdir(d, { recursive: true })));
    const conmonPidFile = join(opts.bundle, 'conmon.pid');
    const args = [
      '--api-version', '1', '-c', opts.id, '-u', opts.id, '-r', runtimePath,
      '--runtime-arg', '--root', '--runtime-arg', root,
      '-b', opts.bundle, '-p', join(opts.bundle, 'pidfile'), '-n', opts.name,
      '--exit-dir', opts.exitDir, '-l', `k8s-file:${opts.logPath}`, '--socket-dir-path', this.socketDir,
      '-P', conmonPidFile, '-0', opts.persistDir,
    ];
    if (opts.tty) args.push('-t');
    if (opts.stdin) args.push('-i');
    if (opts.leaveStdinOpen) args.push('--leave-stdin-open');
    if (opts.logSizeMax !== undefined && opts.logSizeMax > 0) args.push('--log-size-max', String(opts.logSizeMax));

    const log = this.log.child({ container: opts.id });
    const seccompKey = await this.useCompiledSeccomp(opts.bundle, runtimePath).catch((err: unknown) => {
      log.debug('seccomp filter cache not used', { error: messageOf(err) });
      return undefined;
    });
    trace(opts.id, 'runtime: seccomp ready');
    const child = await this.spawnConmon(args, ['pipe'], log, opts.bundle);
    trace(opts.id, 'runtime: conmon spawned');
    // Again now (unless the start's warm-up is still waiting): the runtime's move of the container follows within
    // a few milliseconds and finds the lock's fast path open.
    this.warm();
    const sync = new MessageReader(child.fds[0] as Readable);
    try {
      const msg = await sync.next(SYNC_TIMEOUT_MS);
      if (msg === undefined) {
        throw new Internal(`conmon for ${opts.id} exited before reporting the container (exit ${await child.exit()})`);
      }
      trace(opts.id, 'runtime: conmon reported');
      if (msg.data < 0) throw new Internal(runtimeMessage(msg.message ?? `${basename(runtimePath)} create failed`));
      const conmonPid = await readPidFile(conmonPidFile);
      if (seccompKey !== undefined) await this.learnCompiledSeccomp(seccompKey, join(root, opts.id, 'seccomp.bpf'));
      // Not awaited: after a quiet spell the move waits out a grace period (see warm), and nothing on the start
      // path needs conmon in its cgroup; it is there moments later.
      void this.moveConmon(conmonPid).catch((err: unknown) => {
        log.warn('conmon stays in petid\'s cgroup', { error: messageOf(err) });
      });
      log.debug('container created', { pid: msg.data, conmonPid });
      return { pid: msg.data, conmonPid };
    } finally {
      sync.close();
    }
  }

  async start(id: string, runtime?: string): Promise<void> {
    if (await this.startThroughFifo(id, runtime)) return;
    await this.runtimeCmd(id, runtime, ['start', id]);
  }

  /**
   * What `crun start` does (crun 1.8 libcrun_container_start) for a container without poststart hooks or notify
   * socket, without spawning crun (~5 ms here): open the state dir's `exec.fifo` for writing, unlink it (crun's
   * `state` says running once it is gone), write one byte (the container's init, blocked reading it, execs).
   * Non-blocking open: with no reader left it fails (ENXIO) instead of hanging. False when the fast path does not
   * apply (runc, hooks, no fifo, no reader): the caller runs the runtime's own start, which words the error.
   */
  private async startThroughFifo(id: string, runtime?: string): Promise<boolean> {
    if (basename(await this.binary(runtime ?? this.defaultRuntime)) !== 'crun') return false;
    const dir = join(this.stateRoot(runtime), id);
    const text = await readFile(join(dir, 'config.json'), 'utf8').catch(() => undefined);
    if (text === undefined) return false;
    // Parsed only when there may be hooks (petid's own specs have none).
    if (text.includes('"hooks"') && ((JSON.parse(text) as OciSpec).hooks?.['poststart']?.length ?? 0) > 0) return false;
    const fifo = join(dir, 'exec.fifo');
    const fh = await open(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK).catch(() => undefined);
    if (fh === undefined) return false;
    try {
      await rm(fifo);
      await fh.write(Buffer.from([0]));
    } catch (err) {
      throw new Internal(`cannot start container ${id}: ${messageOf(err)}`, { cause: err });
    } finally {
      await fh.close();
    }
    return true;
  }

  async kill(id: string, signal: string | number, all = false, runtime?: string): Promise<void> {
    const n = signalNumber(signal);
    await this.runtimeCmd(id, runtime, all ? ['kill', '--all', id, String(n)] : ['kill', id, String(n)]);
  }

  async delete(id: string, force = false, runtime?: string): Promise<void> {
    await rm(join(this.socketDir, id), { force: true });
    if (!(await this.known(id, runtime))) return;
    const r = await this.runRuntime(runtime, force ? ['delete', '--force', id] : ['delete', id]);
    if (r.code === 0 || !(await this.known(id, runtime))) return;
    throw new Internal(runtimeMessage(r.stderr));
  }

  async state(id: string, runtime?: string): Promise<RuntimeState | undefined> {
    if (!(await this.known(id, runtime))) return undefined;
    const r = await this.runRuntime(runtime, ['state', id]);
    if (r.code !== 0) {
      if (!(await this.known(id, runtime))) return undefined;
      throw new Internal(runtimeMessage(r.stderr));
    }
    return parseRuntimeState(r.stdout);
  }

  async pause(id: string, runtime?: string): Promise<void> {
    await this.runtimeCmd(id, runtime, ['pause', id]);
  }

  async resume(id: string, runtime?: string): Promise<void> {
    await this.runtimeCmd(id, runtime, ['resume', id]);
  }

  async update(id: string, resources: OciLinuxResources, runtime?: string): Promise<void> {
    const dir = join(this.execRoot, 'update');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${id}-${process.hrtime.bigint()}.json`);
    await writeFile(file, JSON.stringify(resources), { mode: 0o600 });
    try {
      await this.runtimeCmd(id, runtime, ['update', '--resources', file, id]);
    } finally {
      await rm(file, { force: true });
    }
  }

  async attach(bundle: string, opts: { stdin: boolean }): Promise<AttachStreams> {
    const conmonPid = await readPidFile(join(bundle, 'conmon.pid'), 0).catch(() => undefined);
    return this.withAttachPath(bundle, undefined, (path) => connectAttach(path, opts.stdin, conmonPid));
  }

  async resize(bundle: string, rows: number, cols: number): Promise<void> {
    await writeCtl(join(bundle, 'ctl'), rows, cols);
  }

  async exec(opts: ExecOptions): Promise<ExecHandle> {
    const runtimePath = await this.binary(opts.runtime ?? this.defaultRuntime);
    const exitDir = join(opts.dir, 'exits');
    await Promise.all([exitDir, this.socketDir].map((d) => mkdir(d, { recursive: true })));
    const spec = join(opts.dir, 'process.json');
    await writeFile(spec, JSON.stringify({ ...opts.process, terminal: opts.tty }));
    const attach = opts.attach ?? true;
    const args = [
      '--api-version', '1', '-c', opts.containerId, '-u', opts.execId, '-r', runtimePath,
      '--runtime-arg', '--root', '--runtime-arg', this.stateRoot(opts.runtime),
      '-b', opts.dir, '-p', join(opts.dir, 'pid'), '-n', opts.execId, '--exit-dir', exitDir,
      '-l', `k8s-file:${join(opts.dir, 'exec.log')}`, '--socket-dir-path', this.socketDir,
      '-P', join(opts.dir, 'conmon.pid'), '-e', '--exec-process-spec', spec,
    ];
    if (attach) args.push('--exec-attach');
    if (opts.tty) args.push('-t');
    if (opts.stdin) args.push('-i');

    const log = this.log.child({ container: opts.containerId, exec: opts.execId });
    const child = await this.spawnConmon(args, attach ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe'], log, opts.dir);
    const sync = new MessageReader(child.fds[0] as Readable);
    const startPipe = child.fds[1] as Writable;
    let streams: AttachStreams | undefined;
    try {
      // Conmon waits for a first byte before it prepares the exec; with --exec-attach it then reports the attach
      // socket on the attach pipe and waits for a second byte, so we are connected before the process runs.
      await writeByte(startPipe);
      if (attach) {
        const ready = new MessageReader(child.fds[2] as Readable);
        try {
          const msg = await ready.next(SYNC_TIMEOUT_MS);
          if (msg === undefined) throw new Internal(`conmon for exec ${opts.execId} exited before its attach socket was ready`);
          if (msg.data < 0) throw new Internal(runtimeMessage(msg.message ?? 'exec attach failed'));
        } finally {
          ready.close();
        }
        streams = await this.withAttachPath(opts.dir, opts.execId, (path) => connectAttach(path, opts.stdin, undefined));
        await writeByte(startPipe);
      }
      const started = await sync.next(SYNC_TIMEOUT_MS);
      if (started === undefined) throw new Internal(`conmon for exec ${opts.execId} exited before the process started`);
      if (started.data < 0) throw new Internal(runtimeMessage(started.message ?? `${basename(runtimePath)} exec failed`));
      const pid = started.data;
      if (this.conmonCgroup !== undefined) {
        // A detached exec (`docker exec -d`) can run for long: its conmon must not die with petid either.
        await readPidFile(join(opts.dir, 'conmon.pid'), 0).then((p) => this.moveConmon(p)).catch((err: unknown) => {
          log.debug('exec conmon stays in petid\'s cgroup', { error: messageOf(err) });
        });
      }
      log.debug('exec started', { pid });
      const exited = (async (): Promise<number> => {
        try {
          const end = await sync.next();
          if (end !== undefined && end.data >= 0) return end.data;
        } catch { /* fall back to the exit file */ } finally {
          sync.close();
          (startPipe as Writable & { destroy(): void }).destroy();
        }
        // Conmon names the exec's exit file after the container (-c), not the exec (-u): hence a private exit dir.
        return waitExitFile(exitDir, opts.containerId);
      })();
      return { pid, streams, exited, resize: (rows, cols) => writeCtl(join(opts.dir, 'ctl'), rows, cols) };
    } catch (err) {
      streams?.detach();
      sync.close();
      (startPipe as Writable & { destroy(): void }).destroy();
      throw err;
    }
  }

  /**
   * Spawn conmon detached from petid: own session, stdio on /dev/null, unref'd. Extra fds (3, 4, 5) are socket
   * pairs that conmon learns through `_OCI_SYNCPIPE`, `_OCI_STARTPIPE`, `_OCI_ATTACHPIPE`.
   */
  private spawnConmon(
    args: string[], extra: 'pipe'[], log: Logger, cwd: string,
  ): Promise<{ fds: (Readable | Writable | null)[]; pid: number | undefined; exit: () => Promise<number | string> }> {
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
    const names = ['_OCI_SYNCPIPE', '_OCI_STARTPIPE', '_OCI_ATTACHPIPE'];
    extra.forEach((_, i) => { env[names[i]!] = String(3 + i); });
    log.debug('spawn conmon', { args });
    // cwd: conmon writes an `oom` file into its working directory (besides the persist dir's): keep it in the bundle.
    const child = spawn(which(this.conmonPath), args, { stdio: ['ignore', 'ignore', 'ignore', ...extra], detached: true, env, cwd });
    child.unref();
    const exited = new Promise<number | string>((res) => child.once('exit', (code, sig) => res(code ?? sig ?? 'unknown')));
    // The child is unref'd: waiting on its exit alone could leave the event loop empty. A ref'd timer bounds it.
    const exit = async (): Promise<number | string> => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<string>((res) => { timer = setTimeout(() => res('unknown'), 2000); });
      try { return await Promise.race([exited, late]); } finally { clearTimeout(timer); }
    };
    return new Promise((resolve, reject) => {
      child.once('error', (err) => {
        for (const s of child.stdio.slice(3)) (s as { destroy?: () => void } | null)?.destroy?.();
        reject(new Unavailable(`cannot run conmon (${this.conmonPath}): ${messageOf(err)}`, {
          cause: err, hint: 'install conmon (Debian package conmon) or pass its path',
        }));
      });
      child.once('spawn', () => resolve({ fds: child.stdio.slice(3) as (Readable | Writable | null)[], pid: child.pid, exit }));
    });
  }

  /**
   * For crun: when the bundle's seccomp profile was compiled before, hand crun that filter through its annotation
   * (config.json rewritten by rename, no fsync: it is regenerated from the record). Returns the profile's cache key
   * when the filter is still to be learnt from this create, else undefined.
   */
  private async useCompiledSeccomp(bundle: string, runtimePath: string): Promise<string | undefined> {
    if (basename(runtimePath) !== 'crun') return undefined;
    const file = join(bundle, 'config.json');
    const text = await readFile(file, 'utf8');
    // prepareSpec put the filter in already (the usual case): nothing to parse.
    if (text.includes(`"${SECCOMP_BPF_ANNOTATION}"`)) return undefined;
    const spec = JSON.parse(text) as OciSpec;
    const key = await this.seccompKey(spec, runtimePath);
    if (key === undefined) return undefined;
    const bpf = this.seccompBpf.get(key);
    if (bpf === undefined) return key;
    spec.annotations = { ...spec.annotations, [SECCOMP_BPF_ANNOTATION]: bpf };
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(spec), { mode: 0o600 });
    await rename(tmp, file);
    return undefined;
  }

  /** The compiled-filter cache key of the spec's seccomp profile; undefined without one. */
  private async seccompKey(spec: OciSpec, runtimePath: string): Promise<string | undefined> {
    const seccomp = spec.linux?.seccomp;
    if (seccomp === undefined) return undefined;
    // The filter depends on the profile, crun's own generation options and the crun/libseccomp build.
    let bin = this.binStats.get(runtimePath);
    if (bin === undefined) {
      const st = await stat(runtimePath);
      bin = `${st.size}/${st.mtimeMs}`;
      this.binStats.set(runtimePath, bin);
    }
    return createHash('sha256').update(JSON.stringify([
      runtimePath, bin, spec.annotations?.['run.oci.seccomp_fail_unknown_syscall'] ?? '', seccomp,
    ])).digest('hex');
  }

  /**
   * Before the bundle's config.json is written: give crun the filter it compiled for this profile before (see
   * useCompiledSeccomp), so the start path neither compiles nor rewrites anything.
   */
  async prepareSpec(spec: OciSpec, runtime?: string): Promise<void> {
    const runtimePath = await this.binary(runtime ?? this.defaultRuntime);
    if (basename(runtimePath) !== 'crun' || spec.annotations?.[SECCOMP_BPF_ANNOTATION] !== undefined) return;
    const key = await this.seccompKey(spec, runtimePath);
    const bpf = key === undefined ? undefined : this.seccompBpf.get(key);
    if (bpf !== undefined) spec.annotations = { ...spec.annotations, [SECCOMP_BPF_ANNOTATION]: bpf };
  }

  /** Keep the filter crun compiled for this profile (read from its state dir right after create). */
  private async learnCompiledSeccomp(key: string, bpfPath: string): Promise<void> {
    const bpf = await readFile(bpfPath).catch(() => undefined);
    // A valid filter is a non-empty array of 8-byte sock_filter instructions.
    if (bpf === undefined || bpf.length === 0 || bpf.length % 8 !== 0) return;
    if (this.seccompBpf.size >= SECCOMP_CACHE_MAX) this.seccompBpf.delete(this.seccompBpf.keys().next().value as string);
    this.seccompBpf.set(key, bpf.toString('base64'));
  }

  /**
   * On a host with cgroup v1 hierarchies, the first cgroup move after a quiet spell waits for an RCU grace period
   * (the kernel's cgroup_threadgroup_rwsem: 10-25 ms measured here, where a move shortly after another one takes
   * ~0.1 ms). Every container start makes moves: the runtime's of the container, ours of conmon. A no-op move of
   * petid into its own cgroup, made when a create or start request arrives, lets that wait elapse during petid's own
   * work (and keeps the lock's fast path open for the runtime's moves that follow). One at a time.
   */
  warm(): void {
    if (this.warming) return;
    this.ownProcs ??= ownCgroupProcs().catch(() => undefined);
    this.warming = true;
    void this.ownProcs.then((f) => (f ? writeFile(f, String(process.pid)) : undefined)).catch(() => undefined).finally(() => { this.warming = false; });
  }

  /** Into `conmonCgroup`; the dirs are made once, and again if someone removed them meanwhile. */
  private async moveConmon(pid: number): Promise<void> {
    const cg = this.conmonCgroup;
    if (cg === undefined) return;
    this.conmonCgroupFiles ??= prepareCgroup(cg);
    try {
      await joinCgroup(pid, await this.conmonCgroupFiles);
    } catch (e) {
      if (!/ENOENT/.test(messageOf(e))) throw e;
      this.conmonCgroupFiles = prepareCgroup(cg);
      await joinCgroup(pid, await this.conmonCgroupFiles);
    }
  }

  /**
   * Run connect with a socket path short enough for sun_path: the real one, conmon's `<socket-dir>/<uuid>` link,
   * or else `/proc/self/fd/N/attach` through the bundle directory held open meanwhile (long exec roots).
   */
  private async withAttachPath<T>(bundle: string, uuid: string | undefined, connect: (path: string) => Promise<T>): Promise<T> {
    const path = await this.attachPath(bundle, uuid).catch(() => undefined);
    if (path !== undefined) return connect(path);
    const dir = await open(bundle, fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      return await connect(`/proc/self/fd/${dir.fd}/attach`);
    } finally {
      await dir.close();
    }
  }

  /** The attach socket through the short `<socket-dir>/<uuid>` link conmon makes, when the real path is too long. */
  private async attachPath(bundle: string, uuid?: string): Promise<string> {
    const direct = join(bundle, 'attach');
    if (Buffer.byteLength(direct) <= SUN_PATH_MAX) return direct;
    const want = resolvePath(bundle);
    const names = uuid !== undefined ? [uuid] : await readdir(this.socketDir).catch(() => [] as string[]);
    for (const n of names) {
      const target = await readlink(join(this.socketDir, n)).catch(() => undefined);
      if (target !== undefined && resolvePath(this.socketDir, target) === want) {
        const short = join(this.socketDir, n, 'attach');
        if (Buffer.byteLength(short) > SUN_PATH_MAX) break;
        return short;
      }
    }
    throw new NotFound(`no attach socket for ${bundle}`);
  }

  private async binary(name: string): Promise<string> {
    const known = this.binaries.get(name);
    if (known !== undefined) return known;
    let found: string | undefined;
    if (name.includes('/')) found = name;
    else {
      const dirs = (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/local/bin', '/usr/bin', '/usr/sbin', '/bin', '/sbin']);
      for (const d of dirs.filter(Boolean)) {
        const p = join(d, name);
        if (await access(p, fsc.X_OK).then(() => true, () => false)) { found = p; break; }
      }
    }
    if (found === undefined) throw new Unavailable(`OCI runtime ${name} not found in PATH`, { hint: `install ${name}` });
    this.binaries.set(name, found);
    return found;
  }

  /** Whether the runtime has state for the container (its state dir is `<root>/<id>` for crun and runc). */
  private async known(id: string, runtime?: string): Promise<boolean> {
    return access(join(this.stateRoot(runtime), id)).then(() => true, () => false);
  }

  private async runtimeCmd(id: string, runtime: string | undefined, args: string[]): Promise<void> {
    const r = await this.runRuntime(runtime, args);
    if (r.code === 0) return;
    if (!(await this.known(id, runtime))) throw new NotFound(`No such container: ${id}`, { code: 'PETI_ERR_NO_SUCH_CONTAINER' });
    throw new Conflict(runtimeMessage(r.stderr));
  }

  private async runRuntime(runtime: string | undefined, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const path = await this.binary(runtime ?? this.defaultRuntime);
    const full = ['--root', this.stateRoot(runtime), ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(path, full, { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.once('error', (e) => reject(new Unavailable(`cannot run ${path}: ${e.message}`, { cause: e })));
      child.once('close', (code, sig) => {
        const stderr = Buffer.concat(err).toString('utf8');
        this.log.debug('runtime command', { args: full, code, signal: sig, stderr: stderr.trim() || undefined });
        resolve({ code: code ?? 128, stdout: Buffer.concat(out).toString('utf8'), stderr });
      });
    });
  }
}

/** `crun state` / `runc state` JSON to RuntimeState. */
export function parseRuntimeState(json: string): RuntimeState {
  const v = JSON.parse(json) as { id?: unknown; status?: unknown; pid?: unknown };
  const statuses = ['creating', 'created', 'running', 'stopped', 'paused'] as const;
  const status = statuses.find((s) => s === v.status);
  if (typeof v.id !== 'string' || status === undefined) throw new Internal(`unexpected runtime state: ${json.slice(0, 200)}`);
  return { id: v.id, status, pid: typeof v.pid === 'number' ? v.pid : 0 };
}

/** A signal as a number: 9, '9', 'KILL', 'SIGKILL', 'sigkill'. Throws InvalidArgument for anything else. */
export function signalNumber(signal: string | number): number {
  if (typeof signal === 'number' || /^\d+$/.test(signal)) {
    const n = Number(signal);
    if (Number.isInteger(n) && n > 0 && n <= 64) return n;
    throw new InvalidArgument(`Invalid signal: ${signal}`);
  }
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  const n = (osc.signals as Record<string, number | undefined>)[name];
  if (n === undefined) throw new InvalidArgument(`Invalid signal: ${signal}`);
  return n;
}

export interface K8sLogLine {
  /** RFC3339Nano as conmon wrote it. */
  time: string;
  stream: 'stdout' | 'stderr';
  /** `P`: the line continues in the next record (conmon split it); `F`: the record ends a line. */
  partial: boolean;
  text: string;
}

/** One line of conmon's k8s-file log: `<RFC3339Nano> stdout|stderr F|P <text>`; undefined when malformed. */
export function parseK8sLogLine(line: string): K8sLogLine | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) ?(.*)$/s.exec(line);
  if (m === null) return undefined;
  return { time: m[1]!, stream: m[2] as 'stdout' | 'stderr', partial: m[3] === 'P', text: m[4]! };
}

/** Resolves with the exit code conmon writes (by rename) to `<dir>/<name>`. */
export async function waitExitFile(dir: string, name: string, signal?: AbortSignal): Promise<number> {
  const read = async (): Promise<number | undefined> => {
    try {
      const text = (await readFile(join(dir, name), 'utf8')).trim();
      return text === '' ? undefined : Number(text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  return new Promise<number>((resolve, reject) => {
    let done = false;
    const watcher = watch(dir, { signal });
    const finish = (f: () => void): void => { if (!done) { done = true; watcher.close(); f(); } };
    const check = (): void => {
      read().then((v) => { if (v !== undefined) finish(() => resolve(v)); }, (e: unknown) => finish(() => reject(e)));
    };
    watcher.on('change', check);
    watcher.on('error', (e) => finish(() => reject(e)));
    check();
  });
}

/** Conmon's runtime message, trimmed of the leading `<runtime>: ` and log decoration. */
function runtimeMessage(text: string): string {
  const lines = text.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1]! : 'OCI runtime failed';
}

async function readPidFile(path: string, waitMs = 2000): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const n = Number((await readFile(path, 'utf8')).trim());
      if (Number.isInteger(n) && n > 0) return n;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (Date.now() >= deadline) throw new Internal(`no pid in ${path}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function writeByte(w: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    w.write(Buffer.from([0]), (err) => (err ? reject(new Internal(`conmon start pipe: ${err.message}`)) : resolve()));
  });
}

/** Resize through conmon's ctl fifo. Non-blocking open: with conmon gone there is no reader and open fails (ENXIO). */
async function writeCtl(path: string, rows: number, cols: number): Promise<void> {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new InvalidArgument(`invalid terminal size ${rows}x${cols}`);
  }
  let fh;
  try {
    fh = await open(path, fsc.O_WRONLY | fsc.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') throw new Conflict('the process is not running', { cause: err });
    throw err;
  }
  try {
    await fh.write(`1 ${rows} ${cols}\n`);
  } finally {
    await fh.close();
  }
}

/** Reads conmon's JSON messages from a pipe, one at a time. Strings in `message` may contain braces. */
class MessageReader {
  private buf = '';
  private queue: PipeMessage[] = [];
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => { this.buf += s; this.parse(); this.notify(); });
    stream.on('end', () => { this.ended = true; this.notify(); });
    stream.on('close', () => { this.ended = true; this.notify(); });
    stream.on('error', (e) => { this.error = e; this.notify(); });
  }

  /** The next message; undefined when conmon closed the pipe without one. */
  async next(timeoutMs?: number): Promise<PipeMessage | undefined> {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (;;) {
      const m = this.queue.shift();
      if (m !== undefined) return m;
      if (this.error) throw new Internal(`conmon pipe: ${this.error.message}`, { cause: this.error });
      if (this.ended) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await new Promise<boolean>((resolve) => {
        this.wake = () => resolve(false);
        if (deadline !== undefined) timer = setTimeout(() => resolve(true), Math.max(0, deadline - Date.now()));
      });
      clearTimeout(timer);
      this.wake = undefined;
      if (timedOut) throw new Internal('timed out waiting for conmon');
    }
  }

  close(): void { this.stream.destroy(); }

  private notify(): void { this.wake?.(); }

  private parse(): void {
    for (;;) {
      const start = this.buf.indexOf('{');
      if (start < 0) { this.buf = ''; return; }
      let depth = 0; let inStr = false; let esc = false; let end = -1;
      for (let i = start; i < this.buf.length; i++) {
        const c = this.buf[i];
        if (inStr) {
          if (esc) esc = false;
          else if (c === '\\') esc = true;
          else if (c === '"') inStr = false;
        } else if (c === '"') inStr = true;
        else if (c === '{') depth++;
        else if (c === '}' && --depth === 0) { end = i; break; }
      }
      if (end < 0) { this.buf = this.buf.slice(start); return; }
      const text = this.buf.slice(start, end + 1);
      this.buf = this.buf.slice(end + 1);
      try {
        const v = JSON.parse(text) as { data?: unknown; message?: unknown };
        if (typeof v.data === 'number') {
          this.queue.push(typeof v.message === 'string' ? { data: v.data, message: v.message } : { data: v.data });
        }
      } catch { /* not a message: skip */ }
    }
  }
}

type Frame = { stream: 1 | 2; data: Buffer };

/** Unbounded queue feeding one async iterator; conmon's socket has no flow control we could apply anyway. */
class FrameQueue implements AsyncIterable<Frame> {
  private items: Frame[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  private taken = false;

  push(f: Frame): void { if (!this.ended) { this.items.push(f); this.wake?.(); } }
  end(): void { this.ended = true; this.wake?.(); }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    if (this.taken) throw new Conflict('attach output can be read once');
    this.taken = true;
    return {
      next: async (): Promise<IteratorResult<Frame>> => {
        for (;;) {
          const f = this.items.shift();
          if (f !== undefined) return { value: f, done: false };
          if (this.ended) return { value: undefined, done: true };
          await new Promise<void>((r) => { this.wake = r; });
          this.wake = undefined;
        }
      },
      return: async (): Promise<IteratorResult<Frame>> => {
        this.end();
        return { value: undefined, done: true };
      },
    };
  }
}

/** The socket inodes conmon holds open; a new one appears when it accepts our connection. */
async function socketInodes(pid: number): Promise<Set<string> | undefined> {
  const dir = `/proc/${pid}/fd`;
  const names = await readdir(dir).catch(() => undefined);
  if (names === undefined) return undefined;
  const links = await Promise.all(names.map((n) => readlink(join(dir, n)).catch(() => '')));
  return new Set(links.filter((l) => l.startsWith('socket:')));
}

/**
 * Connect to a conmon attach socket. Conmon only forwards output to connections it has accepted; a connect() that
 * completed is merely queued in the backlog. When conmon's pid is known we wait (briefly) until a new socket shows
 * among its fds (the accept; counting fds is not enough, conmon closes create-time fds around then), so a caller
 * that starts the container right after attach loses nothing of a short-lived process.
 */
async function connectAttach(path: string, stdin: boolean, conmonPid: number | undefined): Promise<AttachStreams> {
  const before = conmonPid === undefined ? undefined : await socketInodes(conmonPid);
  const sock = new SeqpacketSocket();
  const frames = new FrameQueue();
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    frames.end();
    sock.destroy();
  };
  sock.on('data', (buf: Buffer) => {
    if (buf.length < 1) return;
    const id = buf[0];
    if (id === 2) frames.push({ stream: 1, data: buf.subarray(1) });
    else if (id === 3) frames.push({ stream: 2, data: buf.subarray(1) });
  });
  sock.on('end', close);
  sock.on('close', close);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (e: Error) => { close(); reject(new Conflict(`cannot attach: ${e.message}`, { cause: e })); });
    try {
      sock.connect(path, () => resolve());
    } catch (e) {
      close();
      reject(new Conflict(`cannot attach: ${messageOf(e)}`, { cause: e }));
    }
  });
  sock.on('error', close);
  if (conmonPid !== undefined && before !== undefined) {
    const deadline = Date.now() + 500;
    while (Date.now() < deadline) {
      const now = await socketInodes(conmonPid);
      if (now === undefined || [...now].some((i) => !before.has(i))) break;
      await new Promise((r) => setImmediate(r));
    }
  }
  return {
    output: frames,
    write: async (data: Buffer): Promise<void> => {
      if (!stdin) throw new InvalidArgument('stdin is not attached');
      if (closed) throw new Conflict('the attach connection is closed');
      for (let off = 0; off < data.length; off += STDIN_PACKET_MAX) {
        const chunk = data.subarray(off, Math.min(data.length, off + STDIN_PACKET_MAX));
        await new Promise<void>((r) => sock.write(chunk, 0, chunk.length, () => r()));
      }
    },
    closeStdin: (): void => { if (stdin && !closed) sock.end(); },
    detach: close,
  };
}
