import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEventBus, matchEvent } from './bus.js';
import type { EngineEvent } from './types.js';

const CID = 'a1b2c3d4e5f6'.padEnd(64, '0');
const IMG = `sha256:${'f'.repeat(64)}`;

function ev(type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string>): EngineEvent {
  return { type, action, actor: { id, attributes }, timeNano: 1_000n };
}

const start = ev('container', 'start', CID, { name: 'web', image: 'busybox:latest', tier: 'front', env: 'prod' });
const health = ev('container', 'health_status: healthy', CID, { name: 'web', image: 'busybox:latest' });
const execC = ev('container', 'exec_create: sh -c true', CID, { name: 'web', image: 'busybox', execID: 'x' });
const tag = ev('image', 'tag', IMG, { name: 'busybox:latest' });
const vol = ev('volume', 'create', 'data', { driver: 'local' });
const net = ev('network', 'connect', 'n'.repeat(64), { name: 'appnet', type: 'bridge', container: CID });
const daemon = ev('daemon', 'reload', 'd-id', { name: 'host1' });

test('matchEvent follows Docker\'s filter table', () => {
  const cases: [string, Record<string, string[]>, EngineEvent, boolean][] = [
    ['no filter', {}, start, true],
    ['type', { type: ['container'] }, start, true],
    ['type other', { type: ['image'] }, start, false],
    ['type OR', { type: ['image', 'container'] }, start, true],
    ['container by name', { container: ['web'] }, start, true],
    ['container by name prefix', { container: ['we'] }, start, true],
    ['container by id prefix', { container: ['a1b2c3'] }, start, true],
    ['container other', { container: ['db'] }, start, false],
    ['container excludes volume events', { container: ['web'] }, vol, false],
    ['image with tag', { image: ['busybox:latest'] }, start, true],
    ['image without tag', { image: ['busybox'] }, start, true],
    ['image event by name', { image: ['busybox'] }, tag, true],
    ['image event by id', { image: [IMG] }, tag, true],
    ['image other', { image: ['alpine'] }, start, false],
    ['image tagged filter, untagged attr', { image: ['busybox:latest'] }, execC, false],
    ['event exact', { event: ['start'] }, start, true],
    ['event other', { event: ['die'] }, start, false],
    ['event health_status prefix', { event: ['health_status'] }, health, true],
    ['event health_status full', { event: ['health_status: healthy'] }, health, true],
    ['event exec_create prefix', { event: ['exec_create'] }, execC, true],
    ['event exec_die is exact', { event: ['exec_die'] }, execC, false],
    ['label key', { label: ['tier'] }, start, true],
    ['label key=value', { label: ['tier=front'] }, start, true],
    ['label wrong value', { label: ['tier=back'] }, start, false],
    ['labels AND', { label: ['tier=front', 'env=prod'] }, start, true],
    ['labels AND fails', { label: ['tier=front', 'env=dev'] }, start, false],
    ['volume', { volume: ['data'] }, vol, true],
    ['volume other', { volume: ['logs'] }, vol, false],
    ['network by name', { network: ['appnet'] }, net, true],
    ['network by id prefix', { network: ['nnn'] }, net, true],
    ['network excludes containers', { network: ['appnet'] }, start, false],
    ['daemon by name', { daemon: ['host1'] }, daemon, true],
    ['daemon by id', { daemon: ['d-id'] }, daemon, true],
    ['scope local', { scope: ['local'] }, start, true],
    ['scope swarm', { scope: ['swarm'] }, start, false],
    ['keys AND', { type: ['container'], event: ['start'], container: ['web'] }, start, true],
    ['keys AND fails', { type: ['container'], event: ['die'], container: ['web'] }, start, false],
  ];
  for (const [what, filters, e, want] of cases) assert.equal(matchEvent(e, { filters }), want, what);
});

test('since and until bound the history, inclusively', () => {
  const bus = new MemoryEventBus();
  const a = bus.emit('container', 'create', CID, { name: 'x' });
  const b = bus.emit('container', 'start', CID, { name: 'x' });
  const c = bus.emit('container', 'die', CID, { name: 'x' });
  assert.deepEqual(bus.history({ since: b.timeNano }).map((e) => e.action), ['start', 'die']);
  assert.deepEqual(bus.history({ since: a.timeNano, until: b.timeNano }).map((e) => e.action), ['create', 'start']);
  assert.deepEqual(bus.history({ until: c.timeNano - 1n, filters: { event: ['die'] } }), []);
});
