/**
 * A file still being appended to by another part of the process (a layer still downloading), read from the start
 * while it grows: a pull unpacks a layer while its bytes arrive instead of after. The reader gets its own read-only
 * descriptor (so the writer may rename or delete the file meanwhile) and waits at the end for the writer's next
 * report; the stream ends only once the writer says the file is complete and verified.
 */
import { readSync } from 'node:fs';

export interface GrowState {
  /** Bytes written so far; all readable through the descriptor. */
  size: number;
  /** The file is complete (and its digest verified): size is final. */
  done: boolean;
  /** The writer gave up (or restarted from zero): the reader must fail. */
  error?: string;
}

export interface GrowingFile {
  /** Read-only descriptor of the file; owned by whoever made this object (closed after the apply settles). */
  fd: number;
  state(): GrowState;
  /** Call `cb` on every change of state(); returns the unsubscribe. */
  watch(cb: () => void): () => void;
}

const CHUNK = 1024 * 1024;

/**
 * The bytes of `fd` from offset 0 until the writer reports done. `next(pos)` resolves with a state that has more
 * than `pos` bytes, or is done, or failed.
 */
export async function* readGrowing(fd: number, next: (pos: number) => Promise<GrowState>): AsyncGenerator<Buffer> {
  let pos = 0;
  for (;;) {
    const st = await next(pos);
    if (st.error !== undefined) throw new Error(`layer download failed: ${st.error}`);
    while (pos < st.size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, st.size - pos));
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) throw new Error(`layer file shorter than the ${st.size} bytes reported`);
      pos += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
    if (st.done) return;
  }
}

/** `next` for readGrowing over a GrowingFile in this thread. */
export function nextOf(g: GrowingFile): (pos: number) => Promise<GrowState> {
  return (pos) => waitState(g.state, g.watch, pos);
}

/** Resolve with state() once it has more than `pos` bytes, is done or failed. */
export function waitState(state: () => GrowState, watch: (cb: () => void) => () => void, pos: number): Promise<GrowState> {
  const ready = (s: GrowState): boolean => s.size > pos || s.done || s.error !== undefined;
  const now = state();
  if (ready(now)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const off = watch(() => {
      const s = state();
      if (!ready(s)) return;
      off();
      resolve(s);
    });
  });
}
