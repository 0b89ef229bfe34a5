import { promises as fsp, watch, type FSWatcher } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { ContainerService } from './service.js';

export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  /** Nanoseconds since the epoch (inclusive bounds). */
  since?: bigint;
  until?: bigint;
  /** Last N lines; undefined = all. */
  tail?: number;
  signal?: AbortSignal;
}

export interface LogEntry {
  stream: 1 | 2;
  /** The line's bytes, with its newline unless the line was partial. */
  data: Buffer;
  /** RFC 3339 with nanoseconds, as conmon wrote it. */
  time: string;
  timeNano: bigint;
}

/** One k8s-file line: `<RFC3339Nano> stdout|stderr F|P <text>`. */
export function parseLogLine(line: string): LogEntry | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const time = line.slice(0, a);
  const which = line.slice(a + 1, b);
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const text = c < 0 ? '' : line.slice(c + 1);
  if (which !== 'stdout' && which !== 'stderr') return undefined;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  const frac = BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9) || '0');
  return {
    stream: which === 'stdout' ? 1 : 2,
    data: Buffer.from(tag.includes('P') ? text : `${text}\n`),
    time, timeNano: BigInt(ms) * 1_000_000n + frac,
  };
}

/** Stream a container's log, optionally following it until the container stops. */
export async function* readLogs(svc: ContainerService, ref: string, opts: LogOptions): AsyncGenerator<LogEntry> {
  const rec = svc.store.get(ref);
  const want = (e: LogEntry): boolean =>
    ((e.stream === 1 && opts.stdout) || (e.stream === 2 && opts.stderr)) &&
    (opts.since === undefined || e.timeNano >= opts.since) && (opts.until === undefined || e.timeNano <= opts.until);
  let fh: FileHandle | undefined;
  let pos = 0;
  let rest = '';
  const chunk = Buffer.allocUnsafe(256 * 1024);
  /** Everything appended since the last call, parsed and filtered. */
  const drain = async (following = false): Promise<LogEntry[]> => {
    if (fh && following) {
      // conmon starts the file over at --log-opt max-size (a new file in its place): read that one from its start.
      const [now, open] = await Promise.all([fsp.stat(rec.logPath).catch(() => undefined), fh.stat()]);
      if (now && (now.ino !== open.ino || now.size < pos)) {
        await fh.close();
        fh = undefined;
        pos = 0;
        rest = '';
      }
    }
    if (!fh) fh = await fsp.open(rec.logPath, 'r').catch(() => undefined);
    if (!fh) return [];
    const out: LogEntry[] = [];
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
      if (bytesRead <= 0) break;
      pos += bytesRead;
      rest += chunk.subarray(0, bytesRead).toString('utf8');
      let i: number;
      while ((i = rest.indexOf('\n')) >= 0) {
        const e = parseLogLine(rest.slice(0, i));
        rest = rest.slice(i + 1);
        if (e && want(e)) out.push(e);
      }
    }
    return out;
  };
  try {
    const first = await drain();
    if (opts.tail !== undefined) {
      // tail counts complete lines: partial pieces belong to the line they end.
      let lines = 0;
      let k = first.length;
      while (k > 0) {
        const e = first[k - 1]!;
        if (e.data[e.data.length - 1] === 0x0a) {
          if (lines === opts.tail) break;
          lines++;
        }
        k--;
      }
      yield* first.slice(k);
    } else yield* first;
    if (!opts.follow) return;
    const live = (): boolean => {
      const r = svc.store.byId.get(rec.id);
      return !!r && r.state.status !== 'exited' && r.state.status !== 'dead' && r.state.status !== 'removing';
    };
    while (!opts.signal?.aborted && live()) {
      await new Promise<void>((resolve) => {
        let w: FSWatcher | undefined;
        const done = (): void => {
          w?.close();
          clearTimeout(t);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        };
        try {
          w = watch(rec.logPath, done);
        } catch {
          w = undefined;
        }
        // The watch can miss the last write before exit; a slow poll bounds the delay.
        const t = setTimeout(done, 250);
        opts.signal?.addEventListener('abort', done, { once: true });
      });
      yield* await drain(true);
      if (opts.until !== undefined && BigInt(Date.now()) * 1_000_000n > opts.until) return;
    }
    yield* await drain(true);
  } finally {
    await fh?.close();
  }
}
