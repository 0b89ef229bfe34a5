import { EngineClient, resolveHost } from '../client/index.js';
import { InvalidArgument, PetiError, Unavailable, messageOf } from '../lib/errors.js';
import { parseFlags } from './args.js';
import { allCommands, commandsFor } from './registry-of-commands.js';
import type { Cli, Command } from './types.js';
import { PETI_CLI_VERSION } from './version.js';


async function findCommand(argv: string[]): Promise<{ cmd: Command; rest: string[] } | undefined> {
  const commands = await commandsFor(argv[0] ?? '');
  // Longest command path first: `image ls` before `images`.
  for (const len of [2, 1]) {
    const key = argv.slice(0, len).join(' ');
    const cmd = commands.find((c) => c.names.includes(key));
    if (cmd) return { cmd, rest: argv.slice(len) };
  }
  return undefined;
}

async function usage(): Promise<string> {
  const commands = await allCommands();
  const lines = commands.map((c) => `  ${c.names[0]!.padEnd(16)}${c.description}`);
  return `Usage:  peti [OPTIONS] COMMAND\n\nA Docker-compatible container engine\n\nOptions:\n  -H, --host string   Daemon socket to connect to (default unix:///run/peti/peti.sock; PETI_HOST, DOCKER_HOST)\n  -v, --version       Print version information and quit\n\nCommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  let host: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-H' || a === '--host') host = argv[++i];
    else if (a.startsWith('--host=')) host = a.slice(7);
    else if (a.startsWith('-H') && a.length > 2) host = a.slice(2);
    else if (a === '-v' || a === '--version') {
      process.stdout.write(`Peti version ${PETI_CLI_VERSION}\n`);
      return 0;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(await usage());
      return 0;
    } else if (a === '-D' || a === '--debug') continue;
    else if (a === '-l' || a === '--log-level') i++;
    else break;
  }
  const rest = argv.slice(i);
  if (rest.length === 0) {
    process.stdout.write(await usage());
    return 0;
  }
  const found = await findCommand(rest);
  if (!found) {
    process.stderr.write(`peti: '${rest[0]}' is not a peti command.\nSee 'peti --help'\n`);
    return 1;
  }
  const { cmd, rest: args } = found;
  if (args.includes('--help') || args.includes('-h') && !cmd.flags.some((f) => f.short === 'h')) {
    process.stdout.write(`\nUsage:  peti ${cmd.usage}\n\n${cmd.description}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseFlags(args, cmd.flags, cmd.interspersed !== false);
    const n = parsed.args.length;
    if (cmd.minArgs !== undefined && n < cmd.minArgs) throw new InvalidArgument(`"peti ${cmd.names[0]}" requires at least ${cmd.minArgs} argument${cmd.minArgs > 1 ? 's' : ''}.`);
    if (cmd.maxArgs !== undefined && n > cmd.maxArgs) throw new InvalidArgument(cmd.maxArgs === 0 ? `"peti ${cmd.names[0]}" accepts no arguments.` : `"peti ${cmd.names[0]}" requires at most ${cmd.maxArgs} argument${cmd.maxArgs > 1 ? 's' : ''}.`);
  } catch (e) {
    process.stderr.write(`peti: ${messageOf(e)}\nSee 'peti ${cmd.names[0]} --help'.\n`);
    // The docker CLI answers every flag or argument error with 125.
    return 125;
  }
  const cli: Cli = { client: new EngineClient(resolveHost(host)), out: process.stdout, err: process.stderr, stdin: process.stdin };
  try {
    const code = await cmd.run(cli, parsed);
    return code ?? 0;
  } catch (e) {
    // Docker's shape: daemon answers are prefixed, local problems are not.
    if (e instanceof Unavailable) process.stderr.write(`${e.message}\n`);
    else if (e instanceof PetiError && !(e instanceof InvalidArgument && !('status' in e))) process.stderr.write(`Error response from daemon: ${e.message}\n`);
    else process.stderr.write(`Error: ${messageOf(e)}\n`);
    return 1;
  }
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`Error: ${messageOf(e)}\n`);
    process.exitCode = 1;
  },
);
