/** Worker-thread entry for ApplyPool: one layer at a time, errors sent back as status + message. */
import { parentPort } from 'node:worker_threads';
import { statusOf, messageOf } from '../../lib/errors.js';
import { applyFileInline, type ApplyReply, type ApplyRequest } from './apply-pool.js';
import { type GrowState, type GrowingFile } from './growing.js';

/** The growing file of a request, its state fed by the messages on its port. */
function growingOf(g: NonNullable<ApplyRequest['growing']>): GrowingFile {
  let state: GrowState = { size: 0, done: false };
  const watchers = new Set<() => void>();
  g.port.on('message', (s: GrowState) => {
    state = s;
    for (const w of [...watchers]) w();
  });
  return { fd: g.fd, state: () => state, watch: (cb) => { watchers.add(cb); return () => { watchers.delete(cb); }; } };
}

parentPort?.on('message', (req: ApplyRequest) => {
  const growing = req.growing ? growingOf(req.growing) : undefined;
  applyFileInline(req.path, req.dir, req.opts, growing).finally(() => req.growing?.port.close()).then(
    (ok) => parentPort!.postMessage({ id: req.id, ok } satisfies ApplyReply),
    (e: unknown) => parentPort!.postMessage({ id: req.id, err: { message: messageOf(e), status: statusOf(e) } } satisfies ApplyReply),
  );
});
