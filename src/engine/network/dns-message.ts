/** The little of the DNS wire format (RFC 1035) the embedded server needs: read a query, write an answer. */

export interface DnsQuestion {
  id: number;
  flags: number;
  name: string;
  type: number;
  cls: number;
  /** Offset just past the question: the rest of the packet (EDNS records) is not echoed back. */
  end: number;
}

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const RCODE_NXDOMAIN = 3;
export const RCODE_SERVFAIL = 2;

/** The first question of a query, or undefined when the packet is not a query we can read. */
export function parseQuery(b: Buffer): DnsQuestion | undefined {
  if (b.length < 12) return undefined;
  const flags = b.readUInt16BE(2);
  if (flags & 0x8000 || b.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let o = 12;
  for (;;) {
    if (o >= b.length) return undefined;
    const n = b[o]!;
    o++;
    if (n === 0) break;
    if (n > 63 || o + n > b.length) return undefined;
    labels.push(b.subarray(o, o + n).toString('latin1'));
    o += n;
  }
  if (o + 4 > b.length) return undefined;
  return { id: b.readUInt16BE(0), flags, name: labels.join('.').toLowerCase(), type: b.readUInt16BE(o), cls: b.readUInt16BE(o + 2), end: o + 4 };
}

/** An answer to `q` (copied from the query): A records for `ips`, or an empty answer with `rcode`. */
export function buildAnswer(query: Buffer, q: DnsQuestion, ips: string[], rcode = 0, ttl = 600): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(q.id, 0);
  // QR, opcode and RD from the query, AA (we are the authority for container names), RA.
  head.writeUInt16BE(0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0080 | (rcode & 0xf), 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(ips.length, 6);
  const question = query.subarray(12, q.end);
  const answers = ips.map((ip) => {
    const a = Buffer.alloc(16);
    a.writeUInt16BE(0xc00c, 0); // pointer to the name in the question
    a.writeUInt16BE(TYPE_A, 2);
    a.writeUInt16BE(1, 4);
    a.writeUInt32BE(ttl, 6);
    a.writeUInt16BE(4, 10);
    ip.split('.').forEach((x, i) => a.writeUInt8(Number(x), 12 + i));
    return a;
  });
  return Buffer.concat([head, question, ...answers]);
}
