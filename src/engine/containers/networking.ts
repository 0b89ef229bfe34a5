import { promises as fsp } from 'node:fs';
import { Conflict, Forbidden, InvalidArgument, NotFound, messageOf } from '../../lib/errors.js';
import { hostResolvers, portRequests, type Attachment, type ContainerNetworkState, type EndpointRequest, type NetworkService } from '../network/index.js';
import type { ContainerService } from './service.js';
import type { ContainerRecord } from './types.js';

/** How a container is networked, from HostConfig.NetworkMode. */
export type NetKind = 'host' | 'none' | 'container' | 'bridge';

export function netKind(rec: Pick<ContainerRecord, 'hostConfig'>): NetKind {
  const m = String(rec.hostConfig.NetworkMode ?? 'none');
  if (m === 'host' || m === 'none') return m;
  return m.startsWith('container:') ? 'container' : 'bridge';
}

function net(svc: ContainerService): NetworkService | undefined {
  return svc.d.network;
}

interface EndpointSettings {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string } | null;
  MacAddress?: string;
}

/** Networks to attach at create: the NetworkMode one first, then the other EndpointsConfig entries. */
export interface NetPlan {
  kind: NetKind;
  endpoints: { network: string; req: EndpointRequest }[];
  warnings: string[];
}

/**
 * Validate and normalise HostConfig.NetworkMode and NetworkingConfig at create (Docker's rules and wording);
 * rewrites host.NetworkMode to its stored form (`bridge`, a network name, `container:<id>`).
 */
export function planNetworks(
  svc: ContainerService, host: Record<string, unknown>, networking: Record<string, unknown> | undefined, hostname?: string, configMac?: string,
): NetPlan {
  const n = net(svc);
  let mode = typeof host.NetworkMode === 'string' && host.NetworkMode ? host.NetworkMode : 'default';
  if (mode === 'default') mode = n ? 'bridge' : 'none';
  const eps = ((networking?.EndpointsConfig ?? {}) as Record<string, EndpointSettings | null>);
  // The docker CLI puts --mac-address in the endpoint settings (API 1.44+), older clients in Config.MacAddress.
  const anyMac = configMac || Object.values(eps).some((e) => !!e?.MacAddress);
  const hasPorts = Object.values((host.PortBindings ?? {}) as Record<string, unknown[] | null>).some((b) => Array.isArray(b) && b.length > 0) || host.PublishAllPorts === true;
  const warnings: string[] = [];
  if (!n) {
    if (mode !== 'none' && mode !== 'host' && mode !== 'bridge') throw new NotFound(`network ${mode} not found`);
    if (hasPorts) throw new InvalidArgument('HostConfig.PortBindings: publishing ports needs bridge networking, which this engine was built without');
    host.NetworkMode = mode === 'host' ? 'host' : 'none';
    return { kind: netKind({ hostConfig: host }), endpoints: [], warnings };
  }
  if (mode.startsWith('container:')) {
    const target = svc.store.get(mode.slice('container:'.length));
    if (hasPorts) throw new InvalidArgument('conflicting options: port publishing and the container type network mode');
    if (anyMac) throw new InvalidArgument('conflicting options: mac-address and the network mode');
    // The joined container's /etc/hosts, /etc/resolv.conf and /etc/hostname are used (Docker's rules and wording).
    if (typeof hostname === 'string' && hostname !== '') throw new InvalidArgument('conflicting options: hostname and the network mode');
    if (Array.isArray(host.Dns) && host.Dns.length > 0) throw new InvalidArgument('conflicting options: dns and the network mode');
    if (Array.isArray(host.ExtraHosts) && host.ExtraHosts.length > 0) throw new InvalidArgument('conflicting options: custom host-to-IP mapping and the network mode');
    if (Object.keys(eps).length > 0) throw new InvalidArgument('conflicting options: networking configuration and the container type network mode');
    host.NetworkMode = `container:${target.id}`;
    return { kind: 'container', endpoints: [], warnings };
  }
  const primary = n.get(mode);
  if (primary.driver === 'host' && anyMac) throw new InvalidArgument('conflicting options: mac-address and the network mode');
  if (primary.driver === 'host' || primary.driver === 'null') {
    if (hasPorts && primary.driver === 'host') warnings.push('Published ports are discarded when using host network mode');
    host.NetworkMode = primary.name;
    return { kind: primary.driver === 'host' ? 'host' : 'none', endpoints: [], warnings };
  }
  host.NetworkMode = primary.name;
  const req = (s: EndpointSettings | null | undefined): EndpointRequest => ({
    ...(s?.Aliases && s.Aliases.length > 0 ? { aliases: s.Aliases } : {}),
    ...(s?.IPAMConfig?.IPv4Address ? { ip: s.IPAMConfig.IPv4Address } : {}),
    ...(s?.MacAddress ? { mac: s.MacAddress } : {}),
  });
  const primaryKey = Object.keys(eps).find((k) => k === mode || k === 'default' || (n.store.find(k)?.id === primary.id));
  // Config.MacAddress (before API 1.44) belongs to the primary network's endpoint.
  const primaryReq = req(primaryKey ? eps[primaryKey] : undefined);
  if (configMac && !primaryReq.mac) primaryReq.mac = configMac;
  const endpoints = [{ network: primary.id, req: primaryReq }];
  for (const [k, s] of Object.entries(eps)) {
    if (k === primaryKey) continue;
    const other = n.get(k);
    if (other.driver !== 'bridge') throw new InvalidArgument(`container cannot be connected to network ${other.name} and to ${primary.name} at once`);
    if (!endpoints.some((e) => e.network === other.id)) endpoints.push({ network: other.id, req: req(s) });
  }
  return { kind: 'bridge', endpoints, warnings };
}

/**
 * A container ID with its namespace already built, when the plan is the default bridge alone with nothing asked of
 * its endpoint (the common `docker run`); undefined otherwise or when the pool is empty.
 */
export function pooledId(svc: ContainerService, plan: NetPlan): string | undefined {
  const n = net(svc);
  const only = plan.endpoints.length === 1 ? plan.endpoints[0]! : undefined;
  if (!n || plan.kind !== 'bridge' || !only || only.req.ip || only.req.mac || (only.req.aliases?.length ?? 0) > 0) return undefined;
  const target = n.store.byId.get(only.network);
  return target?.predefined && target.name === 'bridge' ? n.takeSandbox() : undefined;
}

/** Reserve the planned addresses (persisted); on failure nothing stays reserved. */
export async function attachPlanned(svc: ContainerService, rec: ContainerRecord, plan: NetPlan): Promise<void> {
  const n = net(svc);
  if (!n) return;
  try {
    for (const e of plan.endpoints) await n.attach(e.network, { id: rec.id, name: rec.name }, e.req);
  } catch (e) {
    await n.detachAll(rec.id);
    throw e;
  }
  refreshView(svc, rec, []);
}

/** Rewrite rec.networkSettings from the network service (inspect's NetworkSettings). */
export function refreshView(svc: ContainerService, rec: ContainerRecord, ports?: ContainerNetworkState['ports'], sandboxKey?: string): void {
  const n = net(svc);
  if (!n) return;
  const kind = netKind(rec);
  const prev = rec.networkSettings;
  rec.networkSettings = {
    networks: kind === 'bridge' ? n.views(rec.id) : kind === 'container' ? [] : n.views(rec.id, kind),
    ports: ports ?? prev?.ports ?? [],
    sandboxKey: sandboxKey ?? prev?.sandboxKey ?? '',
  };
}

/** The network namespace the OCI spec joins (or asks crun to create: none). */
export function specNetwork(svc: ContainerService, rec: ContainerRecord, forStart = false): { mode: 'none' | 'host' | 'netns'; netnsPath?: string } {
  const kind = netKind(rec);
  const n = net(svc);
  if (kind === 'host') return { mode: 'host' };
  if (kind === 'bridge' && n) return { mode: 'netns', netnsPath: n.netnsPath(rec.id) };
  if (kind === 'container') {
    const ref = String(rec.hostConfig.NetworkMode).slice('container:'.length);
    const target = svc.store.byId.get(ref);
    const running = target && (target.state.status === 'running' || target.state.status === 'paused');
    if (!target || !running) {
      // At create the target may not run yet: start regenerates the spec and refuses then.
      if (!forStart) return { mode: 'none' };
      throw new Conflict(`cannot join network namespace of a non running container: ${target ? target.name : ref}`);
    }
    const tk = netKind(target);
    if (tk === 'host') return { mode: 'host' };
    if (tk === 'bridge' && n) return { mode: 'netns', netnsPath: n.netnsPath(target.id) };
    return { mode: 'netns', netnsPath: `/proc/${target.state.pid}/ns/net` };
  }
  return { mode: 'none' };
}

/**
 * The hosts, hostname and resolv.conf files the container's /etc gets: its own, or for `container:<x>` those of the
 * container whose network it joins (what that container sees, as Docker does).
 */
export function specFiles(svc: ContainerService, rec: ContainerRecord): { hosts: string; hostname: string; resolvConf: string } {
  const own = { hosts: rec.hostsPath, hostname: rec.hostnamePath, resolvConf: rec.resolvConfPath };
  if (netKind(rec) !== 'container') return own;
  const target = svc.store.byId.get(String(rec.hostConfig.NetworkMode).slice('container:'.length));
  return target ? { hosts: target.hostsPath, hostname: target.hostnamePath, resolvConf: target.resolvConfPath } : own;
}

/** A private namespace's resolv.conf: loopback resolvers of the host cannot be reached from it (Docker's rule). */
function bridgeResolvConf(text: string): string {
  const lines = text.split('\n');
  const kept = lines.filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$)/.test(l));
  if (!kept.some((l) => /^\s*nameserver\s/.test(l))) return ['nameserver 8.8.8.8', 'nameserver 8.8.4.4', ...kept].join('\n');
  return kept.join('\n');
}

/**
 * Before the runtime creates the container: build its namespace, publish its ports, write /etc/hosts (its own
 * address) and /etc/resolv.conf (the embedded DNS on user networks). The files stay at their inode (bind mounts).
 */
export async function networkUp(svc: ContainerService, rec: ContainerRecord): Promise<void> {
  const n = net(svc);
  const kind = netKind(rec);
  if (!n || kind !== 'bridge') {
    if (kind === 'container') specNetwork(svc, rec, true);
    return;
  }
  const reqs = portRequests(rec.hostConfig.PortBindings, rec.hostConfig.PublishAllPorts === true, rec.config.ExposedPorts);
  const { sandboxKey, ports } = await n.up(rec.id, reqs);
  try {
    const atts = n.attachments(rec.id);
    const first = atts[0];
    if (first) {
      const hostname = rec.config.Hostname ?? rec.id.slice(0, 12);
      const hosts = await fsp.readFile(rec.hostsPath, 'utf8');
      const lines = hosts.split('\n').filter((l) => !l.endsWith(`\t${hostname}`));
      if (lines.at(-1) === '') lines.pop();
      lines.push(`${first.ep.ip}\t${hostname}`, '');
      const custom = Array.isArray(rec.hostConfig.Dns) && (rec.hostConfig.Dns as unknown[]).length > 0;
      const dnsNet = atts.find((a) => !a.net.predefined);
      let resolv = await fsp.readFile(rec.resolvConfPath, 'utf8').catch(() => '');
      if (dnsNet && !custom) {
        resolv = [`nameserver ${dnsNet.net.ipam[0]!.Gateway}`, ...resolv.split('\n').filter((l) => l.trim() !== '' && !/^\s*nameserver\s/.test(l) && !/^# peti/.test(l)), ''].join('\n');
      } else if (!custom) {
        resolv = bridgeResolvConf(resolv.includes('nameserver') ? resolv : hostResolvers().map((s) => `nameserver ${s}`).join('\n') + '\n');
      }
      await Promise.all([fsp.writeFile(rec.hostsPath, lines.join('\n')), fsp.writeFile(rec.resolvConfPath, resolv)]);
    }
  } catch (e) {
    await n.down(rec.id);
    throw e;
  }
  refreshView(svc, rec, ports, sandboxKey);
}

/** The container stopped: drop its ports from the record now, tear its namespace down (returned promise). */
export function networkDown(svc: ContainerService, rec: ContainerRecord): Promise<void> {
  const n = net(svc);
  if (!n || netKind(rec) !== 'bridge') return Promise.resolve();
  refreshView(svc, rec, [], '');
  return n.down(rec.id).catch((e: unknown) => svc.d.log.warn('network teardown failed', { id: rec.id, err: messageOf(e) }));
}

/** At petid start, before containers are reconciled: adopt the namespaces and ports of containers that ran. */
export async function restoreNetworking(svc: ContainerService): Promise<void> {
  const n = net(svc);
  if (!n) return;
  const running = [...svc.store.byId.values()].filter((r) => (r.state.status === 'running' || r.state.status === 'paused') && netKind(r) === 'bridge')
    .map((r) => ({ id: r.id, ports: r.networkSettings?.ports ?? [] }));
  await n.restore(running, new Set(svc.store.byId.keys()));
}

function assertConnectable(rec: ContainerRecord): void {
  const kind = netKind(rec);
  if (kind === 'host') throw new Forbidden('container cannot be disconnected from host network or connected to host network');
  if (kind !== 'bridge') throw new Forbidden('container sharing network namespace with another container or host cannot be connected to any other network');
}

/** POST /networks/{id}/connect. */
export async function connectContainer(svc: ContainerService, netRef: string, ctrRef: string, req: EndpointRequest): Promise<void> {
  const n = net(svc);
  if (!n) throw new NotFound(`network ${netRef} not found`);
  const network = n.get(netRef);
  const id = svc.store.get(ctrRef).id;
  await svc.serial(id, async () => {
    const rec = svc.store.get(id);
    assertConnectable(rec);
    if (network.driver !== 'bridge') throw new Forbidden(`container cannot be connected to the ${network.name} network`);
    const a: Attachment = await n.attach(network.id, { id: rec.id, name: rec.name }, req);
    try {
      await n.connectLive(a);
    } catch (e) {
      await n.detach(network.id, rec.id);
      throw e;
    }
    refreshView(svc, rec);
    await svc.store.save(rec);
    n.emitConnect(a, 'connect');
  });
}

/** POST /networks/{id}/disconnect; `force` also drops the endpoint of a container that no longer exists. */
export async function disconnectContainer(svc: ContainerService, netRef: string, ctrRef: string, force: boolean): Promise<void> {
  const n = net(svc);
  if (!n) throw new NotFound(`network ${netRef} not found`);
  const network = n.get(netRef);
  const rec = svc.store.find(ctrRef);
  if (!rec) {
    const ep = Object.values(network.endpoints).find((e) => e.name === ctrRef || e.containerId.startsWith(ctrRef));
    if (!force || !ep) throw new NotFound(`No such container: ${ctrRef}`, { code: 'PETI_ERR_NO_SUCH_CONTAINER' });
    const a = await n.detach(network.id, ep.containerId);
    if (a) n.emitConnect(a, 'disconnect');
    return;
  }
  await svc.serial(rec.id, async () => {
    if (netKind(rec) === 'host') assertConnectable(rec);
    if (!network.endpoints[rec.id]) throw new Forbidden(`container ${rec.id} is not connected to network ${network.name}`);
    const a = n.attachments(rec.id).find((x) => x.net.id === network.id)!;
    await n.disconnectLive(a);
    await n.detach(network.id, rec.id);
    refreshView(svc, rec);
    await svc.store.save(rec);
    n.emitConnect(a, 'disconnect');
  });
}
