import type { EngineClient } from '../client/index.js';
import type { FlagSpec, Parsed } from './args.js';

export interface Cli {
  client: EngineClient;
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface Command {
  /** Space-separated path: `images`, `image ls`. */
  names: string[];
  usage: string;
  description: string;
  flags: FlagSpec[];
  minArgs?: number;
  maxArgs?: number;
  /** False: flags end at the first positional argument (`run IMAGE CMD -x`), as docker's SetInterspersed(false). */
  interspersed?: boolean;
  run(cli: Cli, p: Parsed): Promise<number | void>;
}
