import type { ServerResponse } from 'node:http';
import { messageOf } from '../../lib/errors.js';

/**
 * Newline-delimited JSON progress (pull, push, load, import, build). Headers go out with the first line; an error
 * after that becomes one `{"errorDetail":...,"error":...}` line, as Docker does.
 */
export class JsonStream {
  private started = false;
  constructor(private readonly res: ServerResponse) {}

  get sent(): boolean {
    return this.started;
  }

  write(obj: unknown): void {
    if (!this.started) {
      this.res.writeHead(200, { 'Content-Type': 'application/json' });
      this.started = true;
    }
    this.res.write(JSON.stringify(obj) + '\r\n');
  }

  /** Report a failure in-stream; returns false when nothing was sent yet (the caller throws instead). */
  fail(err: unknown): boolean {
    if (!this.started) return false;
    const message = messageOf(err);
    this.res.write(JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n');
    return true;
  }

  end(): void {
    if (!this.started) {
      this.res.writeHead(200, { 'Content-Type': 'application/json' });
      this.started = true;
    }
    this.res.end();
  }
}
