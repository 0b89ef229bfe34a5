import { which } from '../../lib/which.js';
import { spawn } from 'node:child_process';
import { Internal } from '../../lib/errors.js';

/** Run a host tool (ip, nft, unshare, umount) with `input` on stdin; resolves stdout, rejects with its stderr. */
export function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(which(cmd), args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout!.on('data', (d: Buffer) => out.push(d));
    p.stderr!.on('data', (d: Buffer) => err.push(d));
    p.on('error', (e) => reject(new Internal(`${cmd}: ${e.message}`, { cause: e })));
    p.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new Internal(`${cmd} ${args.join(' ')} failed: ${Buffer.concat(err).toString().trim() || `exit ${code}`}`));
    });
    if (input !== undefined) p.stdin!.end(input);
  });
}

/** `ip -batch -`: each line one ip command; `-force` keeps going past a failing line (for teardown). */
export function ipBatch(lines: string[], force = false): Promise<string> {
  if (lines.length === 0) return Promise.resolve('');
  return run('ip', [...(force ? ['-force'] : []), '-batch', '-'], lines.join('\n') + '\n');
}

/** One nft transaction: the whole script applies or nothing does. */
export function nft(script: string): Promise<string> {
  return run('nft', ['-f', '-'], script);
}
