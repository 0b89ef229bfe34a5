import type { IncomingMessage } from 'node:http';
import { readAll } from '../../client/index.js';
import { InvalidArgument } from '../../lib/errors.js';
import { formatFull, parseReference, repoName } from '../../lib/reference.js';
import { bool, str } from '../args.js';
import { findAuth, readDockerConfig, registryAuthFor, registryKey, writeDockerConfig, HUB_KEY } from '../docker-config.js';
import { type JsonMessage, ProgressView } from '../progress.js';
import type { Cli, Command } from '../types.js';

/** Stream a pull/push answer to `out`, as lines or live bars; an in-stream error is thrown. */
export async function showProgress(cli: Cli, res: IncomingMessage, out: Cli['out'] | Cli['err'], quiet: boolean): Promise<JsonMessage[]> {
  const tty = !quiet && (out as { isTTY?: boolean }).isTTY === true;
  const view = new ProgressView(out as NodeJS.WritableStream & { columns?: number }, tty);
  const seen: JsonMessage[] = [];
  try {
    for await (const m of cli.client.jsonLines<JsonMessage>(res)) {
      if (m.aux !== undefined) seen.push(m);
      if (!quiet) view.handle(m);
    }
  } finally {
    view.end();
  }
  return seen;
}

async function readPassword(cli: Cli): Promise<string> {
  const buf = await readAll(cli.stdin as AsyncIterable<unknown>);
  return buf.toString('utf8').replace(/\r?\n$/, '');
}

async function prompt(cli: Cli, question: string): Promise<string> {
  cli.out.write(question);
  return new Promise<string>((resolve) => {
    let s = '';
    const onData = (d: Buffer): void => {
      s += d.toString();
      const i = s.indexOf('\n');
      if (i >= 0) {
        cli.stdin.off('data', onData);
        (cli.stdin as NodeJS.ReadableStream & { pause(): void }).pause();
        resolve(s.slice(0, i).replace(/\r$/, ''));
      }
    };
    cli.stdin.on('data', onData);
  });
}

export const registryCommands: Command[] = [
  {
    names: ['pull', 'image pull'],
    usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
    description: 'Download an image from a registry',
    flags: [
      { name: 'all-tags', short: 'a', kind: 'bool' }, { name: 'platform', kind: 'string' }, { name: 'quiet', short: 'q', kind: 'bool' },
      { name: 'disable-content-trust', kind: 'bool' },
    ],
    minArgs: 1, maxArgs: 1,
    async run(cli, p) {
      const ref = parseReference(p.args[0]!);
      const all = bool(p, 'all-tags');
      const quiet = bool(p, 'quiet');
      if (all && (ref.tag !== undefined || ref.digest !== undefined)) throw new InvalidArgument('tag can\'t be used with --all-tags/-a');
      let tag: string | undefined = ref.digest ?? ref.tag;
      if (!all && tag === undefined) {
        tag = 'latest';
        if (!quiet) cli.out.write('Using default tag: latest\n');
      }
      const res = await cli.client.send('POST', '/images/create', {
        query: { fromImage: repoName(ref), tag, platform: str(p, 'platform') },
        headers: { 'X-Registry-Auth': registryAuthFor(p.args[0]!) },
      });
      await showProgress(cli, res, cli.out, quiet);
      cli.out.write(`${all ? repoName(ref) : formatFull({ ...ref, ...(ref.digest ? {} : { tag }) })}\n`);
    },
  },
  {
    names: ['push', 'image push'],
    usage: 'push [OPTIONS] NAME[:TAG]',
    description: 'Upload an image to a registry',
    flags: [
      { name: 'all-tags', short: 'a', kind: 'bool' }, { name: 'quiet', short: 'q', kind: 'bool' }, { name: 'platform', kind: 'string' },
      { name: 'disable-content-trust', kind: 'bool' },
    ],
    minArgs: 1, maxArgs: 1,
    async run(cli, p) {
      const ref = parseReference(p.args[0]!);
      const all = bool(p, 'all-tags');
      const quiet = bool(p, 'quiet');
      if (ref.digest) throw new InvalidArgument('cannot push a digest reference');
      if (all && ref.tag !== undefined) throw new InvalidArgument('tag can\'t be used with --all-tags/-a');
      let tag = ref.tag;
      if (!all && tag === undefined) {
        tag = 'latest';
        if (!quiet) cli.out.write('Using default tag: latest\n');
      }
      const res = await cli.client.send('POST', `/images/${repoName(ref)}/push`, {
        query: { tag: tag ?? '' },
        headers: { 'X-Registry-Auth': registryAuthFor(p.args[0]!) },
      });
      const aux = await showProgress(cli, res, cli.out, quiet);
      if (quiet) {
        for (const m of aux) {
          const a = m.aux as { Tag?: string } | undefined;
          if (a?.Tag) cli.out.write(`${repoName(ref)}:${a.Tag}\n`);
        }
      }
    },
  },
  {
    names: ['login'],
    usage: 'login [OPTIONS] [SERVER]',
    description: 'Authenticate to a registry',
    flags: [
      { name: 'username', short: 'u', kind: 'string' }, { name: 'password', short: 'p', kind: 'string' },
      { name: 'password-stdin', kind: 'bool' },
    ],
    maxArgs: 1,
    async run(cli, p) {
      const key = registryKey(p.args[0]);
      let username = str(p, 'username');
      let password = str(p, 'password');
      if (password !== undefined) cli.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (bool(p, 'password-stdin')) {
        if (password !== undefined) throw new InvalidArgument('--password and --password-stdin are mutually exclusive');
        if (!username) throw new InvalidArgument('Must provide --username with --password-stdin');
        password = await readPassword(cli);
      }
      if (!username || password === undefined) {
        if (!cli.stdin.isTTY) throw new InvalidArgument('Cannot perform an interactive login from a non TTY device');
        username ||= await prompt(cli, 'Username: ');
        if (password === undefined) password = await prompt(cli, 'Password: ');
      }
      const r = await cli.client.json<{ Status: string; IdentityToken?: string }>('POST', '/auth', {
        body: { username, password, serveraddress: key },
      });
      const cfg = readDockerConfig();
      const auths = { ...(cfg.auths ?? {}) };
      const old = findAuth(cfg, key);
      if (old) delete auths[old.key];
      auths[key] = r.IdentityToken
        ? { auth: Buffer.from(`${username}:`).toString('base64'), identitytoken: r.IdentityToken }
        : { auth: Buffer.from(`${username}:${password}`).toString('base64') };
      writeDockerConfig({ ...cfg, auths });
      cli.out.write(`${r.Status || 'Login Succeeded'}\n`);
    },
  },
  {
    names: ['logout'],
    usage: 'logout [SERVER]',
    description: 'Log out from a registry',
    flags: [],
    maxArgs: 1,
    async run(cli, p) {
      const key = registryKey(p.args[0]);
      const cfg = readDockerConfig();
      const found = findAuth(cfg, key);
      const shown = key === HUB_KEY ? HUB_KEY : key;
      if (!found) {
        cli.out.write(`Not logged in to ${shown}\n`);
        return;
      }
      const auths = { ...(cfg.auths ?? {}) };
      delete auths[found.key];
      cli.out.write(`Removing login credentials for ${shown}\n`);
      writeDockerConfig({ ...cfg, auths });
    },
  },
];
