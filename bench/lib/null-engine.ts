/**
 * A null engine: an HTTP server on a unix socket that answers the Engine API requests of `docker run --rm IMAGE CMD`
 * and `docker build` at once, doing nothing. The docker CLI pointed at it takes the time that is the client's own
 * (process start, request round trips, reading and sending a build context): the floor no daemon can go below.
 * The benches subtract it to show each daemon's own share.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface NullEngine {
  host: string;
  close(): Promise<void>;
}

const HEADERS = { 'Api-Version': '1.50', 'Docker-Experimental': 'false', Ostype: 'linux', Server: 'null-engine' };

function json(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { ...HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').replace(/^\/v[\d.]+/, '').split('?')[0] ?? '/';
  req.resume();
  req.on('end', () => {
    if (path === '/_ping') {
      res.writeHead(200, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
    } else if (path === '/containers/create') {
      json(res, 201, { Id: randomBytes(32).toString('hex'), Warnings: [] });
    } else if (/^\/containers\/[^/]+\/wait$/.test(path)) {
      json(res, 200, { StatusCode: 0, Error: null });
    } else if (/^\/containers\/[^/]+\/start$/.test(path)) {
      res.writeHead(204, HEADERS);
      res.end();
    } else if (path === '/build') {
      const id = `sha256:${randomBytes(32).toString('hex')}`;
      res.writeHead(200, { ...HEADERS, 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ stream: 'Step 1/1 : FROM busybox\n' })}\n${JSON.stringify({ stream: ' ---> Using cache\n' })}\n${JSON.stringify({ aux: { ID: id } })}\n${JSON.stringify({ stream: `Successfully built ${id.slice(7, 19)}\n` })}\n`);
    } else {
      json(res, 404, { message: `null engine: ${req.method} ${path} is not answered` });
    }
  });
}

/** `POST /containers/{id}/attach` (hijacked): the upgrade is granted and the stream ends at once, as for `true`. */
function upgrade(_req: IncomingMessage, socket: Duplex): void {
  socket.end('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
}

export async function startNullEngine(socketPath: string): Promise<NullEngine> {
  rmSync(socketPath, { force: true });
  const server: Server = createServer(handle);
  server.on('upgrade', upgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    host: `unix://${socketPath}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
      rmSync(socketPath, { force: true });
    }),
  };
}
