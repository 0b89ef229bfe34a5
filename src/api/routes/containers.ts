import type { Containers, CreateBody, WaitCondition } from '../../engine/containers/index.js';
import type { AttachStreams } from '../../engine/runtime/types.js';
import { InvalidArgument, NotModified } from '../../lib/errors.js';
import type { Ctx, Route } from '../router.js';
import { readJsonBody, sendEmpty, sendJson } from '../server.js';
import { boolParam, filtersParam, intParam, timeParamNs } from '../convert/query.js';
import { containerInspect, containerSummary } from '../convert/containers.js';
import { frame } from '../stream/stdcopy.js';
import { MULTIPLEXED_STREAM, RAW_STREAM, hijack } from '../stream/hijack.js';
import type { Duplex } from 'node:stream';

/** Docker's default detach sequence ctrl-p ctrl-q, or `detachKeys=ctrl-a,b` style. */
export function parseDetachKeys(s: string | null): Buffer {
  if (!s) return Buffer.from([0x10, 0x11]);
  const out: number[] = [];
  for (const k of s.split(',')) {
    const m = /^ctrl-([a-z@[\\\]^_])$/i.exec(k.trim());
    if (m) out.push(m[1]!.toLowerCase().charCodeAt(0) & 0x1f);
    else if (k.length === 1) out.push(k.charCodeAt(0));
    else throw new InvalidArgument(`Invalid detach keys (${s}) provided`);
  }
  return Buffer.from(out);
}

/**
 * Pump a live attachment over a hijacked socket: output framed (or raw for TTY), stdin forwarded with half-close,
 * the detach sequence honoured. Resolves when the stream is over.
 */
export async function pump(socket: Duplex, live: AttachStreams, opts: { tty: boolean; stdin: boolean; leftover: Buffer; detachKeys?: Buffer; onDetach?: () => void; stdout?: boolean; stderr?: boolean; keepOpen?: boolean; closeStdin?: boolean }): Promise<void> {
  let detached = false;
  const keys = opts.detachKeys ?? Buffer.alloc(0);
  let matched = 0;
  const onIn = (d: Buffer): void => {
    if (!opts.stdin || detached) return;
    if (keys.length && opts.tty) {
      // Hold back a partial detach sequence until we know whether it completes.
      const out: number[] = [];
      for (const b of d) {
        if (b === keys[matched]) {
          matched++;
          if (matched === keys.length) {
            detached = true;
            opts.onDetach?.();
            live.detach();
            socket.end();
            return;
          }
          continue;
        }
        if (matched) out.push(...keys.subarray(0, matched));
        matched = 0;
        out.push(b);
      }
      if (out.length) void live.write(Buffer.from(out)).catch(() => undefined);
      return;
    }
    void live.write(d).catch(() => undefined);
  };
  if (opts.leftover.length) onIn(opts.leftover);
  socket.on('data', onIn);
  // As Docker: the client's EOF closes the process's stdin only when asked (StdinOnce, no TTY); a TTY's stays open, so a
  // client that detached (the CLI spots Ctrl-P Ctrl-Q itself and hangs up) leaves stdin usable for the next attach.
  socket.on('end', () => { if (opts.stdin && !detached && opts.closeStdin !== false) live.closeStdin(); });
  socket.on('error', () => live.detach());
  socket.on('close', () => { if (!detached) live.detach(); });
  socket.resume();
  try {
    for await (const { stream, data } of live.output) {
      if (socket.destroyed) break;
      // Only the streams the client asked for (`docker run -a stdout` has no stderr writer and crashes on a frame 2).
      if ((stream === 1 && opts.stdout === false) || (stream === 2 && opts.stderr === false)) continue;
      socket.write(opts.tty ? data : frame(stream, data));
    }
  } catch {
    // the attach socket closed under us: the stream is over
  }
  if (!socket.destroyed && !opts.keepOpen) socket.end();
}

/** Docker's log timestamp: UTC, always nine fraction digits, `Z` (conmon writes `+00:00`). */
export function rfc3339NanoFixed(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}.${frac}Z`;
}

export function containerRoutes(c: Containers): Route[] {
  const id = (ctx: Ctx): string => ctx.params.id!;
  return [
    {
      method: 'GET', path: '/containers/json',
      handler: async ({ res, query }) => {
        const size = boolParam(query, 'size');
        const list = c.list({ all: boolParam(query, 'all'), limit: intParam(query, 'limit'), filters: filtersParam(query) });
        const out = [];
        for (const r of list) out.push(containerSummary(r, size ? await c.sizes(r.id) : undefined));
        sendJson(res, 200, out);
      },
    },
    {
      method: 'POST', path: '/containers/create',
      handler: async ({ req, res, query }) => {
        const body = await readJsonBody<CreateBody | null>(req, null);
        if (!body || typeof body !== 'object') throw new InvalidArgument('Config cannot be empty in order to create a container');
        const name = query.get('name') || undefined;
        if (query.get('platform') && !/^linux(\/(amd64|x86_64))?$/.test(query.get('platform')!)) {
          throw new InvalidArgument(`image platform ${query.get('platform')} does not match the host platform linux/amd64`);
        }
        sendJson(res, 201, await c.create(body, name));
      },
    },
    {
      method: 'POST', path: '/containers/prune',
      handler: async ({ res, query }) => {
        const r = await c.prune(filtersParam(query));
        sendJson(res, 200, { ContainersDeleted: r.deleted, SpaceReclaimed: r.reclaimed });
      },
    },
    {
      method: 'GET', path: '/containers/{id}/json',
      handler: async (ctx) => {
        const r = c.get(id(ctx));
        const size = boolParam(ctx.query, 'size') ? await c.sizes(r.id) : undefined;
        sendJson(ctx.res, 200, containerInspect(r, { size, rootfs: c.svc.rootfs(r.id), upperDir: await c.svc.d.snapshots.upperDir(r.snapshotKey).catch(() => '') }));
      },
    },
    {
      method: 'POST', path: '/containers/{id}/start',
      handler: async (ctx) => {
        try {
          await c.start(id(ctx));
        } catch (e) {
          if (e instanceof NotModified) return sendEmpty(ctx.res, 304);
          throw e;
        }
        sendEmpty(ctx.res, 204);
      },
    },
    {
      method: 'POST', path: '/containers/{id}/stop',
      handler: async (ctx) => {
        try {
          await c.stop(id(ctx), { signal: ctx.query.get('signal') || undefined, timeout: intParam(ctx.query, 't') });
        } catch (e) {
          if (e instanceof NotModified) return sendEmpty(ctx.res, 304);
          throw e;
        }
        sendEmpty(ctx.res, 204);
      },
    },
    {
      method: 'POST', path: '/containers/{id}/restart',
      handler: async (ctx) => {
        await c.restart(id(ctx), { signal: ctx.query.get('signal') || undefined, timeout: intParam(ctx.query, 't') });
        sendEmpty(ctx.res, 204);
      },
    },
    {
      method: 'POST', path: '/containers/{id}/kill',
      handler: async (ctx) => {
        await c.kill(id(ctx), ctx.query.get('signal') || undefined);
        sendEmpty(ctx.res, 204);
      },
    },
    {
      method: 'POST', path: '/containers/{id}/wait',
      handler: async (ctx) => {
        const w = c.wait(id(ctx), (ctx.query.get('condition') || 'not-running') as WaitCondition, ctx.signal);
        await w.ready;
        // The docker CLI starts the container only once these headers arrive.
        ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
        ctx.res.flushHeaders();
        const r = await w.result;
        ctx.res.end(JSON.stringify(r));
      },
    },
    {
      method: 'POST', path: '/containers/{id}/resize',
      handler: async (ctx) => {
        const h = intParam(ctx.query, 'h') ?? 0;
        const w = intParam(ctx.query, 'w') ?? 0;
        await c.resize(id(ctx), h, w);
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: 'DELETE', path: '/containers/{id}',
      handler: async (ctx) => {
        await c.remove(id(ctx), { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
        sendEmpty(ctx.res, 204);
      },
    },
    {
      method: 'GET', path: '/containers/{id}/logs',
      handler: async (ctx) => {
        const r = c.get(id(ctx));
        const q = ctx.query;
        const stdout = boolParam(q, 'stdout');
        const stderr = boolParam(q, 'stderr');
        if (!stdout && !stderr) throw new InvalidArgument('You must choose at least one stream');
        const tailRaw = q.get('tail');
        const tail = !tailRaw || tailRaw === 'all' ? undefined : Number(tailRaw);
        if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new InvalidArgument(`invalid tail value: ${tailRaw}`);
        const sinceQ = q.get('since');
        const since = sinceQ && sinceQ !== '0' ? timeParamNs(sinceQ) : undefined;
        const until = q.get('until') && q.get('until') !== '0' ? timeParamNs(q.get('until')) : undefined;
        const ts = boolParam(q, 'timestamps');
        const tty = r.config.Tty === true;
        ctx.res.writeHead(200, { 'Content-Type': tty ? RAW_STREAM : MULTIPLEXED_STREAM });
        ctx.res.flushHeaders();
        for await (const e of c.logs(r.id, { stdout, stderr, follow: boolParam(q, 'follow'), since, until, tail, signal: ctx.signal })) {
          const data = ts ? Buffer.concat([Buffer.from(`${rfc3339NanoFixed(e.timeNano)} `), e.data]) : e.data;
          if (!ctx.res.write(tty ? data : frame(e.stream, data))) await new Promise((r2) => ctx.res.once('drain', r2));
        }
        ctx.res.end();
      },
    },
    {
      method: 'POST', path: '/containers/{id}/attach',
      handler: async (ctx) => {
        const q = ctx.query;
        const r = c.get(id(ctx));
        const stdin = boolParam(q, 'stdin');
        const detachKeys = parseDetachKeys(q.get('detachKeys'));
        const att = c.attach(r.id, { stdin, stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr'), logs: boolParam(q, 'logs'), stream: boolParam(q, 'stream') });
        const { socket, leftover } = hijack(ctx, att.tty ? RAW_STREAM : MULTIPLEXED_STREAM);
        socket.on('close', () => c.cancelAttach(r.id));
        if (att.replay) for await (const e of att.replay) socket.write(att.tty ? e.data : frame(e.stream, e.data));
        let live: AttachStreams | undefined;
        try {
          live = await att.live;
        } catch {
          // Start failed: the start call reports why (as Docker does); the attach stream just ends.
          live = undefined;
        }
        if (!live) {
          socket.end();
          return;
        }
        await pump(socket, live, { tty: att.tty, stdin, leftover, detachKeys, stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr'), closeStdin: !att.tty && r.config.StdinOnce === true });
      },
    },
  ];
}
