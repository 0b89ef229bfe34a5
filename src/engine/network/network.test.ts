import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allocate } from './ipam.js';
import { renderRuleset } from './nftables.js';
import { buildAnswer, parseQuery } from './dns-message.js';
import { portRequests } from './ports.js';
import { pickSubnet } from './config.js';
import { parseCidr } from './cidr.js';
import type { NetworkRecord } from './types.js';

const net = (ipRange?: string): NetworkRecord => ({
  id: 'a'.repeat(64), name: 'n', created: '', driver: 'bridge', bridge: 'ptx', internal: false, attachable: false, labels: {}, options: {},
  predefined: false, endpoints: {}, cursor: 0, ipam: [{ Subnet: '10.1.2.0/29', Gateway: '10.1.2.1', ...(ipRange ? { IPRange: ipRange } : {}) }],
});
const take = (n: NetworkRecord, ip: string): void => {
  n.endpoints[ip] = { containerId: ip, name: ip, endpointId: '', ip, mac: '', aliases: [], ifname: 'eth0', hostIf: '' };
};

describe('network: IPAM', () => {
  it('hands out addresses in order, skips gateway/network/broadcast, reuses freed ones only after a wrap, and fills up', () => {
    const n = net();
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      const ip = allocate(n);
      take(n, ip);
      got.push(ip);
    }
    assert.deepEqual(got, ['10.1.2.2', '10.1.2.3', '10.1.2.4', '10.1.2.5', '10.1.2.6']);
    assert.throws(() => allocate(n), /no available IPv4 addresses/);
    delete n.endpoints['10.1.2.3'];
    assert.equal(allocate(n), '10.1.2.3');
  });
  it('static addresses: in the subnet, free, not the gateway', () => {
    const n = net();
    take(n, '10.1.2.4');
    assert.equal(allocate(n, '10.1.2.5'), '10.1.2.5');
    assert.throws(() => allocate(n, '10.1.2.4'), /Address already in use/);
    assert.throws(() => allocate(n, '10.1.2.1'), /Address already in use/);
    assert.throws(() => allocate(n, '10.9.9.9'), /no configured subnet/);
  });
  it('dynamic addresses come from the IP range', () => {
    assert.equal(allocate(net('10.1.2.4/30')), '10.1.2.4');
  });
  it('a new network avoids used subnets and routes', () => {
    assert.equal(pickSubnet([parseCidr('10.89.0.0/24'), parseCidr('10.89.1.0/24')]), '10.89.2.0/24');
    assert.equal(pickSubnet([parseCidr('10.89.0.0/16')]), '10.90.0.0/24');
  });
});

describe('network: nft ruleset', () => {
  it('replaces only its own table, DNATs published ports, masquerades, isolates bridges and internal networks', () => {
    const s = renderRuleset('peti_t', [
      { name: 'b0', subnet: '10.1.0.0/24', gateway: '10.1.0.1', internal: false, dns: false },
      { name: 'b1', subnet: '10.1.1.0/24', gateway: '10.1.1.1', internal: true, dns: true },
    ], [{ containerIp: '10.1.0.2', mapping: { containerPort: 80, proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 } }]);
    assert.match(s, /^table ip peti_t\ndelete table ip peti_t\ntable ip peti_t \{/);
    assert.doesNotMatch(s.replace(/peti_t/g, ''), /table (ip|inet) \w/);
    assert.match(s, /ip daddr 127\.0\.0\.1 tcp dport 8080 dnat to 10\.1\.0\.2:80/);
    assert.match(s, /ip saddr 10\.1\.0\.0\/24 oifname != "b0" masquerade/);
    assert.doesNotMatch(s, /ip saddr 10\.1\.1\.0\/24 oifname != "b1" masquerade/);
    assert.match(s, /iifname "b1" oifname != "b1" drop/);
    assert.match(s, /iifname "b0" oifname "b1" drop/);
    assert.match(s, /ip daddr 10\.1\.1\.1 .*dport 53 iifname != \{ "b1", "lo" \} drop/);
  });
});

describe('network: DNS messages', () => {
  it('reads a query and answers with A records', () => {
    const q = Buffer.from('12340100000100000000000003646232000001000100', 'hex');
    const p = parseQuery(q)!;
    assert.deepEqual({ id: p.id, name: p.name, type: p.type }, { id: 0x1234, name: 'db2', type: 1 });
    const a = buildAnswer(q, p, ['10.1.2.3']);
    assert.equal(a.readUInt16BE(0), 0x1234);
    assert.equal(a.readUInt16BE(2) & 0x8000, 0x8000);
    assert.equal(a.readUInt16BE(6), 1);
    assert.deepEqual([...a.subarray(a.length - 4)], [10, 1, 2, 3]);
    assert.equal(parseQuery(Buffer.alloc(5)), undefined);
  });
});

describe('network: port requests', () => {
  it('PortBindings and -P over ExposedPorts', () => {
    const r = portRequests({ '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostPort: '5300-5310' }] }, true, { '80/tcp': {}, '7000/tcp': {} });
    assert.deepEqual(r, [
      { containerPort: 80, proto: 'tcp', hostIp: '0.0.0.0', hostPort: '8080' },
      { containerPort: 80, proto: 'tcp', hostIp: '127.0.0.1', hostPort: '' },
      { containerPort: 53, proto: 'udp', hostIp: '0.0.0.0', hostPort: '5300-5310' },
      { containerPort: 7000, proto: 'tcp', hostIp: '0.0.0.0', hostPort: '' },
    ]);
    assert.throws(() => portRequests({ '99999/tcp': [{}] }, false, {}), /invalid port/);
  });
});
