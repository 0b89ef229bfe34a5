/**
 * Renders Docker's JSON progress stream (pull, push). On a terminal: one line per layer ID, updated in place with
 * ANSI cursor moves (as docker's jsonmessage), with a bar, sizes and speed. Otherwise plain lines, and messages
 * that only carry a progress bar are skipped (docker does the same for non-terminals).
 */
import { humanSize } from './format/index.js';

export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: unknown;
  stream?: string;
  error?: string;
}

const ESC = '\x1b[';

function size(n: number): string {
  return humanSize(n).replace(/\s+/g, '');
}

export class ProgressView {
  private ids = new Map<string, number>();
  private readonly speed = new Map<string, { t: number; n: number; rate: number }>();

  constructor(private readonly out: NodeJS.WritableStream & { columns?: number }, private readonly tty: boolean) {}

  private bar(id: string, current: number, total: number): string {
    const now = Date.now();
    const s = this.speed.get(id);
    let rate = s?.rate ?? 0;
    if (!s || current < s.n) this.speed.set(id, { t: now, n: current, rate: 0 });
    else if (now - s.t >= 250) {
      rate = ((current - s.n) * 1000) / (now - s.t);
      this.speed.set(id, { t: now, n: current, rate });
    }
    const cols = this.out.columns ?? 80;
    const numbers = total > 0 ? `${size(current)}/${size(total)}` : size(current);
    const speed = rate > 0 ? `  ${size(rate)}/s` : '';
    const width = Math.max(10, Math.min(50, cols - id.length - 45));
    if (total <= 0) return `${numbers}${speed}`;
    const filled = Math.min(width, Math.floor((current / total) * width));
    return `[${'='.repeat(filled)}>${' '.repeat(Math.max(0, width - filled))}] ${numbers}${speed}`;
  }

  handle(m: JsonMessage): void {
    if (m.aux !== undefined && m.status === undefined) return;
    const hasProgress = m.progressDetail !== undefined && m.progressDetail.current !== undefined;
    if (!this.tty) {
      if (hasProgress) return;
      if (m.stream) this.out.write(m.stream);
      else if (m.status !== undefined) this.out.write(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
      return;
    }
    if (m.id && m.progressDetail !== undefined) {
      let line = this.ids.get(m.id);
      if (line === undefined) {
        line = this.ids.size;
        this.ids.set(m.id, line);
        this.out.write('\n');
      }
      const diff = this.ids.size - line;
      const text = `${m.id}: ${m.status ?? ''}${hasProgress ? ` ${this.bar(m.id, m.progressDetail.current ?? 0, m.progressDetail.total ?? 0)}` : ''}`;
      this.out.write(`${ESC}${diff}A${ESC}2K\r${text}\r${ESC}${diff}B`);
      return;
    }
    // Anything else ends the block of layer lines, as in docker.
    this.ids = new Map();
    if (m.stream) this.out.write(m.stream);
    else if (m.status !== undefined) this.out.write(`${ESC}2K\r${m.id ? `${m.id}: ` : ''}${m.status}\n`);
  }

  /** Forget the layer block (the cursor already sits on the empty line below it). */
  end(): void {
    this.ids = new Map();
  }
}
