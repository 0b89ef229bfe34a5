import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from '../types.js';

/**
 * `peti registry ...` runs the registry server bundle (dist/peti-registry.js) beside the CLI bundle as a child,
 * so the CLI never loads the server code; arguments pass through untouched and its exit code becomes ours.
 */
export const registryCommand: Command = {
  names: ['registry'],
  usage: 'registry serve|gc [OPTIONS]',
  description: 'Run the OCI registry server (serve) or its garbage collector (gc)',
  flags: [],
  interspersed: false,
  async run(cli, p) {
    // This module may run from dist/chunks/ (the CLI is split): find the bundle beside the entry script.
    const entry = process.argv[1] ?? '';
    const here = fileURLToPath(new URL('.', import.meta.url));
    const candidates = [join(here, 'peti-registry.js'), join(here, '..', 'peti-registry.js'), join(dirname(entry), '..', 'dist', 'peti-registry.js')];
    const bundle = candidates.find((c) => existsSync(c)) ?? candidates[0]!;
    const child = spawn(process.execPath, [bundle, ...p.args], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals): void => { child.kill(sig); };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    return new Promise<number>((ok) => {
      child.on('error', (e) => {
        cli.err.write(`peti registry: ${e.message}\n`);
        ok(1);
      });
      child.on('exit', (code, signal) => ok(code ?? (signal ? 128 : 1)));
    });
  },
};
