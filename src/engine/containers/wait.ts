import { InvalidArgument } from '../../lib/errors.js';
import type { ContainerService } from './service.js';
import type { WaitCondition, WaitResult } from './types.js';

/**
 * Docker's wait: `not-running` answers at once for a container that is not running, `next-exit` waits for the
 * next exit, `removed` waits for removal. `ready` resolves once the waiter is registered (the API flushes its
 * headers then, since the docker CLI starts the container only after that).
 */
export function waitContainer(svc: ContainerService, ref: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): { ready: Promise<void>; result: Promise<WaitResult> } {
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new InvalidArgument(`invalid condition: "${condition}"`);
  const rec = svc.store.get(ref);
  const running = rec.state.status === 'running' || rec.state.status === 'paused' || rec.state.status === 'restarting';
  if (condition === 'not-running' && !running) {
    return { ready: Promise.resolve(), result: Promise.resolve({ StatusCode: rec.state.exitCode, Error: null }) };
  }
  const result = new Promise<WaitResult>((resolve) => {
    const w = { condition, resolve };
    const set = svc.waiters.get(rec.id) ?? new Set();
    set.add(w);
    svc.waiters.set(rec.id, set);
    signal?.addEventListener('abort', () => set.delete(w), { once: true });
  });
  return { ready: Promise.resolve(), result };
}
