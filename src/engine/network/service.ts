import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Conflict, Forbidden, InvalidArgument, messageOf } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { EventBus } from '../events/index.js';
import { macFor, ipToInt, parseCidr } from './cidr.js';
import { BRIDGE_NAME_OPTION, defaultBridgeIpam, matchNetwork, newNetwork } from './config.js';
import { DnsServer } from './dns.js';
import { allocate } from './ipam.js';
import { applyRuleset, type BridgeRules, type PortRule } from './nftables.js';
import { resolvePorts, type PortRequest } from './ports.js';
import { addLink, createSandbox, destroySandbox, removeLink, type SandboxLink } from './sandbox.js';
import { bridgePorts, deleteBridge, enableForwarding, ensureBridge } from './bridge.js';
import { NetworkStore } from './store.js';
import type { CreateNetworkRequest, EndpointRecord, EndpointRequest, NetworkRecord, NetworkView, PortMapping } from './types.js';

export interface NetworkServiceOptions {
  dataRoot: string;
  execRoot: string;
  log: Logger;
  events: EventBus;
  /** Linux bridge of the default `bridge` network (`petid --bridge`, default peti0). */
  bridge?: string;
  /** Gateway address and prefix of the default network (`petid --bip`, default 10.99.0.1/16). */
  bip?: string;
  /** Sandboxes kept ready on the default bridge for the next containers (default 2; 0: none). */
  sandboxPool?: number;
}

export interface Attachment {
  net: NetworkRecord;
  ep: EndpointRecord;
}

const isBridge = (n: NetworkRecord): boolean => n.driver === 'bridge';
const ifIndex = (ifname: string): number => Number(ifname.replace(/^eth/, ''));
const POOL_REFILL_DELAY_MS = 150;
/** After a removal: while the client that removed it winds down (the next `docker run` is a new process). */
const POOL_REFILL_AFTER_RM_MS = 25;
/** A stopped container's namespace is released this long after the exit (see down). */
const TEARDOWN_DELAY_MS = 20;
const hostIfFor = (containerId: string, netId: string): string => `veth${createHash('sha256').update(`${containerId}/${netId}`).digest('hex').slice(0, 11)}`;

/**
 * Networks, their IPAM state, the containers' network namespaces (sandboxes), the nftables table and the embedded
 * DNS servers. The containers service drives it: attach/detach at create/connect/rm, up/down at start/exit.
 */
export class NetworkService {
  readonly store: NetworkStore;
  /** Peti's nftables table (`ip peti` for the default bridge peti0; one per bridge name, so test daemons never meet). */
  readonly table: string;
  readonly defaultBridge: string;
  private readonly bip: string;
  private readonly netnsDir: string;
  /** Containers whose sandbox is up (running), with their published ports. */
  private readonly sandboxes = new Map<string, PortMapping[]>();
  private readonly dns = new Map<string, DnsServer>();
  private nftQueue: Promise<void> = Promise.resolve();
  /**
   * The sandbox pool. Building a namespace with its veth costs ~10 ms of the run path; on the default bridge it is
   * done ahead: each ready entry is a namespace with its address, route and bridge port, under the ID the next
   * eligible container create takes as its own (so every path, file and name is the one it would have had).
   * `taken`: created containers whose start will find their namespace ready.
   */
  private readonly ready: string[] = [];
  private readonly taken = new Set<string>();
  private filling: Promise<void> | undefined;
  /** Namespaces being released (down), by container. */
  private readonly teardowns = new Map<string, { done: Promise<void>; now: () => void }>();
  private refillTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly poolSize: number;

  constructor(private readonly o: NetworkServiceOptions) {
    this.store = new NetworkStore(join(o.dataRoot, 'networks'));
    this.defaultBridge = o.bridge ?? 'peti0';
    this.bip = o.bip ?? '10.99.0.1/16';
    this.table = this.defaultBridge === 'peti0' ? 'peti' : `peti_${this.defaultBridge.replace(/[^a-zA-Z0-9_]/g, '_')}`;
    this.netnsDir = join(o.execRoot, 'netns');
    this.poolSize = o.sandboxPool ?? 2;
  }

  /** Load records, make the predefined networks and the bridges exist, start the DNS servers. */
  async init(): Promise<void> {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/.test(this.defaultBridge)) throw new InvalidArgument(`invalid --bridge ${this.defaultBridge}: at most 15 characters of [a-zA-Z0-9_.-]`);
    const ipam = defaultBridgeIpam(this.bip);
    await fsp.mkdir(this.netnsDir, { recursive: true, mode: 0o700 });
    await this.store.init();
    for (const [name, driver] of [['bridge', 'bridge'], ['host', 'host'], ['none', 'null']] as const) {
      let rec = this.store.byName(name);
      if (!rec) {
        rec = {
          id: randomBytes(32).toString('hex'), name, created: new Date().toISOString(), driver, bridge: '', ipam: [], internal: false,
          attachable: false, labels: {}, options: {}, predefined: true, endpoints: {}, cursor: 0,
        };
      }
      if (name === 'bridge') {
        rec.bridge = this.defaultBridge;
        rec.ipam = [ipam];
        rec.options = {
          'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true',
          'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
          [BRIDGE_NAME_OPTION]: this.defaultBridge, 'com.docker.network.driver.mtu': '1500',
        };
      }
      await this.store.save(rec);
    }
    await enableForwarding(this.o.log);
    for (const n of this.store.byId.values()) {
      if (!isBridge(n)) continue;
      await ensureBridge(n.bridge, this.gatewayCidr(n));
      if (!n.predefined) await this.startDns(n);
    }
  }

  /** Stop the DNS servers and release the pool's sandboxes (containers' own stay: they keep running). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refillTimer);
    for (const d of this.dns.values()) d.close();
    this.dns.clear();
    await this.filling;
    for (const t of this.teardowns.values()) t.now();
    await Promise.all([...this.teardowns.values()].map((t) => t.done));
    const ids = this.ready.splice(0);
    const net = this.store.byName('bridge');
    if (ids.length === 0 || !net) return;
    await Promise.all(ids.map((id) => destroySandbox(this.netnsPath(id), [net.endpoints[id]?.hostIf ?? hostIfFor(id, net.id)], true)));
    for (const id of ids) delete net.endpoints[id];
    await this.store.save(net);
  }

  // ---- sandbox pool ---------------------------------------------------------------------------------------------

  /**
   * An ID whose sandbox on the default bridge is ready, for a container that joins only that network with no
   * address of its own choosing; undefined when the pool is empty. The pool refills in the background.
   */
  takeSandbox(): string | undefined {
    const id = this.ready.shift();
    if (id !== undefined) this.taken.add(id);
    // Refilling competes for the CPU with the start it serves: it waits for a container's removal (a `run --rm`
    // ends within moments), or a short while, unless the pool ran dry.
    if (this.ready.length === 0) this.refill();
    else this.refillTimer ??= setTimeout(() => this.refill(), POOL_REFILL_DELAY_MS).unref();
    return id;
  }

  private refill(): void {
    clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    if (this.filling || this.closed || this.ready.length >= this.poolSize) return;
    this.filling = (async () => {
      while (!this.closed && this.ready.length < this.poolSize) if (!(await this.prepareOne())) break;
    })().catch((e: unknown) => this.o.log.warn('sandbox pool not refilled', { err: messageOf(e) })).finally(() => { this.filling = undefined; });
  }

  /** One more ready sandbox; false when there is no default bridge to make it on. */
  private async prepareOne(): Promise<boolean> {
    const net = this.store.byName('bridge');
    if (!net || !isBridge(net)) return false;
    const id = randomBytes(32).toString('hex');
    const ip = allocate(net);
    const ep: EndpointRecord = {
      containerId: id, name: '', endpointId: randomBytes(32).toString('hex'), ip, mac: macFor(ipToInt(ip)), aliases: [], ifname: 'eth0',
      hostIf: hostIfFor(id, net.id), pool: true,
    };
    net.endpoints[id] = ep;
    try {
      await this.store.save(net);
      await createSandbox(this.netnsPath(id), [this.link({ net, ep })], net.ipam[0]!.Gateway);
    } catch (e) {
      delete net.endpoints[id];
      await this.store.save(net).catch(() => undefined);
      throw e;
    }
    this.ready.push(id);
    return true;
  }

  netnsPath(containerId: string): string {
    return join(this.netnsDir, containerId);
  }

  private gatewayCidr(n: NetworkRecord): string {
    return `${n.ipam[0]!.Gateway}/${parseCidr(n.ipam[0]!.Subnet).prefix}`;
  }

  // ---- networks -------------------------------------------------------------------------------------------------

  async create(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }> {
    const rec = newNetwork(req, [...this.store.byId.values()]);
    await ensureBridge(rec.bridge, this.gatewayCidr(rec));
    try {
      await this.store.save(rec);
      await this.startDns(rec);
      await this.syncRules();
    } catch (e) {
      this.dns.get(rec.id)?.close();
      this.dns.delete(rec.id);
      await this.store.delete(rec.id);
      await deleteBridge(rec.bridge);
      throw e;
    }
    this.emit(rec, 'create');
    return { Id: rec.id, Warning: '' };
  }

  list(filters: Record<string, string[]> = {}): NetworkRecord[] {
    return [...this.store.byId.values()].filter((n) => matchNetwork(n, filters)).sort((a, b) => a.created.localeCompare(b.created));
  }

  get(ref: string): NetworkRecord {
    return this.store.get(ref);
  }

  async remove(ref: string): Promise<void> {
    const n = this.store.get(ref);
    if (n.predefined) throw new Forbidden(`${n.name} is a pre-defined network and cannot be removed`);
    const eps = Object.values(n.endpoints);
    if (eps.length > 0) {
      throw new Forbidden(`error while removing network: network ${n.name} id ${n.id} has active endpoints (${eps.map((e) => `name:"${e.name}" id:"${e.containerId.slice(0, 12)}"`).join(', ')})`);
    }
    this.dns.get(n.id)?.close();
    this.dns.delete(n.id);
    await this.store.delete(n.id);
    await deleteBridge(n.bridge);
    await this.syncRules();
    this.emit(n, 'destroy');
  }

  async prune(filters: Record<string, string[]> = {}): Promise<string[]> {
    const out: string[] = [];
    for (const n of this.list(filters)) {
      if (n.predefined || Object.keys(n.endpoints).length > 0) continue;
      await this.remove(n.id);
      out.push(n.name);
    }
    return out;
  }

  private emit(n: NetworkRecord, action: string, extra: Record<string, string> = {}): void {
    this.o.events.emit('network', action, n.id, { name: n.name, type: n.driver, ...extra });
  }

  // ---- endpoints (IPAM) -----------------------------------------------------------------------------------------

  /** Give a container an address on a bridge network (persisted before it returns; never handed out twice). */
  async attach(ref: string, ctr: { id: string; name: string }, req: EndpointRequest = {}): Promise<Attachment> {
    const net = this.store.get(ref);
    if (!isBridge(net)) throw new Forbidden(`container cannot be connected to the ${net.name} network`);
    const pooled = net.endpoints[ctr.id];
    if (pooled?.pool && !req.ip && !req.mac && !(req.aliases && req.aliases.length > 0)) {
      // The container took a pool sandbox's ID: its address is this one, reserved on disk already. The claim is
      // saved in the background (restore keeps a pool endpoint whose container exists).
      pooled.name = ctr.name;
      delete pooled.pool;
      this.store.save(net).catch((e: unknown) => this.o.log.warn('network record not saved', { network: net.name, err: messageOf(e) }));
      return { net, ep: pooled };
    }
    if (net.endpoints[ctr.id]) throw new Forbidden(`endpoint with name ${ctr.name} already exists in network ${net.name}`);
    if (net.predefined && req.ip) throw new InvalidArgument('user specified IP address is supported on user defined networks only');
    if (net.predefined && req.aliases && req.aliases.length > 0) throw new InvalidArgument('network-scoped alias is supported only for containers in user defined networks');
    const used = new Set(this.attachments(ctr.id).map((a) => ifIndex(a.ep.ifname)));
    let idx = 0;
    while (used.has(idx)) idx++;
    if (req.mac !== undefined && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(req.mac)) throw new InvalidArgument(`invalid MAC address: ${req.mac}`);
    if (req.mac !== undefined && (parseInt(req.mac.slice(0, 2), 16) & 1) === 1) throw new InvalidArgument(`invalid MAC address ${req.mac}: a multicast address cannot be an interface's`);
    const ip = allocate(net, req.ip);
    const ep: EndpointRecord = {
      containerId: ctr.id, name: ctr.name, endpointId: randomBytes(32).toString('hex'), ip, mac: req.mac?.toLowerCase() ?? macFor(ipToInt(ip)),
      aliases: [...new Set(req.aliases ?? [])], ...(req.ip ? { requestedIp: req.ip } : {}), ifname: `eth${idx}`,
      hostIf: hostIfFor(ctr.id, net.id),
    };
    net.endpoints[ctr.id] = ep;
    await this.store.save(net);
    return { net, ep };
  }

  /** Free the container's address on a network. */
  async detach(ref: string, containerId: string): Promise<Attachment | undefined> {
    const net = this.store.get(ref);
    const ep = net.endpoints[containerId];
    if (!ep) return undefined;
    delete net.endpoints[containerId];
    await this.store.save(net);
    return { net, ep };
  }

  /** Free all of a container's addresses (a failed create). */
  async detachAll(containerId: string): Promise<void> {
    for (const a of this.attachments(containerId)) await this.detach(a.net.id, containerId);
  }

  /**
   * Container removal: its addresses are free at once; the records reach the disk moments later (should petid die
   * first, restore drops the endpoints of containers that no longer exist). Then the pool refills, if it waits.
   */
  release(containerId: string): void {
    for (const a of this.attachments(containerId)) {
      delete a.net.endpoints[containerId];
      this.store.save(a.net).catch((e: unknown) => this.o.log.warn('network record not saved', { network: a.net.name, err: messageOf(e) }));
    }
    if (this.refillTimer) {
      clearTimeout(this.refillTimer);
      this.refillTimer = setTimeout(() => this.refill(), POOL_REFILL_AFTER_RM_MS).unref();
    }
  }

  /** `docker rename`: the endpoints carry the new name (the embedded DNS answers it from now on). */
  async rename(containerId: string, name: string): Promise<void> {
    for (const a of this.attachments(containerId)) {
      a.ep.name = name;
      await this.store.save(a.net);
    }
  }

  /** The container's endpoints in interface order (eth0 first). */
  attachments(containerId: string): Attachment[] {
    return [...this.store.byId.values()].flatMap((net) => (net.endpoints[containerId] ? [{ net, ep: net.endpoints[containerId] }] : []))
      .sort((a, b) => ifIndex(a.ep.ifname) - ifIndex(b.ep.ifname));
  }

  /** The container's networks as inspect shows them; `mode` host/none name the predefined network instead. */
  views(containerId: string, mode?: 'host' | 'none'): NetworkView[] {
    if (mode) {
      const n = this.store.byName(mode);
      return n ? [{ name: n.name, networkId: n.id, endpointId: '', ip: '', prefixLen: 0, gateway: '', mac: '', aliases: [], dnsNames: [] }] : [];
    }
    return this.attachments(containerId).map(({ net, ep }) => ({
      name: net.name, networkId: net.id, endpointId: ep.endpointId, ip: ep.ip, prefixLen: parseCidr(net.ipam[0]!.Subnet).prefix,
      gateway: net.ipam[0]!.Gateway, mac: ep.mac, aliases: ep.aliases,
      dnsNames: net.predefined ? [] : [ep.name, containerId.slice(0, 12), ...ep.aliases],
      ...(ep.requestedIp ? { requestedIp: ep.requestedIp } : {}),
    }));
  }

  emitConnect(a: Attachment, action: 'connect' | 'disconnect'): void {
    this.emit(a.net, action, { container: a.ep.containerId });
  }

  // ---- sandboxes ------------------------------------------------------------------------------------------------

  private link(a: Attachment): SandboxLink {
    return { ifname: a.ep.ifname, hostIf: a.ep.hostIf, mac: a.ep.mac, ip: a.ep.ip, prefix: parseCidr(a.net.ipam[0]!.Subnet).prefix, bridge: a.net.bridge };
  }

  /** Where published ports lead: the container's address on its first network with outside access. */
  private portTarget(containerId: string): string | undefined {
    return this.attachments(containerId).find((a) => !a.net.internal)?.ep.ip;
  }

  /**
   * Build the running container's namespace: veths on its networks, default route, published ports (host ports
   * chosen and checked now; Conflict when taken). Returns the namespace path and the resolved ports.
   */
  async up(containerId: string, portReqs: PortRequest[]): Promise<{ sandboxKey: string; ports: PortMapping[] }> {
    const atts = this.attachments(containerId);
    const path = this.netnsPath(containerId);
    const target = this.portTarget(containerId);
    if (portReqs.length > 0 && !target) throw new InvalidArgument('ports cannot be published: the container is on no network with outside access');
    const taken = [...this.sandboxes.entries()].filter(([id]) => id !== containerId).flatMap(([, p]) => p);
    const ports = portReqs.length > 0 ? resolvePorts(portReqs, taken, target!) : [];
    // A sandbox taken from the pool is ready unless the container's networks changed since its create.
    const prepared = this.taken.delete(containerId) && atts.length === 1 && atts[0]!.net.name === 'bridge' && atts[0]!.net.predefined && existsSync(path);
    if (!prepared) {
      const t = this.teardowns.get(containerId);
      t?.now();
      await t?.done;
      await destroySandbox(path, atts.map((a) => a.ep.hostIf));
      const gw = atts.find((a) => !a.net.internal)?.net.ipam[0]!.Gateway;
      await createSandbox(path, atts.map((a) => this.link(a)), gw);
    }
    this.sandboxes.set(containerId, ports);
    if (ports.length > 0) {
      try {
        await this.syncRules();
      } catch (e) {
        await this.down(containerId);
        throw e;
      }
    }
    return { sandboxKey: path, ports };
  }

  /** Tear down the namespace and the container's port rules (exit, stop). Idempotent. */
  async down(containerId: string): Promise<void> {
    const ports = this.sandboxes.get(containerId);
    this.sandboxes.delete(containerId);
    this.taken.delete(containerId);
    // The namespace goes in the background (an unmount, and the kernel's teardown of the namespace), shortly after:
    // not while the exit and removal it follows are still on someone's clock. The next up() of this container, and
    // close(), run it at once and wait for it.
    if (!this.teardowns.has(containerId)) {
      const hostIfs = this.attachments(containerId).map((a) => a.ep.hostIf);
      let start!: () => void;
      const begun = new Promise<void>((resolve) => { start = resolve; });
      const timer = setTimeout(start, TEARDOWN_DELAY_MS);
      const done = begun.then(() => destroySandbox(this.netnsPath(containerId), hostIfs))
        .catch((e: unknown) => this.o.log.warn('namespace teardown failed', { id: containerId, err: messageOf(e) }))
        .finally(() => this.teardowns.delete(containerId));
      this.teardowns.set(containerId, { done, now: () => { clearTimeout(timer); start(); } });
    }
    if (ports && ports.length > 0) await this.syncRules().catch((e: unknown) => this.o.log.warn('nft sync failed', { err: messageOf(e) }));
  }

  isUp(containerId: string): boolean {
    return this.sandboxes.has(containerId);
  }

  /** network connect on a running container: one more veth into its namespace. */
  async connectLive(a: Attachment): Promise<void> {
    if (!this.sandboxes.has(a.ep.containerId)) return;
    const others = this.attachments(a.ep.containerId).filter((x) => x.net.id !== a.net.id && !x.net.internal);
    await addLink(this.netnsPath(a.ep.containerId), this.link(a), others.length === 0 && !a.net.internal ? a.net.ipam[0]!.Gateway : undefined);
  }

  async disconnectLive(a: Attachment): Promise<void> {
    if (this.sandboxes.has(a.ep.containerId)) await removeLink(a.ep.hostIf);
  }

  /**
   * After petid (re)starts and the containers are reconciled: adopt the running containers' sandboxes and ports,
   * drop endpoints of containers that no longer exist, remove leftover namespaces and veths, rebuild the table.
   */
  async restore(running: { id: string; ports: PortMapping[] }[], existing: Set<string>): Promise<void> {
    for (const r of running) this.sandboxes.set(r.id, r.ports);
    for (const n of this.store.byId.values()) {
      // Pool entries of an earlier petid are stale, unless a container took the ID before the claim was saved.
      const claimed = Object.values(n.endpoints).filter((e) => e.pool && existing.has(e.containerId));
      for (const e of claimed) delete e.pool;
      const stale = Object.keys(n.endpoints).filter((id) => !existing.has(id));
      if (stale.length === 0 && claimed.length === 0) continue;
      for (const id of stale) delete n.endpoints[id];
      await this.store.save(n);
    }
    for (const f of await fsp.readdir(this.netnsDir).catch(() => [] as string[])) {
      if (!this.sandboxes.has(f)) await destroySandbox(join(this.netnsDir, f), this.attachments(f).map((a) => a.ep.hostIf));
    }
    const live = new Set([...this.sandboxes.keys()].flatMap((id) => this.attachments(id).map((a) => a.ep.hostIf)));
    for (const n of this.store.byId.values()) {
      if (!isBridge(n)) continue;
      for (const port of await bridgePorts(n.bridge)) {
        if (!live.has(port)) await removeLink(port);
      }
    }
    await this.syncRules();
    this.refill();
  }

  /** Rebuild Peti's nft table from the current state; changes are queued, each applies the state of its turn. */
  syncRules(): Promise<void> {
    const next = this.nftQueue.catch(() => undefined).then(() => {
      const bridges: BridgeRules[] = [...this.store.byId.values()].filter(isBridge).map((n) => ({
        name: n.bridge, subnet: n.ipam[0]!.Subnet, gateway: n.ipam[0]!.Gateway, internal: n.internal, dns: !n.predefined,
      }));
      const ports: PortRule[] = [...this.sandboxes.entries()].flatMap(([id, list]) => {
        const ip = this.portTarget(id);
        return ip ? list.map((mapping) => ({ containerIp: ip, mapping })) : [];
      });
      return applyRuleset(this.table, bridges, ports);
    });
    this.nftQueue = next;
    return next;
  }

  // ---- DNS ------------------------------------------------------------------------------------------------------

  private async startDns(n: NetworkRecord): Promise<void> {
    const server = new DnsServer(n.ipam[0]!.Gateway, (name, from) => this.resolve(n.id, name, from), this.o.log.child({ svc: 'dns', network: n.name }));
    try {
      await server.start();
      this.dns.set(n.id, server);
    } catch (e) {
      throw new Conflict(`cannot start the embedded DNS server of network ${n.name} on ${n.ipam[0]!.Gateway}:53: ${messageOf(e)}`);
    }
  }

  /**
   * Addresses of running containers called `name` (container name, alias or short ID) on network `netId`, or, when
   * the asker (`from`, its address on that network) is a container, on any network it shares with them.
   */
  resolve(netId: string, name: string, from?: string): string[] | undefined {
    const n = this.store.byId.get(netId);
    if (!n) return undefined;
    const asker = from ? Object.values(n.endpoints).find((e) => e.ip === from) : undefined;
    const nets = asker ? this.attachments(asker.containerId).map((a) => a.net).filter((x) => !x.predefined) : [n];
    const hits: string[] = [];
    for (const net of nets) {
      for (const e of Object.values(net.endpoints)) {
        if (!this.sandboxes.has(e.containerId)) continue;
        if (e.name.toLowerCase() === name || e.containerId.slice(0, 12) === name || e.aliases.some((a) => a.toLowerCase() === name)) hits.push(e.ip);
      }
    }
    return hits.length > 0 ? [...new Set(hits)] : undefined;
  }
}
