/**
 * Healthchecks (Docker's daemon/health.go): while a container runs, its `Config.Healthcheck` command runs as an
 * exec in it every Interval (StartInterval during the start period), killed at Timeout. Results go to
 * `State.Health` (status, failing streak, last five results), persisted with the record so a restarted petid
 * continues where it stopped; status changes emit `health_status: <status>` events.
 */
import { messageOf } from '../../lib/errors.js';
import type { EngineEvent } from '../events/index.js';
import type { ContainerService } from './service.js';
import type { ContainerRecord, HealthResult, HealthState } from './types.js';
import { createExec, startExec, type ExecStore, type UserResolver } from './exec.js';

const MS = 1_000_000; // nanoseconds per millisecond
const DEFAULT_INTERVAL = 30_000;
const DEFAULT_TIMEOUT = 30_000;
const DEFAULT_START_INTERVAL = 5_000;
const DEFAULT_RETRIES = 3;
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

export const HEALTH_STATUSES = ['starting', 'healthy', 'unhealthy', 'none'] as const;

interface Healthcheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

interface Monitor {
  timer?: NodeJS.Timeout;
  stopped: boolean;
  /** Kills the probe in flight. */
  abort?: () => void;
}

function ms(ns: number | undefined, dflt: number): number {
  return typeof ns === 'number' && ns > 0 ? ns / MS : dflt;
}

/** The command a healthcheck runs, or undefined when the container has none (absent, empty, `NONE`). */
export function probeCommand(rec: ContainerRecord): string[] | undefined {
  const hc = rec.config.Healthcheck as Healthcheck | undefined;
  const test = hc?.Test;
  if (!Array.isArray(test) || test.length === 0) return undefined;
  switch (test[0]) {
    case 'CMD': return test.length > 1 ? test.slice(1) : undefined;
    case 'CMD-SHELL': {
      const shell = Array.isArray(rec.config.Shell) && rec.config.Shell.length > 0 ? rec.config.Shell : ['/bin/sh', '-c'];
      return test.length > 1 ? [...shell, ...test.slice(1)] : undefined;
    }
    default: return undefined;
  }
}

/** Go's time.Duration String (`200ms`, `1.5s`, `1m0s`), for Docker's timeout message. */
export function goDuration(msTotal: number): string {
  if (msTotal === 0) return '0s';
  if (msTotal < 1000) return `${Number(msTotal.toFixed(6))}ms`;
  let s = msTotal / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = `${Number(s.toFixed(9))}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

/** The health part of `docker ps`'s Status: ` (healthy)`, ` (health: starting)`. */
export function healthSuffix(rec: ContainerRecord): string {
  const h = rec.health;
  if (!h) return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}

/** Docker's `health` list filter value for a container. */
export function healthFilterValue(rec: ContainerRecord): string {
  return rec.health?.Status ?? 'none';
}

export class HealthMonitor {
  private readonly monitors = new Map<string, Monitor>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly svc: ContainerService, private readonly execs: ExecStore, private readonly resolveUser: UserResolver) {}

  /** Follow container lifecycle events, and resume checks for containers running now (after a petid restart). */
  init(): void {
    this.unsubscribe = this.svc.d.events.subscribe((e) => this.onEvent(e), { internal: true });
    for (const rec of this.svc.store.byId.values()) {
      if (rec.state.status !== 'running' || !probeCommand(rec)) continue;
      if (!rec.health) rec.health = { Status: 'starting', FailingStreak: 0, Log: [] };
      this.arm(rec.id);
    }
  }

  close(): void {
    this.unsubscribe?.();
    for (const id of [...this.monitors.keys()]) this.halt(id);
  }

  private onEvent(e: EngineEvent): void {
    if (e.type !== 'container') return;
    const id = e.actor.id;
    switch (e.action) {
      case 'start': {
        // Docker's initHealthMonitor: a (re)started container is `starting` again; earlier results stay in the log.
        const rec = this.svc.store.byId.get(id);
        if (!rec || !probeCommand(rec)) return;
        this.halt(id);
        rec.health = { Status: 'starting', FailingStreak: 0, Log: rec.health?.Log ?? [] };
        this.persist(rec);
        this.arm(id);
        return;
      }
      case 'unpause':
        if (this.svc.store.byId.get(id)?.health) this.arm(id);
        return;
      case 'die':
      case 'pause':
        // Docker's CloseMonitorChannel: a health monitor that stops leaves the container `unhealthy`.
        if (this.halt(id)) {
          const rec = this.svc.store.byId.get(id);
          if (rec?.health) {
            rec.health.Status = 'unhealthy';
            this.persist(rec);
          }
        }
        return;
      case 'destroy':
        this.halt(id);
        return;
      default:
    }
  }

  /** Stop a container's checks (killing a probe in flight); true when a monitor was running. */
  private halt(id: string): boolean {
    const m = this.monitors.get(id);
    if (!m) return false;
    m.stopped = true;
    if (m.timer) clearTimeout(m.timer);
    m.abort?.();
    this.monitors.delete(id);
    return true;
  }

  private arm(id: string): void {
    if (this.monitors.has(id)) return;
    const m: Monitor = { stopped: false };
    this.monitors.set(id, m);
    this.schedule(id, m);
  }

  /** Docker's getInterval: StartInterval while starting within the start period, never past the period's end. */
  private nextDelay(rec: ContainerRecord): number {
    const hc = (rec.config.Healthcheck ?? {}) as Healthcheck;
    const interval = ms(hc.Interval, DEFAULT_INTERVAL);
    const startPeriod = ms(hc.StartPeriod, 0);
    const elapsed = Date.now() - Date.parse(rec.state.startedAt);
    if (elapsed >= startPeriod) return interval;
    const remaining = startPeriod - elapsed;
    if (remaining < interval) return remaining;
    return rec.health?.Status === 'starting' ? ms(hc.StartInterval, DEFAULT_START_INTERVAL) : interval;
  }

  private schedule(id: string, m: Monitor): void {
    const rec = this.svc.store.byId.get(id);
    if (!rec || m.stopped) return;
    m.timer = setTimeout(() => {
      m.timer = undefined;
      void this.runOnce(id, m).finally(() => this.schedule(id, m));
    }, this.nextDelay(rec));
    m.timer.unref();
  }

  private async runOnce(id: string, m: Monitor): Promise<void> {
    const rec = this.svc.store.byId.get(id);
    if (!rec || m.stopped || rec.state.status !== 'running') return;
    const cmd = probeCommand(rec);
    if (!cmd) return;
    const start = new Date();
    let result: Omit<HealthResult, 'Start'>;
    try {
      result = await this.probe(rec, cmd, m);
    } catch (e) {
      result = { End: new Date().toISOString(), ExitCode: -1, Output: messageOf(e) };
    }
    if (m.stopped || this.monitors.get(id) !== m) return;
    this.record(rec, { Start: start.toISOString(), ...result });
  }

  /** One run of the check as an exec in the container (exec_create/exec_start/exec_die events as Docker's). */
  private async probe(rec: ContainerRecord, cmd: string[], m: Monitor): Promise<Omit<HealthResult, 'Start'>> {
    const hc = (rec.config.Healthcheck ?? {}) as Healthcheck;
    const timeoutMs = ms(hc.Timeout, DEFAULT_TIMEOUT);
    const execId = createExec(this.svc, this.execs, rec.id, {
      AttachStdout: true, AttachStderr: true, Cmd: cmd, Tty: false, Privileged: false,
      ...(rec.config.User ? { User: rec.config.User } : {}), ...(rec.config.WorkingDir ? { WorkingDir: rec.config.WorkingDir } : {}),
    });
    try {
      const e = await startExec(this.svc, this.execs, this.resolveUser, execId, { detach: false });
      const handle = e.handle!;
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const drained = (async () => {
        if (!handle.streams) return;
        for await (const { data } of handle.streams.output) {
          const keep = Math.min(MAX_OUTPUT - size, data.length);
          if (keep > 0) {
            chunks.push(data.subarray(0, keep));
            size += keep;
          }
          if (keep < data.length) truncated = true;
        }
      })().catch(() => undefined);
      const output = (): string => Buffer.concat(chunks).toString('utf8') + (truncated ? '...' : '');
      const kill = (): void => {
        try {
          process.kill(handle.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      m.abort = kill;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
      const first = await Promise.race([handle.exited, timedOut]);
      clearTimeout(timer);
      if (first === 'timeout') {
        kill();
        // Wait for the probe to die, so dying probes never pile up.
        await Promise.race([handle.exited.catch(() => -1), new Promise((r) => setTimeout(r, 5000))]);
        handle.streams?.detach();
        const out = output();
        const msg = `Health check exceeded timeout (${goDuration(timeoutMs)})`;
        return { End: new Date().toISOString(), ExitCode: -1, Output: out ? `${msg}: ${out}` : msg };
      }
      // The output ends with the process; a grandchild holding it open is not waited for long.
      await Promise.race([drained, new Promise((r) => setTimeout(r, 1000))]);
      handle.streams?.detach();
      return { End: new Date().toISOString(), ExitCode: first, Output: output() };
    } finally {
      m.abort = undefined;
      this.execs.byId.delete(execId);
    }
  }

  /** Docker's handleProbeResult. */
  private record(rec: ContainerRecord, result: HealthResult): void {
    const hc = (rec.config.Healthcheck ?? {}) as Healthcheck;
    const retries = typeof hc.Retries === 'number' && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES;
    const h: HealthState = rec.health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    const old = h.Status;
    h.Log = [...h.Log, result].slice(-MAX_LOG);
    if (result.ExitCode === 0) {
      h.FailingStreak = 0;
      h.Status = 'healthy';
    } else {
      // Failures while starting within the start period do not count.
      const inStartPeriod = h.Status === 'starting' && Date.parse(result.Start) - Date.parse(rec.state.startedAt) < ms(hc.StartPeriod, 0);
      if (!inStartPeriod) {
        h.FailingStreak++;
        if (h.FailingStreak >= retries) h.Status = 'unhealthy';
      }
    }
    rec.health = h;
    this.persist(rec);
    if (old !== h.Status) this.svc.emit(rec, `health_status: ${h.Status}`);
  }

  /** Save under the container's lock, so a health update never overwrites a newer state change. */
  private persist(rec: ContainerRecord): void {
    void this.svc.serial(rec.id, async () => {
      if (this.svc.store.byId.get(rec.id) === rec) await this.svc.store.save(rec);
    }).catch((e: unknown) => this.svc.d.log.warn('saving health state failed', { id: rec.id, err: messageOf(e) }));
  }
}

/** Docker's merge of the create body's Healthcheck with the image's: unset fields come from the image. */
export function mergeHealthcheck(image: object | undefined, user: object | undefined): object | undefined {
  if (!user) return image;
  if (!image) return user;
  const u = { ...(user as Healthcheck) };
  const i = image as Healthcheck;
  if (!u.Test || u.Test.length === 0) u.Test = i.Test;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    if (!u[k] && i[k]) u[k] = i[k];
  }
  return u;
}
