/** Worker-thread entry for ApplyPool: one layer at a time, errors sent back as status + message. */
import { parentPort } from 'node:worker_threads';
import { statusOf, messageOf } from '../../lib/errors.js';
import { applyFileInline, type ApplyReply, type ApplyRequest } from './apply-pool.js';

parentPort?.on('message', (req: ApplyRequest) => {
  applyFileInline(req.path, req.dir, req.opts).then(
    (ok) => parentPort!.postMessage({ id: req.id, ok } satisfies ApplyReply),
    (e: unknown) => parentPort!.postMessage({ id: req.id, err: { message: messageOf(e), status: statusOf(e) } } satisfies ApplyReply),
  );
});
