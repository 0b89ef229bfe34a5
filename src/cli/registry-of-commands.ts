import type { Command } from './types.js';

/**
 * Which module holds the commands starting with each word. Modules load on demand (esbuild splits them into
 * chunks), so `peti ps` never parses the builder or the registry client: the CLI's start-up stays close to
 * Node's own. A unit test checks this table against the modules' real command names.
 */
export const COMMAND_MODULES: Record<string, () => Promise<Command[]>> = {
  system: async () => (await import('./commands/system.js')).systemCommands,
  images: async () => (await import('./commands/images.js')).imagesCommands,
  build: async () => (await import('./commands/build.js')).buildCommands,
  registryClient: async () => (await import('./commands/registry-client.js')).registryCommands,
  registry: async () => [(await import('./commands/registry.js')).registryCommand],
  containers: async () => (await import('./commands/containers.js')).containersCommands,
  containerOps: async () => (await import('./commands/container-ops.js')).containerOpsCommands,
  volumes: async () => (await import('./commands/volumes.js')).volumesCommands,
  networks: async () => (await import('./commands/networks.js')).networksCommands,
};

/** First word of a command -> the modules to look in. */
export const FIRST_WORDS: Record<string, string[]> = {
  version: ['system'], info: ['system'], system: ['system'], events: ['system'], inspect: ['system'],
  images: ['images'], image: ['images', 'build', 'registryClient'], history: ['images'], tag: ['images'], rmi: ['images'], import: ['images'],
  save: ['images'], load: ['images'],
  build: ['build'], builder: ['build'], commit: ['build'],
  pull: ['registryClient'], push: ['registryClient'], login: ['registryClient'], logout: ['registryClient'],
  registry: ['registry'],
  run: ['containers'], create: ['containers'], start: ['containers'], stop: ['containers'], restart: ['containers'],
  kill: ['containers'], rm: ['containers'], ps: ['containers'], logs: ['containers'], exec: ['containers'],
  attach: ['containers'], wait: ['containers'], container: ['containers', 'containerOps', 'build', 'networks'],
  cp: ['containerOps'], diff: ['containerOps'], export: ['containerOps'], top: ['containerOps'], stats: ['containerOps'],
  update: ['containerOps'], pause: ['containerOps'], unpause: ['containerOps'], rename: ['containerOps'],
  volume: ['volumes'], network: ['networks'], port: ['networks'],
};

export async function commandsFor(word: string): Promise<Command[]> {
  const mods = FIRST_WORDS[word] ?? [];
  return (await Promise.all(mods.map((m) => COMMAND_MODULES[m]!()))).flat();
}

export async function allCommands(): Promise<Command[]> {
  return (await Promise.all(Object.values(COMMAND_MODULES).map((load) => load()))).flat();
}
