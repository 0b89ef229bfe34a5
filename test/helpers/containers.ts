import type { TestDaemon } from './daemon.js';
import { readAll } from '../../src/client/index.js';

/** Create and start a container through the API; returns its ID. */
export async function runDetached(d: TestDaemon, body: Record<string, unknown>, name?: string): Promise<string> {
  const r = await d.client.json<{ Id: string }>('POST', '/containers/create', { body: { Image: 'busybox', ...body }, query: { name } });
  (await d.client.send('POST', `/containers/${r.Id}/start`)).resume();
  return r.Id;
}

export async function inspect(d: TestDaemon, id: string): Promise<{ State: { Status: string; Running: boolean; ExitCode: number; OOMKilled: boolean; Pid: number; Error: string }; Name: string; RestartCount: number; Config: Record<string, unknown>; HostConfig: Record<string, unknown> }> {
  return d.client.json('GET', `/containers/${id}/json`);
}

export async function waitExit(d: TestDaemon, id: string): Promise<number> {
  const r = await d.client.json<{ StatusCode: number }>('POST', `/containers/${id}/wait`);
  return r.StatusCode;
}

/** Demultiplex a stdcopy body into stdout and stderr text. */
export function demux(buf: Buffer): { stdout: string; stderr: string } {
  let out = '';
  let err = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const n = buf.readUInt32BE(i + 4);
    const data = buf.subarray(i + 8, i + 8 + n).toString();
    if (buf[i] === 1) out += data;
    else if (buf[i] === 2) err += data;
    i += 8 + n;
  }
  return { stdout: out, stderr: err };
}

export async function logs(d: TestDaemon, id: string, query: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  const res = await d.client.send('GET', `/containers/${id}/logs`, { query: { stdout: '1', stderr: '1', ...query } });
  return demux(await readAll(res));
}

/** Remove every container of this daemon (tests clean up after themselves even on failure). */
export async function removeAll(d: TestDaemon): Promise<void> {
  const list = await d.client.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: '1' } }).catch(() => []);
  for (const c of list) await d.client.send('DELETE', `/containers/${c.Id}`, { query: { force: '1' } }).then((r) => r.resume(), () => undefined);
}
