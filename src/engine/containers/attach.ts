import type { AttachStreams } from '../runtime/types.js';
import type { ContainerService } from './service.js';
import { readLogs, type LogEntry } from './logs.js';

export interface AttachOptions {
  stdin: boolean;
  logs: boolean;
  stream: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface Attachment {
  tty: boolean;
  /** Past output (logs=1), replayed before the live streams. */
  replay?: AsyncIterable<LogEntry>;
  /** Live streams; for a created container this resolves when it starts (connected before its process runs). */
  live?: Promise<AttachStreams | undefined>;
}

export function attachContainer(svc: ContainerService, ref: string, opts: AttachOptions): Attachment {
  const rec = svc.store.get(ref);
  const tty = rec.config.Tty === true;
  const out: Attachment = { tty };
  if (opts.logs) out.replay = readLogs(svc, rec.id, { stdout: opts.stdout, stderr: opts.stderr, follow: false });
  if (!opts.stream) return out;
  const s = rec.state.status;
  if (s === 'running' || s === 'paused') {
    out.live = svc.d.runtime.attach(svc.bundle(rec.id), { stdin: opts.stdin && rec.config.OpenStdin === true });
  } else if (s === 'created' || s === 'exited' || s === 'restarting') {
    // Wait for the next start (the docker CLI attaches before it starts the container).
    out.live = new Promise<AttachStreams | undefined>((resolve, reject) => {
      const set = svc.pendingAttach.get(rec.id) ?? new Set();
      set.add({ stdin: opts.stdin && rec.config.OpenStdin === true, resolve, reject });
      svc.pendingAttach.set(rec.id, set);
    });
  }
  svc.emit(rec, 'attach');
  return out;
}

/** Drop a pending attach (the client went away before start). */
export function cancelPendingAttach(svc: ContainerService, id: string): void {
  const set = svc.pendingAttach.get(id);
  if (!set) return;
  for (const p of set) p.resolve(undefined);
  svc.pendingAttach.delete(id);
}
