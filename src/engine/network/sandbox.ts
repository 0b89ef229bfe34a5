import { promises as fsp } from 'node:fs';
import { ipBatch, run } from './exec.js';

/** One interface of a container's namespace: a veth pair from the bridge into the namespace. */
export interface SandboxLink {
  ifname: string;
  hostIf: string;
  mac: string;
  ip: string;
  prefix: number;
  bridge: string;
}

const isMountedNs = async (path: string): Promise<boolean> =>
  (await fsp.readFile('/proc/self/mounts', 'utf8')).split('\n').some((l) => l.split(' ')[1] === path);

/**
 * Create the container's network namespace as a bind-mounted file (`unshare --net=<file>`, so nothing shows up in
 * the host's `ip netns list` and it outlives petid), with loopback, its veths and the default route. Two spawns:
 * `ip` inside the new namespace creates each veth with its peer in the host's namespace, then one `ip` on the host
 * enslaves the peers to their bridges.
 */
export async function createSandbox(path: string, links: SandboxLink[], gateway: string | undefined): Promise<void> {
  await fsp.writeFile(path, '', { mode: 0o600 });
  const inner = ['link set lo up'];
  for (const l of links) {
    inner.push(`link add ${l.ifname} address ${l.mac} type veth peer name ${l.hostIf} netns ${process.pid}`,
      `addr add ${l.ip}/${l.prefix} dev ${l.ifname}`, `link set ${l.ifname} up`);
  }
  if (gateway) inner.push(`route add default via ${gateway}`);
  try {
    await run('unshare', [`--net=${path}`, 'ip', '-batch', '-'], inner.join('\n') + '\n');
    // Hairpin: a container reaching its own published port through the host comes back out of its own port.
    await ipBatch(links.flatMap((l) => [`link set ${l.hostIf} master ${l.bridge} up`, `link set dev ${l.hostIf} type bridge_slave hairpin on`]));
  } catch (e) {
    await destroySandbox(path, links.map((l) => l.hostIf));
    throw e;
  }
}

/** Remove the veths (both ends go with the host one) and the namespace file. Idempotent. */
export async function destroySandbox(path: string, hostIfs: string[]): Promise<void> {
  await Promise.all([
    hostIfs.length > 0 ? ipBatch(hostIfs.map((h) => `link del ${h}`), true).catch(() => undefined) : undefined,
    (async () => {
      if (await isMountedNs(path)) await run('umount', ['-l', path]).catch(() => undefined);
      await fsp.rm(path, { force: true });
    })(),
  ]);
}

/** Add an interface to a running container's namespace (network connect). */
export async function addLink(path: string, l: SandboxLink, gateway: string | undefined): Promise<void> {
  await ipBatch([`link add ${l.hostIf} master ${l.bridge} up type veth peer name ${l.ifname} address ${l.mac} netns ${path}`, `link set dev ${l.hostIf} type bridge_slave hairpin on`]);
  const inner = [`addr add ${l.ip}/${l.prefix} dev ${l.ifname}`, `link set ${l.ifname} up`];
  if (gateway) inner.push(`route replace default via ${gateway}`);
  try {
    await run('nsenter', [`--net=${path}`, 'ip', '-batch', '-'], inner.join('\n') + '\n');
  } catch (e) {
    await ipBatch([`link del ${l.hostIf}`], true).catch(() => undefined);
    throw e;
  }
}

/** Remove one interface from a running container (network disconnect). */
export async function removeLink(hostIf: string): Promise<void> {
  await ipBatch([`link del ${hostIf}`], true).catch(() => undefined);
}
