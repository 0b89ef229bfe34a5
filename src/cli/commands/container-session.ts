/**
 * An interactive session over a hijacked stream (run, start -a, attach, exec): output to the CLI's stdout/stderr,
 * stdin forwarded with half-close, raw mode and window size for TTYs, signals proxied otherwise.
 */
import type { Duplex } from 'node:stream';
import { copyOutput, forwardStdin, hijack, type RequestOptions } from '../../client/index.js';
import { proxySignals } from '../signals.js';
import { enterRawMode, watchResize } from '../tty.js';
import type { Cli } from '../types.js';

export interface SessionOptions {
  /** Hijacked endpoint: `/containers/ID/attach` or `/exec/ID/start`. */
  path: string;
  query?: RequestOptions['query'];
  body?: unknown;
  tty: boolean;
  stdin: boolean;
  /** Docker's detach sequence, default ctrl-p,ctrl-q; only watched for TTY sessions (the daemon acts on it). */
  detachKeys?: string;
}

export interface Session {
  socket: Duplex;
  /** Resolves when the daemon closed the output; true when the user typed the detach sequence. */
  done: Promise<boolean>;
  /** Raw mode, resize and signal proxying once the process runs. */
  started(opts: { resize?: (h: number, w: number) => Promise<void>; kill?: (signal: string) => Promise<void> }): void;
  close(): void;
}

/** Docker's `ctrl-p,ctrl-q` notation → bytes (only what the CLI needs to notice a detach). */
export function detachBytes(spec: string | undefined): Buffer {
  if (!spec) return Buffer.from([0x10, 0x11]);
  return Buffer.from(spec.split(',').map((k) => {
    const m = /^ctrl-(.)$/i.exec(k.trim());
    return m ? m[1]!.toLowerCase().charCodeAt(0) & 0x1f : k.charCodeAt(0);
  }));
}

export async function openSession(cli: Cli, o: SessionOptions): Promise<Session> {
  const h = await hijack(cli.client, o.path, { query: o.query, body: o.body });
  const cleanups: (() => void)[] = [];
  let detached = false;
  const keys = detachBytes(o.detachKeys);
  let matched = 0;
  const watch = (d: Buffer): Buffer => {
    if (!o.tty) return d;
    for (const b of d) {
      if (b === keys[matched]) {
        matched++;
        if (matched === keys.length) detached = true;
      } else matched = b === keys[0] ? 1 : 0;
    }
    return d;
  };
  let restore: () => void = () => undefined;
  const close = (): void => {
    for (const c of cleanups.splice(0)) c();
    restore();
    if (!h.socket.destroyed) h.socket.destroy();
  };
  if (o.tty && o.stdin) restore = enterRawMode(cli.stdin);
  if (o.stdin && h.writable) cleanups.push(forwardStdin(cli.stdin, h.socket, watch));
  const done = copyOutput(h.socket, o.tty, { stdout: cli.out, stderr: cli.err }).then(() => detached, (e: unknown) => {
    close();
    throw e;
  });
  const final = done.finally(() => {
    for (const c of cleanups.splice(0)) c();
    restore();
  });
  // A session closed early (e.g. start failed) ends its stream prematurely; that is not an unhandled failure.
  final.catch(() => undefined);
  return {
    socket: h.socket,
    done: final,
    started({ resize, kill }) {
      if (o.tty && resize) cleanups.push(watchResize(cli.out, resize));
      if (!o.tty && kill) cleanups.push(proxySignals(kill));
    },
    close,
  };
}
