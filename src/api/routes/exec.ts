import type { Containers, ExecConfig } from '../../engine/containers/index.js';
import { InvalidArgument, messageOf } from '../../lib/errors.js';
import { frame } from '../stream/stdcopy.js';
import type { Route } from '../router.js';
import { readJsonBody, sendEmpty, sendJson } from '../server.js';
import { intParam } from '../convert/query.js';
import { MULTIPLEXED_STREAM, RAW_STREAM, hijack, readUpgradeBody } from '../stream/hijack.js';
import { pump } from './containers.js';

interface ExecStartBody {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
}

export function execRoutes(c: Containers): Route[] {
  return [
    {
      method: 'POST', path: '/containers/{id}/exec',
      handler: async ({ req, res, params }) => {
        const body = await readJsonBody<ExecConfig | null>(req, null);
        if (!body) throw new InvalidArgument('No exec command specified');
        sendJson(res, 201, { Id: c.execCreate(params.id!, body) });
      },
    },
    {
      method: 'POST', path: '/exec/{id}/start',
      handler: async (ctx) => {
        const upgrade = typeof ctx.req.headers.upgrade === 'string';
        let body: ExecStartBody;
        let leftover: Buffer = Buffer.alloc(0);
        if (upgrade) {
          const r = await readUpgradeBody(ctx);
          leftover = r.leftover;
          try {
            body = r.body.length ? (JSON.parse(r.body.toString('utf8')) as ExecStartBody) : {};
          } catch {
            throw new InvalidArgument('invalid JSON body');
          }
        } else body = await readJsonBody<ExecStartBody>(ctx.req, {});
        const e = c.execGet(ctx.params.id!);
        const tty = body.Tty ?? e.config.Tty === true;
        let started;
        try {
          started = await c.execStart(e.id, { detach: body.Detach === true, tty, ...(body.ConsoleSize ? { consoleSize: body.ConsoleSize } : {}) });
        } catch (err) {
          if (body.Detach || e.exitCode === null) throw err;
          // As Docker: a process that fails to start is reported down the stream; the CLI then reads ExitCode 126/127.
          const { socket } = hijack(ctx, tty ? RAW_STREAM : MULTIPLEXED_STREAM, leftover);
          const msg = Buffer.from(`${messageOf(err)}\r\n`);
          socket.end(tty ? msg : frame(1, msg));
          return;
        }
        if (body.Detach) return sendEmpty(ctx.res, 200);
        const { socket } = hijack(ctx, tty ? RAW_STREAM : MULTIPLEXED_STREAM, leftover);
        if (!started.handle?.streams) {
          await started.handle?.exited.catch(() => undefined);
          socket.end();
          return;
        }
        await pump(socket, started.handle.streams, { tty, stdin: e.config.AttachStdin === true, leftover, stdout: e.config.AttachStdout !== false, stderr: e.config.AttachStderr !== false, keepOpen: true, closeStdin: !tty });
        // The CLI reads the exit code as soon as the stream ends: end it only once the code is recorded.
        await started.handle.exited.catch(() => undefined);
        await new Promise((r) => setImmediate(r));
        if (!socket.destroyed) socket.end();
      },
    },
    {
      method: 'POST', path: '/exec/{id}/resize',
      handler: async ({ res, params, query }) => {
        await c.execResize(params.id!, intParam(query, 'h') ?? 0, intParam(query, 'w') ?? 0);
        sendEmpty(res, 200);
      },
    },
    {
      method: 'GET', path: '/exec/{id}/json',
      handler: async ({ res, params }) => {
        const e = c.execGet(params.id!);
        sendJson(res, 200, {
          ID: e.id, Running: e.running, ExitCode: e.exitCode, ProcessConfig: {
            tty: e.config.Tty === true, entrypoint: e.config.Cmd?.[0] ?? '', arguments: e.config.Cmd?.slice(1) ?? [], privileged: e.config.Privileged === true, user: e.config.User ?? '',
          },
          OpenStdin: e.config.AttachStdin === true, OpenStderr: e.config.AttachStderr === true, OpenStdout: e.config.AttachStdout === true,
          CanRemove: false, ContainerID: e.containerId, DetachKeys: e.config.DetachKeys ?? '', Pid: e.pid,
        });
      },
    },
  ];
}
