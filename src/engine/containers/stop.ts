import { Conflict, NotModified } from '../../lib/errors.js';
import type { ContainerService } from './service.js';
import { resetRestarts, startLocked } from './start.js';
import { handleExit } from './exit.js';

const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10,
  SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19,
  SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28,
  SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31,
};

/** `TERM`, `SIGTERM`, `15` -> the number; InvalidArgument for anything else (Docker's ParseSignal). */
export function parseSignal(s: string | number | undefined, dflt = 15): number {
  if (s === undefined || s === '') return dflt;
  if (typeof s === 'number' || /^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const up = s.toUpperCase();
    const n = SIGNALS[up.startsWith('SIG') ? up : `SIG${up}`];
    if (n !== undefined) return n;
    const rt = /^SIGRTM(IN|AX)([+-]\d+)?$/.exec(up.startsWith('SIG') ? up : `SIG${up}`);
    if (rt) return (rt[1] === 'IN' ? 34 : 64) + Number(rt[2] ?? 0);
  }
  throw new Conflict(`Invalid signal: ${s}`);
}

/** Resolve when the container has exited (or after ms; returns false then). */
export function waitExit(svc: ContainerService, id: string, ms: number): Promise<boolean> {
  const rec = svc.store.byId.get(id);
  if (!rec || (rec.state.status !== 'running' && rec.state.status !== 'paused')) return Promise.resolve(true);
  return new Promise((resolve) => {
    const w = { condition: 'next-exit' as const, resolve: () => { clearTimeout(t); resolve(true); } };
    const set = svc.waiters.get(id) ?? new Set();
    set.add(w);
    svc.waiters.set(id, set);
    const t = ms < 0 ? undefined : setTimeout(() => { set.delete(w); resolve(false); }, ms);
  });
}

async function killAndConfirm(svc: ContainerService, id: string, signal: number, timeoutMs: number): Promise<boolean> {
  const rec = svc.store.get(id);
  await svc.d.runtime.kill(id, signal, false, rec.runtime);
  if (await waitExit(svc, id, timeoutMs)) return true;
  // If conmon's exit file was missed (e.g. the watch raced), ask the runtime and the file directly.
  await handleExit(svc, id);
  return svc.store.get(id).state.status !== 'running';
}

export async function stopContainer(svc: ContainerService, ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
  const rec = svc.store.get(ref);
  if (rec.state.status === 'restarting') {
    const t = svc.restartTimers.get(rec.id);
    if (t) clearTimeout(t);
    svc.restartTimers.delete(rec.id);
    rec.manualStop = true;
    rec.state.status = 'exited';
    await svc.store.save(rec);
    svc.emit(rec, 'stop');
    return;
  }
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw new NotModified('container already stopped');
  rec.manualStop = true;
  await svc.store.save(rec);
  if (rec.state.status === 'paused') {
    // Thawed so the stop signal is delivered; the record says so, or the exit checks below would take it for stopped.
    await svc.d.runtime.resume(rec.id, rec.runtime).catch(() => undefined);
    rec.state.status = 'running';
    await svc.store.save(rec);
  }
  const sig = parseSignal(opts.signal ?? (rec.config.StopSignal as string | undefined));
  const timeout = opts.timeout ?? (typeof rec.config.StopTimeout === 'number' ? rec.config.StopTimeout : 10);
  svc.emit(rec, 'kill', { signal: String(sig) });
  const done = await killAndConfirm(svc, rec.id, sig, timeout < 0 ? -1 : timeout * 1000);
  if (!done) {
    svc.emit(rec, 'kill', { signal: '9' });
    await killAndConfirm(svc, rec.id, 9, 30_000);
  }
  svc.emit(rec, 'stop');
}

export async function killContainer(svc: ContainerService, ref: string, signal?: string): Promise<void> {
  const rec = svc.store.get(ref);
  const sig = parseSignal(signal, 9);
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
    throw new Conflict(`Cannot kill container: ${ref}: container ${rec.id} is not running`);
  }
  if (sig === 9 || sig === 15 || sig === 2) {
    rec.manualStop = true;
    await svc.store.save(rec);
  }
  await svc.d.runtime.kill(rec.id, sig, false, rec.runtime);
  // A frozen process dies of SIGKILL only once thawed (cgroup v1 freezer); Docker thaws it too.
  if (sig === 9 && rec.state.status === 'paused') await svc.d.runtime.resume(rec.id, rec.runtime).catch(() => undefined);
  svc.emit(rec, 'kill', { signal: String(sig) });
}

export async function restartContainer(svc: ContainerService, ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
  const rec = svc.store.get(ref);
  try {
    await stopContainer(svc, rec.id, opts);
  } catch (e) {
    if (!(e instanceof NotModified)) throw e;
  }
  await svc.serial(rec.id, () => {
    resetRestarts(rec);
    return startLocked(svc, rec.id);
  });
  svc.emit(rec, 'restart');
}
