import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import type { Logger } from '../../lib/log.js';
import { messageOf } from '../../lib/errors.js';
import { RCODE_NXDOMAIN, RCODE_SERVFAIL, TYPE_A, buildAnswer, parseQuery } from './dns-message.js';

/** Names a network's DNS answers: container names, aliases and short IDs → addresses. */
export type NameLookup = (name: string, from?: string) => string[] | undefined;

/** The host's resolvers, where names that are not containers' go (loopback ones work: petid is on the host). */
export function hostResolvers(text?: string): string[] {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      t = '';
    }
  }
  const out = t.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[0] === 'nameserver' && f[1] && isIPv4(f[1])).map((f) => f[1]!);
  return out.length > 0 ? out : ['8.8.8.8', '8.8.4.4'];
}

/**
 * The embedded DNS server of one user network, on the network's gateway address port 53 (UDP and TCP): containers
 * get `nameserver <gateway>`. One socket pair per network instead of Docker's 127.0.0.11 inside each container:
 * nothing to set up per container (no nft rules in every namespace), and the gateway is the one address every
 * container of the network reaches. Answers A queries for names on the network; everything else is forwarded.
 */
export class DnsServer {
  private udp: Socket | undefined;
  private tcp: Server | undefined;

  constructor(private readonly address: string, private readonly lookup: NameLookup, private readonly log: Logger) {}

  async start(): Promise<void> {
    const udp = createSocket({ type: 'udp4', reuseAddr: true });
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, rinfo.address).then((r) => { if (r) udp.send(r, rinfo.port, rinfo.address); });
    });
    udp.on('error', (e) => this.log.warn('dns udp error', { address: this.address, err: e.message }));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(53, this.address, () => { udp.off('error', reject); resolve(); });
    });
    this.udp = udp;
    const tcp = createServer((s) => this.serveTcp(s));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(53, this.address, () => { tcp.off('error', reject); resolve(); });
    });
    this.tcp = tcp;
  }

  close(): void {
    this.udp?.close();
    this.tcp?.close();
    this.udp = undefined;
    this.tcp = undefined;
  }

  private serveTcp(s: TcpSocket): void {
    let buf = Buffer.alloc(0);
    s.setTimeout(10_000, () => s.destroy());
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(msg, s.remoteAddress?.replace(/^::ffff:/, '')).then((r) => {
          if (!r || s.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(r.length);
          s.write(Buffer.concat([len, r]));
        });
      }
    });
  }

  /** The reply to one query packet (undefined: drop it). */
  async answer(msg: Buffer, from?: string): Promise<Buffer | undefined> {
    const q = parseQuery(msg);
    if (!q) return undefined;
    const name = q.name.replace(/\.$/, '');
    const ips = this.lookup(name, from);
    if (ips && ips.length > 0) {
      // A container name: A records, and an empty NOERROR answer for other types (so AAAA does not go upstream).
      return buildAnswer(msg, q, q.type === TYPE_A ? ips : []);
    }
    // A single-label name no container has: Docker answers it locally too.
    if (!name.includes('.') && name !== '') return buildAnswer(msg, q, [], RCODE_NXDOMAIN);
    return this.forward(msg, q);
  }

  private async forward(msg: Buffer, q: ReturnType<typeof parseQuery> & object): Promise<Buffer> {
    for (const server of hostResolvers()) {
      try {
        return await udpQuery(server, msg, 2000);
      } catch (e) {
        this.log.debug('dns forward failed', { server, err: messageOf(e) });
      }
    }
    return buildAnswer(msg, q, [], RCODE_SERVFAIL);
  }
}

function udpQuery(server: string, msg: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('timeout')); }, timeoutMs);
    s.on('error', (e) => { clearTimeout(t); s.close(); reject(e); });
    s.on('message', (r) => {
      if (r.length < 2 || r.readUInt16BE(0) !== msg.readUInt16BE(0)) return;
      clearTimeout(t);
      s.close();
      resolve(r);
    });
    s.send(msg, 53, server);
  });
}
