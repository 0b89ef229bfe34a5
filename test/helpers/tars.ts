import { TarWriter } from '../../src/lib/tar/index.js';
import type { TarWriteHeader } from '../../src/lib/tar/index.js';
import { readAll } from '../../src/client/index.js';

export interface Member extends Omit<TarWriteHeader, 'size'> {
  body?: string | Buffer;
}

/** A tar in memory from a list of members (tests build their own inputs, hostile ones included). */
export async function makeTar(members: Member[]): Promise<Buffer> {
  const w = new TarWriter();
  const out = readAll(w.stream);
  for (const m of members) {
    const body = m.body === undefined ? undefined : Buffer.from(m.body);
    const { body: _b, ...h } = m;
    void _b;
    await w.add({ mode: m.type === 'dir' ? 0o755 : 0o644, mtime: 1700000000, ...h, ...(body ? { size: body.length } : {}) }, body);
  }
  await w.finalize();
  return out;
}
