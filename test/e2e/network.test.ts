/**
 * Networking through a real petid with its own bridge and subnet: the default bridge (namespace, veth, address,
 * route, hosts/resolv.conf), none/host/container:, published ports (host, 127.0.0.1, random, ranges, udp, -P),
 * hairpin, port conflicts, user networks with the embedded DNS, isolation, --internal, connect/disconnect,
 * events, the peti CLI verbs, and a SIGKILL of petid with everything still working and nothing leaked after.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, makeBusybox, waitFor, cleanupNetwork, pooledSandboxes, type TestDaemon } from '../helpers/daemon.js';
import { removeAll } from '../helpers/containers.js';
import { freePort as freePortOn } from '../helpers/net.js';

interface Inspect {
  Id: string;
  State: { Running: boolean };
  NetworkSettings: {
    IPAddress: string; Gateway: string; SandboxKey: string;
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
    Networks: Record<string, { IPAddress: string; Gateway: string; IPPrefixLen: number; MacAddress: string; NetworkID: string; EndpointID: string; Aliases: string[] | null; DNSNames: string[] | null; IPAMConfig: { IPv4Address?: string } | null }>;
  };
}

const HTTPD = 'mkdir -p /www && echo hello-$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www';
const hostAddr = (): string => {
  const out = spawnSync('ip', ['-o', '-4', 'addr', 'show', 'scope', 'global']).stdout.toString();
  const m = out.split('\n').map((l) => /inet (\d+\.\d+\.\d+\.\d+)\//.exec(l)).find((x) => x && !l0(x[1]!));
  return m ? m[1]! : '127.0.0.1';
};
// Our own test bridges have global addresses too: the host address is one not in 10.0.0.0/8.
const l0 = (ip: string): boolean => ip.startsWith('10.');

async function get(url: string): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return r.text();
}


const freePort = (): Promise<number> => freePortOn('0.0.0.0');

function veths(bridge: string): string[] {
  try {
    return readdirSync(`/sys/class/net/${bridge}/brif`);
  } catch {
    return [];
  }
}

describe('networking: bridge, ports, user networks, DNS, restarts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peti-net-'));
  let d: TestDaemon;
  let sub: [number, number];
  const host = hostAddr();
  const docker = (...args: string[]): string => {
    const r = d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const inspect = (id: string): Promise<Inspect> => d.client.json<Inspect>('GET', `/containers/${id}/json`);
  /** A /24 for a user network of this test: beside the daemon's own one. */
  const userSubnet = (k: number): string => `10.${sub[0]}.${(sub[1] + k) % 256}.0/24`;

  before(async () => {
    d = await startDaemon({ dir });
    const m = /^10\.(\d+)\.(\d+)\.0\/24$/.exec(d.subnet)!;
    sub = [Number(m[1]), Number(m[2])];
    makeBusybox(d);
  });
  after(async () => {
    if (d) {
      await removeAll(d).catch(() => undefined);
      for (const n of await d.client.json<{ Name: string; Id: string }[]>('GET', '/networks').catch(() => [])) {
        if (!['bridge', 'host', 'none'].includes(n.Name)) await d.client.json('DELETE', `/networks/${n.Id}`).catch(() => undefined);
      }
      await d.cleanup();
      cleanupNetwork(d.dataRoot, d.bridge, d.nftTable);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('default bridge: own namespace, address from the subnet, route, hosts and resolv.conf; none, host, container:', async () => {
    const out = docker('run', '--rm', '--hostname', 'box', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf');
    const ip = /inet (\d+\.\d+\.\d+\.\d+)\/24/.exec(out)?.[1];
    assert.ok(ip && ip.startsWith(`10.${sub[0]}.${sub[1]}.`), out);
    assert.match(out, new RegExp(`default via 10\\.${sub[0]}\\.${sub[1]}\\.1 dev eth0`));
    assert.match(out, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tbox$`, 'm'));
    assert.match(out, /^nameserver /m);
    assert.doesNotMatch(out, /nameserver 127\./);

    // The pool: two sandboxes ready; a plain create takes one's ID (and address), and the pool fills up again.
    const ready = await waitFor(() => { const p = pooledSandboxes(d); return p.ids.length === 2 ? p : undefined; }, 'two pooled sandboxes', 5000);
    const pooledId = docker('create', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0');
    assert.ok(ready.ids.includes(pooledId), `${pooledId} not one of ${ready.ids.join(', ')}`);
    assert.match(docker('start', '-a', pooledId), new RegExp(`inet 10\\.${sub[0]}\\.${sub[1]}\\.\\d+/24`));
    docker('rm', pooledId);
    await waitFor(() => pooledSandboxes(d).ids.length === 2 && !pooledSandboxes(d).ids.includes(pooledId), 'the pool refilled', 5000);

    // --mac-address: the interface has it, inspect shows it; a bad one, or one with the host's network, is refused.
    const macId = docker('run', '-d', '--mac-address', '02:42:ac:11:00:99', 'busybox', 'sleep', '30');
    assert.equal(docker('exec', macId, 'cat', '/sys/class/net/eth0/address'), '02:42:ac:11:00:99');
    assert.equal((await inspect(macId)).NetworkSettings.Networks.bridge!.MacAddress, '02:42:ac:11:00:99');
    docker('rm', '-f', macId);
    assert.match(d.docker(['run', '--rm', '--mac-address', '03:42:ac:11:00:99', 'busybox', 'true']).stderr, /multicast address/);
    assert.match(d.docker(['run', '--rm', '--network', 'host', '--mac-address', '02:42:ac:11:00:99', 'busybox', 'true']).stderr, /conflicting options: mac-address and the network mode/);

    const none = docker('run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link');
    assert.deepEqual(none.split('\n').map((l) => l.split(':')[1]!.trim()), ['lo']);
    const hostNet = docker('run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link');
    assert.match(hostNet, new RegExp(`: ${d.bridge}:`));

    const id = docker('run', '-d', '--name', 'netowner', 'busybox', 'sleep', '60');
    const ownerIp = (await inspect(id)).NetworkSettings.Networks.bridge!.IPAddress;
    const shared = docker('run', '--rm', '--network', 'container:netowner', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0');
    assert.match(shared, new RegExp(`inet ${ownerIp.replace(/\./g, '\\.')}/`));
    // The joined container's hostname, /etc/hosts and /etc/resolv.conf, as Docker gives them.
    const files = docker('run', '--rm', '--network', 'container:netowner', 'busybox', 'sh', '-c', 'hostname; cat /etc/hosts');
    assert.equal(files.split('\n')[0], id.slice(0, 12));
    assert.match(files, new RegExp(`^${ownerIp.replace(/\./g, '\\.')}\t${id.slice(0, 12)}$`, 'm'));
    assert.match(d.docker(['run', '--rm', '--network', 'container:netowner', '--hostname', 'x', 'busybox', 'true']).stderr, /conflicting options: hostname and the network mode/);
    const ins = await inspect(id);
    assert.equal(ins.NetworkSettings.IPAddress, ownerIp);
    assert.equal(ins.NetworkSettings.Gateway, `10.${sub[0]}.${sub[1]}.1`);
    assert.equal(ins.NetworkSettings.Networks.bridge!.IPPrefixLen, 24);
    assert.match(ins.NetworkSettings.Networks.bridge!.MacAddress, /^02:42:/);
    docker('rm', '-f', 'netowner');
    // A stopped container with the network namespace of a removed one cannot start; Docker's wording is kept.
    assert.notEqual(d.docker(['run', '--rm', '--network', 'container:nope', 'busybox', 'true']).code, 0);
  });

  it('published ports: host address, 127.0.0.1, random, ranges, udp, -P; hairpin; docker port; conflicts; rules go at stop', async () => {
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const base = 20000 + Math.floor(Math.random() * 20000);
    const id = docker('run', '-d', '--name', 'web', '-p', `${p1}:80`, '-p', `127.0.0.1:${p2}:80`, '-p', '80', '-p', `${base}-${base + 2}:${base}-${base + 2}`,
      '-p', `${p3}:5353/udp`, '--expose', '7000', '-P', 'busybox', 'sh', '-c', HTTPD);
    const ins = await inspect(id);
    const ports = ins.NetworkSettings.Ports;
    assert.deepEqual(ports['80/tcp']!.map((b) => b.HostIp).sort(), ['0.0.0.0', '0.0.0.0', '127.0.0.1']);
    const random = ports['80/tcp']!.find((b) => b.HostIp === '0.0.0.0' && b.HostPort !== String(p1))!;
    assert.ok(Number(random.HostPort) >= 1024, JSON.stringify(ports));
    assert.deepEqual(ports[`${base + 1}/tcp`], [{ HostIp: '0.0.0.0', HostPort: String(base + 1) }]);
    assert.deepEqual(ports['5353/udp'], [{ HostIp: '0.0.0.0', HostPort: String(p3) }]);
    assert.ok(ports['7000/tcp'] && ports['7000/tcp'].length === 1, 'EXPOSEd port published by -P');
    const port = docker('port', 'web');
    assert.match(port, new RegExp(`^80/tcp -> 0\\.0\\.0\\.0:${p1}$`, 'm'));
    assert.match(port, new RegExp(`^80/tcp -> 127\\.0\\.0\\.1:${p2}$`, 'm'));
    assert.equal(docker('port', 'web', '5353/udp'), `0.0.0.0:${p3}`);
    const ps = docker('ps', '--format', '{{.Ports}}', '--filter', 'name=web');
    assert.match(ps, new RegExp(`0\\.0\\.0\\.0:${p1}->80/tcp`));

    const want = `hello-${id.slice(0, 12)}\n`;
    await waitFor(async () => (await get(`http://127.0.0.1:${p1}/`).catch(() => '')) === want, 'httpd through the published port');
    assert.equal(await get(`http://127.0.0.1:${p2}/`), want);
    assert.equal(await get(`http://${host}:${p1}/`), want);
    assert.equal(await get(`http://127.0.0.1:${random.HostPort}/`), want);
    await assert.rejects(get(`http://${host}:${p2}/`), 'a 127.0.0.1 binding is not on the host address');
    // Hairpin: another container (and the publisher itself) reach the port through the host's address.
    const req = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} ${p1}`;
    assert.match(docker('run', '--rm', 'busybox', 'sh', '-c', req), /hello-/);
    assert.match(docker('exec', 'web', 'sh', '-c', req), /hello-/);
    // UDP reaches the container's namespace (busybox has no UDP listener: one runs in the namespace from the host).
    const u = docker('run', '-d', '--name', 'udp', '-p', `${await freePort()}:9999/udp`, 'busybox', 'sleep', '60');
    const ui = await inspect(u);
    const uport = Number(ui.NetworkSettings.Ports['9999/udp']![0]!.HostPort);
    const listener = spawn('nsenter', [`--net=${ui.NetworkSettings.SandboxKey}`, process.execPath, '-e',
      "const s=require('dgram').createSocket('udp4');s.on('message',(m)=>{process.stdout.write(m);process.exit(0)});s.bind(9999,()=>process.stdout.write('ready\\n'))"]);
    let got = '';
    listener.stdout.on('data', (b: Buffer) => { got += b.toString(); });
    try {
      await waitFor(() => got.includes('ready'), 'udp listener', 5000);
      const sock = createSocket('udp4');
      await waitFor(() => {
        sock.send('ping-udp', uport, '127.0.0.1');
        return got.includes('ping-udp');
      }, 'udp datagram in the container', 5000);
      sock.close();
    } finally {
      listener.kill();
    }

    // Conflicts: a port held by another container, a port held by a host socket.
    const c1 = d.docker(['run', '-d', '--name', 'clash', '-p', `${p1}:80`, 'busybox', 'sleep', '30']);
    assert.notEqual(c1.code, 0);
    assert.match(c1.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${p1} failed: port is already allocated`));
    const srv: Server = createServer();
    const hp = await freePort();
    await new Promise<void>((r) => srv.listen(hp, '0.0.0.0', r));
    try {
      const c2 = d.docker(['run', '--rm', '-p', `${hp}:80`, 'busybox', 'true']);
      assert.notEqual(c2.code, 0);
      assert.match(c2.stderr, /address already in use/);
    } finally {
      srv.close();
    }
    docker('rm', '-f', 'clash');

    const rules = (): string => spawnSync('nft', ['list', 'table', 'ip', d.nftTable]).stdout.toString();
    assert.match(rules(), new RegExp(`tcp dport ${p1} dnat to`));
    docker('stop', '-t', '1', 'web');
    // The exit's cleanup (namespace, rules) runs right after the exit is reported.
    await waitFor(() => !new RegExp(`dport ${p1} `).test(rules()), 'the port rules to go', 5000);
    assert.deepEqual((await inspect(id)).NetworkSettings.Ports, {});
    docker('rm', '-f', 'web', 'udp');
    assert.doesNotMatch(rules(), /dnat to/);
  });

  it('user networks: create/ls/inspect, embedded DNS for names and aliases, --ip, isolation, --internal, connect/disconnect, rm, prune, events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const appId = docker('network', 'create', '--subnet', userSubnet(1), '--ip-range', userSubnet(1).replace('.0/24', '.128/25'), '--label', 'team=a', 'app');
    docker('network', 'create', '--subnet', userSubnet(2), 'other');
    docker('network', 'create', '--subnet', userSubnet(3), '--internal', 'sealed');
    assert.equal(docker('network', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}}'), 'app');
    assert.match(docker('network', 'ls'), /NETWORK ID\s+NAME\s+DRIVER\s+SCOPE[\s\S]*\bbridge\s+bridge\s+local[\s\S]*\bhost\s+host\s+local/);
    const net = JSON.parse(docker('network', 'inspect', 'app')) as [{ Id: string; Driver: string; Scope: string; IPAM: { Config: { Subnet: string; Gateway: string; IPRange: string }[] }; Labels: Record<string, string> }];
    assert.equal(net[0].Id, appId);
    assert.deepEqual(net[0].IPAM.Config, [{ Subnet: userSubnet(1), Gateway: userSubnet(1).replace('.0/24', '.1'), IPRange: userSubnet(1).replace('.0/24', '.128/25') }]);
    assert.equal(net[0].Driver, 'bridge');
    assert.equal(net[0].Labels.team, 'a');
    assert.match(d.docker(['network', 'create', 'app']).stderr, /already exists/);

    const staticIp = userSubnet(1).replace('.0/24', '.9');
    const db = docker('run', '-d', '--name', 'db', '--network', 'app', '--network-alias', 'database', '--ip', staticIp, 'busybox', 'sleep', '60');
    const dbNet = (await inspect(db)).NetworkSettings.Networks.app!;
    assert.equal(dbNet.IPAddress, staticIp);
    assert.deepEqual(dbNet.IPAMConfig, { IPv4Address: staticIp });
    assert.deepEqual(dbNet.Aliases, ['database']);
    assert.ok(dbNet.DNSNames!.includes('db') && dbNet.DNSNames!.includes('database'));
    assert.match(d.docker(['run', '--rm', '--network', 'app', '--ip', staticIp, 'busybox', 'true']).stderr, /Address already in use/);

    const look = docker('run', '--rm', '--network', 'app', 'busybox', 'sh', '-c',
      'cat /etc/resolv.conf; nslookup db; nslookup database; ping -c1 -W2 db >/dev/null && echo ping-db-ok; ip -o -4 addr show eth0');
    assert.match(look, new RegExp(`nameserver ${userSubnet(1).replace('.0/24', '.1').replace(/\./g, '\\.')}`));
    assert.equal(look.match(new RegExp(`Address: ${staticIp.replace(/\./g, '\\.')}`, 'g'))?.length, 2, look);
    assert.match(look, /ping-db-ok/);
    // Dynamic addresses come from the --ip-range.
    assert.match(look, new RegExp(`inet 10\\.${sub[0]}\\.${(sub[1] + 1) % 256}\\.(12[89]|1[3-9]\\d|2\\d\\d)/24`));
    // Another network: no name, no route to db.
    const iso = d.docker(['run', '--rm', '--network', 'other', 'busybox', 'sh', '-c', `nslookup db; ping -c1 -W1 ${staticIp}`]);
    assert.notEqual(iso.code, 0);
    assert.doesNotMatch(iso.stdout, new RegExp(`Address: ${staticIp.replace(/\./g, '\\.')}`));
    // --internal: no way out (the host's address is outside), the network's own peers are fine.
    const sealed = d.docker(['run', '--rm', '--network', 'sealed', 'busybox', 'sh', '-c', `ping -c1 -W1 ${host}`]);
    assert.notEqual(sealed.code, 0);
    assert.equal(d.docker(['run', '--rm', '--network', 'other', 'busybox', 'ping', '-c1', '-W2', host]).code, 0, 'a normal network reaches out');

    // connect (with an alias) and disconnect a running container.
    const web = docker('run', '-d', '--name', 'webx', 'busybox', 'sleep', '60');
    docker('network', 'connect', '--alias', 'webalias', 'app', 'webx');
    assert.match(docker('exec', 'webx', 'ip', '-o', '-4', 'addr'), /eth1 +inet 10\./);
    assert.match(docker('run', '--rm', '--network', 'app', 'busybox', 'nslookup', 'webalias'), /Address: 10\./);
    assert.ok((await inspect(web)).NetworkSettings.Networks.app);
    assert.match(d.docker(['network', 'rm', 'app']).stderr, /has active endpoints/);
    // A renamed container answers to its new name.
    docker('rename', 'webx', 'webr');
    assert.match(docker('run', '--rm', '--network', 'app', 'busybox', 'nslookup', 'webr'), /Address: 10\./);
    assert.notEqual(d.docker(['run', '--rm', '--network', 'app', 'busybox', 'nslookup', 'webx']).code, 0);
    docker('rename', 'webr', 'webx');
    docker('network', 'disconnect', 'app', 'webx');
    assert.doesNotMatch(docker('exec', 'webx', 'ip', '-o', 'link'), /eth1/);
    assert.equal((await inspect(web)).NetworkSettings.Networks.app, undefined);
    docker('rm', '-f', 'webx', 'db');

    assert.equal(docker('network', 'rm', 'other'), 'other');
    assert.match(docker('network', 'prune', '-f'), /Deleted Networks:\n(app\nsealed|sealed\napp)$/);
    assert.equal(docker('network', 'ls', '-q', '--filter', 'type=custom'), '');
    const evs = docker('events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}}');
    for (const e of ['create app', 'connect app', 'disconnect app', 'destroy other', 'destroy app']) assert.ok(evs.split('\n').includes(e), `${e} in\n${evs}`);
  });

  it('peti CLI: network create/ls/inspect/connect/disconnect/rm, port, run -p --network --network-alias', async () => {
    const peti = (...args: string[]): string => {
      const r = d.peti(args);
      assert.equal(r.code, 0, `peti ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const id = peti('network', 'create', '--subnet', userSubnet(4), '--gateway', userSubnet(4).replace('.0/24', '.254'), '-o', `com.docker.network.bridge.name=${d.bridge}x`, 'pnet');
    assert.match(id, /^[a-f0-9]{64}$/);
    assert.ok(existsSync(`/sys/class/net/${d.bridge}x`), 'the bridge name option is honoured');
    assert.match(peti('network', 'ls', '--filter', 'name=pnet'), /NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n[a-f0-9]{12}\s+pnet\s+bridge\s+local/);
    assert.equal(peti('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', 'pnet'), userSubnet(4).replace('.0/24', '.254'));
    const hp = await freePort();
    peti('run', '-d', '--name', 'pweb', '--network', 'pnet', '--network-alias', 'pw', '-p', `${hp}:80`, 'busybox', 'sh', '-c', HTTPD);
    assert.equal(peti('port', 'pweb'), `80/tcp -> 0.0.0.0:${hp}`);
    await waitFor(async () => (await get(`http://127.0.0.1:${hp}/`).catch(() => '')).startsWith('hello-'), 'pweb through its port');
    assert.match(peti('run', '--rm', '--network', 'pnet', 'busybox', 'nslookup', 'pw'), /Address: 10\./);
    peti('run', '-d', '--name', 'pside', 'busybox', 'sleep', '60');
    peti('network', 'connect', 'pnet', 'pside');
    assert.match(peti('network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', 'pnet'), /pside/);
    peti('network', 'disconnect', 'pnet', 'pside');
    peti('rm', '-f', 'pweb', 'pside');
    assert.equal(peti('network', 'rm', 'pnet'), 'pnet');
    assert.ok(!existsSync(`/sys/class/net/${d.bridge}x`));
  });

  it('SIGKILL petid: ports, DNS and addresses keep working, no duplicate address; nothing leaks after removal', async () => {
    const keepId = docker('network', 'create', '--subnet', userSubnet(5), 'keep');
    assert.ok(existsSync(`/sys/class/net/pt-${keepId.slice(0, 12)}`));
    const hp = await freePort();
    const web = docker('run', '-d', '--name', 'kweb', '--network', 'keep', '-p', `${hp}:80`, 'busybox', 'sh', '-c', HTTPD);
    const other = docker('run', '-d', '--name', 'kbr', 'busybox', 'sleep', '60');
    await waitFor(async () => (await get(`http://127.0.0.1:${hp}/`).catch(() => '')).startsWith('hello-'), 'kweb');
    const before = { web: (await inspect(web)).NetworkSettings.Networks.keep!.IPAddress, other: (await inspect(other)).NetworkSettings.IPAddress };

    await d.stop('SIGKILL');
    // The kernel keeps forwarding while petid is away.
    assert.ok((await get(`http://127.0.0.1:${hp}/`)).startsWith('hello-'));
    d = await startDaemon({ dir });
    assert.ok((await get(`http://127.0.0.1:${hp}/`)).startsWith('hello-'));
    assert.match(docker('run', '--rm', '--network', 'keep', 'busybox', 'nslookup', 'kweb'), new RegExp(`Address: ${before.web.replace(/\./g, '\\.')}`));
    const fresh = docker('run', '--rm', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0');
    assert.doesNotMatch(fresh, new RegExp(`inet ${before.other.replace(/\./g, '\\.')}/`), 'a running container keeps its address');
    const again = await inspect(web);
    assert.equal(again.NetworkSettings.Networks.keep!.IPAddress, before.web);
    assert.deepEqual(again.NetworkSettings.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: String(hp) }]);

    docker('rm', '-f', 'kweb', 'kbr');
    docker('network', 'rm', 'keep');
    // Nothing left: no veth on the bridge, no namespace mount, no DNAT rule, no bridge of a removed network.
    // The kernel destroys a released namespace, and its veths with it, in the background: within moments.
    // Only the sandboxes petid keeps ready for the next containers remain (at most two, none a container's).
    const pool = pooledSandboxes(d);
    assert.ok(pool.ids.length <= 2, `pool: ${pool.ids.join(', ')}`);
    await waitFor(() => veths(d.bridge).sort().join() === pool.veths.join(), `no veth left on ${d.bridge} but the pool's`, 5000);
    assert.deepEqual(readdirSync(join(d.execRoot, 'netns')).sort(), pool.ids);
    const nsMounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(join(d.execRoot, 'netns') + '/'));
    assert.deepEqual(nsMounts.map((m) => m.slice(m.lastIndexOf('/') + 1)).sort(), pool.ids);
    const table = spawnSync('nft', ['list', 'table', 'ip', d.nftTable]).stdout.toString();
    assert.doesNotMatch(table, /dnat to/);
    assert.ok(!existsSync(`/sys/class/net/pt-${keepId.slice(0, 12)}`), 'the removed network\'s bridge is gone');
  });
});
