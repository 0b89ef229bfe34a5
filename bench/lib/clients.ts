/** What the per-verb benches share: a CLI pointed at an engine, running and echoing it, and small helpers. */
import { createServer } from 'node:net';
import { PETI, runTimed, showCommand, type Engine, type RunOptions, type RunResult } from './engines.js';

/** A CLI pointed at an engine: the docker CLI against petid, bin/peti against petid, docker, podman. */
export interface Client {
  label: string;
  engine: Engine;
  cmd: string;
  args: string[];
  env: Record<string, string>;
}

/** What running a CLI needs. */
export type Invocation = Pick<Client, 'cmd' | 'args' | 'env'>;

export function cli(c: Invocation, args: string[], opts?: RunOptions): Promise<RunResult> {
  return runTimed(c.cmd, [...c.args, ...args], c.env, opts);
}

/** The command line as a reader would type it (`bin/peti` for this tree's CLI). */
export function commandLine(c: Invocation, args: string[]): string {
  return showCommand(c.cmd === PETI ? 'bin/peti' : c.cmd, [...c.args, ...args], c.env);
}

export function show(c: Invocation, args: string[], note = ''): void {
  console.log(`  $ ${commandLine(c, args)}${note}`);
}

/** p-th percentile, nearest rank. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Runs fn over items, at most n at a time. */
export async function pool<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  }));
  return out;
}

/** A TCP port free on 127.0.0.1 right now (the kernel's pick, then released). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}
