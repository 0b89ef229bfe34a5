import type { Cli } from './types.js';

/** Docker's `[y/N]` prompt: true only for an answer of y or yes. */
export async function confirm(cli: Cli, question: string): Promise<boolean> {
  cli.out.write(`${question} [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (buf.includes('\n')) done();
    };
    const done = (): void => {
      cli.stdin.off('data', onData);
      cli.stdin.off('end', done);
      (cli.stdin as NodeJS.ReadableStream & { pause(): void }).pause();
      resolve(buf);
    };
    cli.stdin.on('data', onData);
    cli.stdin.on('end', done);
  });
  return /^\s*y(es)?\s*$/i.test(line);
}
