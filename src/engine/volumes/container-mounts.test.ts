import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inheritMounts, parseVolumesFrom, planMounts } from './container-mounts.js';
import { matchList, matchPrune } from './filters.js';
import { checkVolumeName } from './names.js';
import { parseLocalOptions } from './local-driver.js';
import { ANONYMOUS_LABEL, type VolumeRecord } from './types.js';

test('plan: -v named/bind/anonymous, --mount, image VOLUME, precedence and duplicates', () => {
  const plan = planMounts({
    binds: ['data:/data:ro,nocopy', '/host/dir/:/b:rshared', '/lone'],
    mounts: [{ Type: 'volume', Target: '/m', VolumeOptions: { NoCopy: true, DriverConfig: { Options: { type: 'tmpfs' } } } }, { Type: 'tmpfs', Target: '/t' }],
    volumes: { '/data': {}, '/img/': {} },
  }, []);
  assert.deepEqual(plan.map((m) => [m.Type, m.Name ?? '', m.Destination, m.RW, m.NoCopy ?? false]), [
    ['volume', 'data', '/data', false, true],
    ['bind', '', '/b', true, false],
    ['volume', '', '/lone', true, false],
    ['volume', '', '/m', true, true],
    ['tmpfs', '', '/t', true, false],
    ['volume', '', '/img', true, false],
  ]);
  assert.equal(plan[0]?.Mode, 'ro,nocopy');
  assert.equal(plan[1]?.Source, '/host/dir');
  assert.equal(plan[1]?.Propagation, 'rshared');
  assert.deepEqual(plan[3]?.create?.driverOpts, { type: 'tmpfs' });
  assert.throws(() => planMounts({ binds: ['a1:/x', 'a2:/x/'] }, []), /Duplicate mount point: \/x/);
  assert.throws(() => planMounts({ binds: ['a1:rel'] }, []), /mount path must be absolute/);
  assert.throws(() => planMounts({ binds: ['a1:/'] }, []), /destination can't be '\/'/);
  assert.throws(() => planMounts({ binds: ['a1:/x:bogus'] }, []), /invalid mode: bogus/);
  assert.throws(() => planMounts({ binds: ['bad/name:/x'] }, []), /includes invalid characters/);
  assert.throws(() => planMounts({ mounts: [{ Type: 'volume', Target: '/x', BindOptions: {} }] }, []), /BindOptions must not be specified/);
  assert.throws(() => planMounts({ mounts: [{ Type: 'volume', Source: 'v1', Target: '/x', VolumeOptions: { DriverConfig: { Name: 'other' } } }] }, []), /plugin "other" not found/);
  assert.throws(() => planMounts({ mounts: [{ Type: 'bind', Source: '/definitely/not/here', Target: '/x' }] }, []), /bind source path does not exist: \/definitely\/not\/here/);
});

test('plan: --volumes-from inherits volumes and binds with a forced mode; own mounts override', () => {
  const { ref, rw } = parseVolumesFrom('src:ro');
  assert.equal(ref, 'src');
  assert.equal(rw, false);
  assert.throws(() => parseVolumesFrom('src:xx'), /invalid mode: xx/);
  const inherited = inheritMounts([{ id: 'c1', rw: false, mounts: [
    { Type: 'volume', Name: 'v1', Source: '/s', Destination: '/v', Mode: '', RW: true, Propagation: '', NoCopy: true },
    { Type: 'bind', Source: '/h', Destination: '/h', Mode: '', RW: true, Propagation: 'rprivate' },
    { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' },
  ] }]);
  const plan = planMounts({ binds: ['other:/h'], volumes: { '/v': {} } }, inherited);
  assert.deepEqual(plan.map((m) => [m.Type, m.Name ?? m.Source, m.Destination, m.RW, m.From ?? '']), [
    ['volume', 'v1', '/v', false, 'c1'],
    ['volume', 'other', '/h', true, ''],
  ]);
});

test('names, local driver options, filters', () => {
  assert.equal(checkVolumeName('ab'), 'ab');
  assert.throws(() => checkVolumeName('a'), /too short/);
  assert.throws(() => checkVolumeName('-ab'), /invalid characters/);
  assert.throws(() => checkVolumeName('../x'), /invalid characters/);
  assert.equal(parseLocalOptions('v', {}), undefined);
  assert.deepEqual(parseLocalOptions('v', { type: 'tmpfs', device: 'tmpfs', o: 'size=64m,uid=1' }), { type: 'tmpfs', device: 'tmpfs', o: ['size=64m', 'uid=1'] });
  assert.throws(() => parseLocalOptions('v', { foo: 'x' }), /invalid option key: "foo"/);
  assert.throws(() => parseLocalOptions('v', { type: 'tmpfs' }), /missing required option: "device"/);
  assert.throws(() => parseLocalOptions('v', { type: 'none', o: 'bind', device: 'rel' }), /absolute path/);
  const v = (name: string, labels: Record<string, string>): VolumeRecord => ({ name, driver: 'local', createdAt: '', labels, options: {} });
  const named = v('named', { a: '1' });
  const anon = v('f'.repeat(64), { [ANONYMOUS_LABEL]: '' });
  assert.equal(matchList({ name: ['ame'] }, named, false), true);
  assert.equal(matchList({ label: ['a=2'] }, named, false), false);
  assert.equal(matchList({ dangling: ['true'] }, named, true), false);
  assert.equal(matchList({ dangling: ['false'] }, named, true), true);
  assert.throws(() => matchList({ dangling: ['maybe'] }, named, true), /invalid filter/);
  assert.equal(matchPrune({}, named), false);
  assert.equal(matchPrune({}, anon), true);
  assert.equal(matchPrune({ all: ['true'] }, named), true);
  assert.equal(matchPrune({ all: ['1'], 'label!': ['a'] }, named), false);
});
