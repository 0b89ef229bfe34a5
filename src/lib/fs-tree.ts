/** Helpers for writing host file trees into tars: device numbers, file bodies, xattrs read in one walk. */
import { spawn } from 'node:child_process';
import type { promises as fsp } from 'node:fs';

const CHUNK = 256 * 1024;

/** Linux's major number of a dev_t (glibc's gnu_dev_major). */
export function deviceMajor(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}

/** Linux's minor number of a dev_t (glibc's gnu_dev_minor). */
export function deviceMinor(rdev: number): number {
  return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
}

/** Exactly `size` bytes of an open file: a file that shrank meanwhile is padded with zeros, one that grew is cut. */
export async function* fileBody(fh: fsp.FileHandle, size: number): AsyncGenerator<Buffer> {
  let left = size;
  while (left > 0) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) {
      yield Buffer.alloc(left);
      return;
    }
    left -= bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/** getfattr writes unusual bytes of names as `\ooo`. */
export function unescapeGetfattr(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Every xattr below `root` by relative path ('' = root), from one `getfattr -R -P` walk that never follows links
 * (Node has no getxattr; one process per tree instead of one per file). Empty when getfattr is missing.
 */
export function readXattrs(root: string): Promise<Map<string, Map<string, Buffer>>> {
  return new Promise((resolve) => {
    const child = spawn('getfattr', ['-R', '-P', '-d', '-m', '-', '-e', 'hex', '.'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
    const parts: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => parts.push(b));
    child.once('error', () => resolve(new Map()));
    child.once('close', () => {
      const out = new Map<string, Map<string, Buffer>>();
      let cur: Map<string, Buffer> | undefined;
      for (const line of Buffer.concat(parts).toString('utf8').split('\n')) {
        if (line.startsWith('# file: ')) {
          cur = new Map();
          out.set(unescapeGetfattr(line.slice(8)).replace(/^\.\/?/, ''), cur);
          continue;
        }
        const m = /^([^=]+)=0x([0-9a-f]*)$/.exec(line);
        if (m && cur) cur.set(unescapeGetfattr(m[1]!), Buffer.from(m[2]!, 'hex'));
      }
      resolve(out);
    });
  });
}
