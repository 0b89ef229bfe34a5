import { existsSync, promises as fsp } from 'node:fs';
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
 * the host's `ip netns list` and it outlives petid), with loopback, its veths and the default route. One spawn (a
 * Node spawn costs ~5 ms here, a fork from sh far less): in the new namespace `ip` creates each veth with its peer in
 * the host's namespace, then `nsenter` back to the host enslaves the peers to their bridges (with hairpin on, so a
 * container reaches its own published port through the host).
 */
export async function createSandbox(path: string, links: SandboxLink[], gateway: string | undefined): Promise<void> {
  await fsp.writeFile(path, '', { mode: 0o600 });
  const inner = ['link set lo up'];
  for (const l of links) {
    inner.push(`link add ${l.ifname} address ${l.mac} type veth peer name ${l.hostIf} netns ${process.pid}`,
      `addr add ${l.ip}/${l.prefix} dev ${l.ifname}`, `link set ${l.ifname} up`);
  }
  if (gateway) inner.push(`route add default via ${gateway}`);
  const host = links.flatMap((l) => [`link set ${l.hostIf} master ${l.bridge} up`, `link set dev ${l.hostIf} type bridge_slave hairpin on`]);
  // Every word is ours (interface names, addresses, MACs): nothing from a request reaches the shell.
  const script = `ip -batch - <<'EOF'\n${inner.join('\n')}\nEOF\nexec nsenter --net=/proc/${process.pid}/ns/net ip -batch - <<'EOF'\n${host.join('\n')}\nEOF\n`;
  const create = (): Promise<string> => run('unshare', [`--net=${path}`, 'sh', '-ec', script]);
  try {
    try {
      await create();
    } catch (e) {
      // The host end of a previous run's veth may still be on its way out (namespaces die in the background).
      if (!/File exists/.test((e as Error).message)) throw e;
      await ipBatch(links.map((l) => `link del ${l.hostIf}`), true).catch(() => undefined);
      if (await isMountedNs(path)) await run('umount', ['-l', path]);
      await fsp.writeFile(path, '', { mode: 0o600 });
      await create();
    }
  } catch (e) {
    await destroySandbox(path, links.map((l) => l.hostIf), true);
    throw e;
  }
}

/**
 * Release the namespace file. Once its processes are gone the kernel destroys the namespace and, with it, both ends
 * of each veth, in the background: deleting a veth ourselves costs ~15 ms of RTNL synchronisation on the run path
 * (measured here), unmounting ~2 ms. Idempotent: without the file there is nothing to do and nothing is spawned.
 * `hostIfs` are deleted explicitly only when `now` (a namespace still in use must lose its veths at once).
 */
export async function destroySandbox(path: string, hostIfs: string[], now = false): Promise<void> {
  if (!existsSync(path)) return;
  await Promise.all([
    now && hostIfs.length > 0 ? ipBatch(hostIfs.map((h) => `link del ${h}`), true).catch(() => undefined) : undefined,
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
