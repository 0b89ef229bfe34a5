import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { errorFromStatus } from '../../lib/errors.js';
import { applyLayer } from './apply.js';
import { type GrowState, type GrowingFile, nextOf, readGrowing } from './growing.js';
import type { ApplyOptions, ApplyResult } from './types.js';

/**
 * Apply the layer stored at `path` (compressed or not) into `dir`; with `growing`, read it through that descriptor
 * while it is still being written (`path` is then only for messages).
 */
export type ApplyFileFn = (path: string, dir: string, opts?: ApplyOptions, growing?: GrowingFile) => Promise<ApplyResult>;

/** In the calling thread: for tests and tools. */
export const applyFileInline: ApplyFileFn = (path, dir, opts, growing) =>
  applyLayer(growing ? Readable.from(readGrowing(growing.fd, nextOf(growing)), { objectMode: false }) : createReadStream(path, { highWaterMark: 1024 * 1024 }), dir, opts);

export interface ApplyRequest {
  id: number;
  path: string;
  dir: string;
  opts?: ApplyOptions;
  /** A growing file: its descriptor (threads share the fd table) and a port that receives each GrowState. */
  growing?: { fd: number; port: MessagePort };
}

export type ApplyReply = { id: number; ok: ApplyResult } | { id: number; err: { message: string; status: number } };

/**
 * Layer unpacking in worker threads: applyLayer does its file work with sync calls (measured fastest), which would
 * stall the API for the length of a layer. Up to one worker per core, started on demand and kept while busy.
 */
export class ApplyPool {
  private readonly idle: Worker[] = [];
  private readonly queue: { req: ApplyRequest; resolve: (r: ApplyResult) => void; reject: (e: Error) => void; growing?: GrowingFile }[] = [];
  private readonly busy = new Map<Worker, { resolve: (r: ApplyResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private readonly max: number;
  private closed = false;

  constructor(private readonly workerUrl: URL, max = availableParallelism()) {
    this.max = Math.max(1, max);
  }

  readonly apply: ApplyFileFn = (path, dir, opts, growing) =>
    new Promise<ApplyResult>((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, path, dir, opts }, resolve, reject, growing });
      this.pump();
    });

  private spawn(): Worker {
    const w = new Worker(this.workerUrl);
    w.unref();
    w.on('message', (m: ApplyReply) => {
      const job = this.busy.get(w);
      this.busy.delete(w);
      if (job) {
        if ('ok' in m) job.resolve(m.ok);
        else job.reject(errorFromStatus(m.err.status, m.err.message));
      }
      if (this.closed) void w.terminate();
      else this.idle.push(w);
      this.pump();
    });
    w.on('error', (e) => {
      const job = this.busy.get(w);
      this.busy.delete(w);
      job?.reject(e);
      this.pump();
    });
    return w;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let w = this.idle.pop();
      if (!w) {
        if (this.busy.size >= this.max) return;
        w = this.spawn();
      }
      const job = this.queue.shift()!;
      const g = job.growing;
      if (!g) {
        this.busy.set(w, { resolve: job.resolve, reject: job.reject });
        w.postMessage(job.req);
        continue;
      }
      // Forward the writer's progress to the worker for as long as the job runs.
      const { port1, port2 } = new MessageChannel();
      const send = (): void => port1.postMessage(g.state() satisfies GrowState);
      const off = g.watch(send);
      send();
      const done = (): void => {
        off();
        port1.close();
      };
      this.busy.set(w, { resolve: (r) => { done(); job.resolve(r); }, reject: (e) => { done(); job.reject(e); } });
      w.postMessage({ ...job.req, growing: { fd: g.fd, port: port2 } } satisfies ApplyRequest, [port2]);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((w) => w.terminate()));
  }
}
