/**
 * The same busybox image in every engine. scripts/make-busybox.sh builds the rootfs (Debian's busybox-static, fixed
 * mtimes) and imports its tar into petid; Peti stores that tar unchanged as the layer, so `peti save` hands back the
 * very bytes the script produced. Docker and Podman then `import` that file, and a bare crun bundle unpacks it: all
 * engines run identical content, and the script stays the one place that knows how the rootfs is made. (The script
 * runs from the benches' private copy of the build, bench/lib/engines.ts BUILD, so it uses that copy's bin/peti.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD, runTimed, showCommand, type Engine } from './engines.js';

export const BUSYBOX = 'busybox:latest';
const CMD = 'CMD ["sh"]';

async function sh(cmd: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  console.log(`  $ ${showCommand(cmd, args, env)}`);
  await runTimed(cmd, args, env, { capture: false });
}

/** Makes busybox:latest in petid with the script, and writes its rootfs tar to work/busybox-rootfs.tar. */
export async function busyboxInPeti(peti: Engine, work: string): Promise<string> {
  await sh(join(BUILD, 'scripts/make-busybox.sh'), ['--force'], peti.cliEnv); // the copy: runs the copied bin/peti
  const saved = join(work, 'busybox-image');
  await sh('mkdir', ['-p', saved]);
  await sh(peti.cliCmd, [...peti.cliArgs, 'save', '-o', join(saved, 'image.tar'), BUSYBOX], peti.cliEnv);
  await sh('tar', ['-C', saved, '-xf', join(saved, 'image.tar'), 'manifest.json']);
  const manifest = JSON.parse(readFileSync(join(saved, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
  const layers = manifest[0]?.Layers ?? [];
  if (layers.length !== 1) throw new Error(`busybox image: expected one layer, got ${layers.length}`);
  await sh('tar', ['-C', saved, '-xf', join(saved, 'image.tar'), layers[0] as string]);
  const tar = join(work, 'busybox-rootfs.tar');
  await sh('mv', [join(saved, layers[0] as string), tar]);
  return tar;
}

/** `<cli> import --change 'CMD ["sh"]' ROOTFS.tar busybox:latest`, as the script does for Peti. */
export async function importBusybox(e: Engine, tar: string): Promise<void> {
  await sh(e.cliCmd, [...e.cliArgs, 'import', '--change', CMD, tar, BUSYBOX], e.cliEnv);
}
