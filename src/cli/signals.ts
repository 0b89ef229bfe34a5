import { constants } from 'node:os';

/** Signals `--sig-proxy` forwards to the container (docker's ForwardAllSignals minus those a CLI cannot catch). */
export const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP'];

export function signalNumber(sig: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[sig] ?? 0;
}

/**
 * Forward the CLI's signals to `kill(signal)` while a non-TTY session runs. Returns a function that stops
 * forwarding and restores default handling.
 */
export function proxySignals(kill: (signal: string) => Promise<void>): () => void {
  const handler = (sig: NodeJS.Signals): void => {
    kill(sig).catch(() => undefined);
  };
  for (const s of PROXIED_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of PROXIED_SIGNALS) process.off(s, handler);
  };
}
