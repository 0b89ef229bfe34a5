import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { resolveUser, MAX_ACCOUNT_FILE_BYTES } from './user.js';
import { InvalidArgument } from '../../lib/errors.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  '# a comment',
  '',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'app:x:1000:1000:App:/home/app:/bin/sh',
  'nohome:x:1001:1001::::',
  'broken:x:notanumber:1:::',
].join('\n');
const GROUP = [
  'root:x:0:',
  'wheel:x:10:root,app',
  'audio:x:29:app',
  'app:x:1000:',
  'staff:x:50:',
].join('\n');

function rootfs(files: { passwd?: string; group?: string } = { passwd: PASSWD, group: GROUP }): string {
  const dir = mkdtempSync(join(tmpdir(), 'peti-user-'));
  mkdirSync(join(dir, 'etc'));
  if (files.passwd !== undefined) writeFileSync(join(dir, 'etc/passwd'), files.passwd);
  if (files.group !== undefined) writeFileSync(join(dir, 'etc/group'), files.group);
  return dir;
}

test('empty user is root with root\'s home and memberships', async (t) => {
  const dir = rootfs();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await resolveUser(dir, undefined), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
  assert.deepEqual(await resolveUser(dir, ''), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
});

test('empty user without account files is 0:0 with home /', async (t) => {
  const dir = rootfs({});
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await resolveUser(dir, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
});

test('a name resolves uid, gid, home and memberships', async (t) => {
  const dir = rootfs();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await resolveUser(dir, 'app'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29], home: '/home/app' });
  assert.deepEqual(await resolveUser(dir, 'nohome'), { uid: 1001, gid: 1001, additionalGids: [1001], home: '/' });
});

test('a numeric uid found in passwd takes its entry', async (t) => {
  const dir = rootfs();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await resolveUser(dir, '1000'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29], home: '/home/app' });
});

test('a numeric uid not in passwd (or with no passwd) is fine, gid 0', async (t) => {
  const dir = rootfs();
  const empty = rootfs({});
  t.after(() => { rmSync(dir, { recursive: true, force: true }); rmSync(empty, { recursive: true, force: true }); });
  assert.deepEqual(await resolveUser(dir, '4242'), { uid: 4242, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual(await resolveUser(empty, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [4343], home: '/' });
});

test('unknown names fail with Docker\'s wording', async (t) => {
  const dir = rootfs();
  const empty = rootfs({});
  t.after(() => { rmSync(dir, { recursive: true, force: true }); rmSync(empty, { recursive: true, force: true }); });
  await assert.rejects(resolveUser(dir, 'nobody'), (err: unknown) =>
    err instanceof InvalidArgument && err.message === 'unable to find user nobody: no matching entries in passwd file');
  await assert.rejects(resolveUser(empty, 'app'), /unable to find user app: no matching entries in passwd file/);
  await assert.rejects(resolveUser(dir, 'app:nogroup'), (err: unknown) =>
    err instanceof InvalidArgument && err.message === 'unable to find group nogroup: no matching entries in group file');
});

test('user:group forms; an explicit group drops membership groups', async (t) => {
  const dir = rootfs();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await resolveUser(dir, 'app:staff'), { uid: 1000, gid: 50, additionalGids: [50], home: '/home/app' });
  assert.deepEqual(await resolveUser(dir, 'app:77'), { uid: 1000, gid: 77, additionalGids: [77], home: '/home/app' });
  assert.deepEqual(await resolveUser(dir, '1000:1000'), { uid: 1000, gid: 1000, additionalGids: [1000], home: '/home/app' });
  assert.deepEqual(await resolveUser(dir, '5000:wheel'), { uid: 5000, gid: 10, additionalGids: [10], home: '/' });
  assert.deepEqual(await resolveUser(dir, 'app:'), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 29], home: '/home/app' });
});

test('GroupAdd takes names and numbers, dedupes, rejects unknown names', async (t) => {
  const dir = rootfs();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(
    (await resolveUser(dir, 'app', ['staff', '29', '9999'])).additionalGids, [1000, 10, 29, 50, 9999]);
  assert.deepEqual((await resolveUser(dir, '', ['audio'])).additionalGids, [0, 10, 29]);
  await assert.rejects(resolveUser(dir, 'app', ['nosuch']), /Unable to find group nosuch: no matching entries in group file/);
  const empty = rootfs({});
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  assert.deepEqual((await resolveUser(empty, '7', ['100'])).additionalGids, [0, 100]);
});

test('ids out of range are refused', async (t) => {
  const dir = rootfs();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await assert.rejects(resolveUser(dir, '2147483648'), /uids and gids must be in range 0-2147483647/);
  await assert.rejects(resolveUser(dir, '1:99999999999'), /uids and gids must be in range/);
  await assert.rejects(resolveUser(dir, '1', ['3000000000']), /uids and gids must be in range/);
});

test('account files are read inside the rootfs, even through absolute symlinks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'peti-user-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'real'));
  writeFileSync(join(dir, 'real/passwd'), 'evil:x:0:0::/evil:/bin/sh\n');
  // /etc -> /real inside the image; the host's /etc/passwd must not be read.
  symlinkSync('/real', join(dir, 'etc'));
  assert.equal((await resolveUser(dir, 'evil')).home, '/evil');
  await assert.rejects(resolveUser(dir, 'root'), /unable to find user root/);
});

test('huge or non-regular account files are refused', async (t) => {
  const dir = rootfs({ group: GROUP });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'etc/passwd'), 'x'.repeat(MAX_ACCOUNT_FILE_BYTES + 1));
  await assert.rejects(resolveUser(dir, 'app'), (err: unknown) => err instanceof InvalidArgument && /larger than 1 MiB/.test(err.message));

  const fifo = rootfs({});
  t.after(() => rmSync(fifo, { recursive: true, force: true }));
  execFileSync('mkfifo', [join(fifo, 'etc/passwd')]);
  await assert.rejects(resolveUser(fifo, 'app'), /not a regular file/);

  const dirAsFile = rootfs({});
  t.after(() => rmSync(dirAsFile, { recursive: true, force: true }));
  mkdirSync(join(dirAsFile, 'etc/passwd'));
  await assert.rejects(resolveUser(dirAsFile, 'app'), /not a regular file/);
});
