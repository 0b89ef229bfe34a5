/**
 * The CLI's terminal while a `-t` session runs: stdin in raw mode (so Ctrl-C, Ctrl-P Ctrl-Q reach the container or
 * the daemon's detach logic as bytes), restored on every way out, and the window size sent to the daemon at start
 * and on each SIGWINCH.
 */
import { spawnSync } from 'node:child_process';
import { signalNumber } from './signals.js';

type TtyIn = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
type TtyOut = NodeJS.WritableStream & { isTTY?: boolean; rows?: number; columns?: number; on(ev: 'resize', l: () => void): unknown; off(ev: 'resize', l: () => void): unknown };

/** `[rows, cols]` of a terminal output, or undefined when it is not one. */
export function consoleSize(out: NodeJS.WritableStream & { isTTY?: boolean }): [number, number] | undefined {
  const o = out as TtyOut;
  if (!o.isTTY || !o.rows || !o.columns) return undefined;
  return [o.rows, o.columns];
}

/**
 * Put stdin in raw mode when it is a terminal. The returned function restores it (idempotent); it also runs on
 * process exit and on terminating signals, which then end the CLI with 128+n as a shell would.
 */
export function enterRawMode(stdin: NodeJS.ReadableStream & { isTTY?: boolean }): () => void {
  const s = stdin as TtyIn;
  if (!s.isTTY || !s.setRawMode) return () => undefined;
  s.setRawMode(true);
  // libuv's raw mode keeps output post-processing (ONLCR), so the container's `\r\n` would reach the screen as
  // `\r\r\n`; docker's cfmakeraw clears OPOST. setRawMode(false) restores the termios libuv saved before this.
  spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
  let restored = false;
  const sigs: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT'];
  const onSig = (sig: NodeJS.Signals): void => {
    restore();
    process.exit(128 + signalNumber(sig));
  };
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      s.setRawMode?.(false);
    } catch {
      // the terminal is gone
    }
    process.off('exit', restore);
    for (const sig of sigs) process.off(sig, onSig);
  };
  process.once('exit', restore);
  for (const sig of sigs) process.on(sig, onSig);
  return restore;
}

/**
 * Send the terminal size now and whenever it changes. `resize` errors are ignored: the container may be gone.
 * Returns a function that stops watching.
 */
export function watchResize(out: NodeJS.WritableStream & { isTTY?: boolean }, resize: (h: number, w: number) => Promise<void>): () => void {
  const o = out as TtyOut;
  if (!o.isTTY) return () => undefined;
  const send = (): void => {
    const size = consoleSize(o);
    if (size) resize(size[0], size[1]).catch(() => undefined);
  };
  send();
  o.on('resize', send);
  return () => o.off('resize', send);
}
