/**
 * Docker's `--user` rules, resolved against the image's own /etc/passwd and /etc/group (read through secureJoin, so
 * a hostile image cannot point them at host files).
 *
 * - `""` is root: uid 0, but passwd is still consulted for root's home, gid and group memberships (busybox's root
 *   is in `wheel`, and Docker reports it).
 * - `user` or `uid`, optionally `:group` or `:gid`. Names must exist in the image; bare numbers need not.
 * - Supplementary groups: every /etc/group entry listing the user by name (only when no group was given, as
 *   Docker), then GroupAdd (names or numbers). Docker puts the primary gid first in the list; so do we.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { InvalidArgument } from '../../lib/errors.js';
import { secureJoin } from '../../lib/safe-path.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/** Files larger than this are refused: a real passwd is a few KiB, and we read it into memory. */
export const MAX_ACCOUNT_FILE_BYTES = 1024 * 1024;
const MAX_ID = 2 ** 31 - 1;
const RANGE_MESSAGE = `uids and gids must be in range 0-${MAX_ID}`;

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

/** Resolve a Docker user spec inside `rootfs`. Throws InvalidArgument with Docker's wording for unknown names. */
export async function resolveUser(rootfs: string, user: string | undefined, groupAdd?: string[]): Promise<ResolvedUser> {
  const spec = user ?? '';
  const colon = spec.indexOf(':');
  const userArg = colon < 0 ? spec : spec.slice(0, colon);
  const groupArg = colon < 0 ? '' : spec.slice(colon + 1);

  const passwd = parsePasswd(await readAccountFile(rootfs, '/etc/passwd'));
  const lookup = userArg === '' ? '0' : userArg;
  const uidArg = parseId(lookup);
  const match = passwd.find((u) => (uidArg === undefined ? u.name === lookup : u.uid === uidArg));

  let uid = 0;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  if (match) {
    ({ uid, gid, home, name } = match);
    if (home === '') home = '/';
  } else if (uidArg === undefined) {
    throw new InvalidArgument(`unable to find user ${lookup}: no matching entries in passwd file`);
  } else {
    uid = checkRange(uidArg);
  }

  // /etc/group matters only when a group was named, a user entry was found, or groups were added.
  const needGroups = groupArg !== '' || name !== undefined || (groupAdd?.length ?? 0) > 0;
  const groups = needGroups ? parseGroup(await readAccountFile(rootfs, '/etc/group')) : [];

  const supplementary: number[] = [];
  if (groupArg !== '') {
    const gidArg = parseId(groupArg);
    const g = groups.find((e) => (gidArg === undefined ? e.name === groupArg : e.gid === gidArg));
    if (g) gid = g.gid;
    else if (gidArg === undefined) throw new InvalidArgument(`unable to find group ${groupArg}: no matching entries in group file`);
    else gid = checkRange(gidArg);
  } else if (name !== undefined) {
    for (const g of groups) if (g.members.includes(name)) supplementary.push(g.gid);
  }

  for (const extra of groupAdd ?? []) {
    const g = groups.find((e) => e.name === extra || String(e.gid) === extra);
    if (g) { supplementary.push(g.gid); continue; }
    const n = parseId(extra);
    if (n === undefined) throw new InvalidArgument(`Unable to find group ${extra}: no matching entries in group file`);
    supplementary.push(checkRange(n));
  }

  const additionalGids = [...new Set([gid, ...supplementary])];
  return { uid, gid, additionalGids, home };
}

function parseId(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n > MAX_ID) throw new InvalidArgument(RANGE_MESSAGE);
  return n;
}

function checkRange(n: number): number {
  if (n < 0 || n > MAX_ID) throw new InvalidArgument(RANGE_MESSAGE);
  return n;
}

/**
 * The text of an account file inside the rootfs, or '' when it does not exist. Refuses files over 1 MiB and
 * anything but a regular file (O_NONBLOCK so a FIFO planted by an image cannot hang us on open).
 */
async function readAccountFile(rootfs: string, path: string): Promise<string> {
  const host = await secureJoin(rootfs, path);
  let fh: FileHandle;
  try {
    fh = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return '';
    throw new InvalidArgument(`cannot read ${path} in the image: ${code ?? String(err)}`, { cause: err });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InvalidArgument(`${path} in the image is not a regular file`);
    if (st.size > MAX_ACCOUNT_FILE_BYTES) throw new InvalidArgument(`${path} in the image is larger than 1 MiB`);
    const buf = Buffer.alloc(MAX_ACCOUNT_FILE_BYTES + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, total, buf.length - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_ACCOUNT_FILE_BYTES) throw new InvalidArgument(`${path} in the image is larger than 1 MiB`);
    }
    return buf.subarray(0, total).toString('utf8');
  } finally {
    await fh.close();
  }
}

function lines(text: string): string[][] {
  const out: string[][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    out.push(line.split(':'));
  }
  return out;
}

/** name:password:uid:gid:gecos:home:shell. Entries with unparsable ids are skipped, as libc does. */
function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const uid = numeric(f[2]);
    const gid = numeric(f[3]);
    if (f[0] === undefined || uid === undefined || gid === undefined) continue;
    out.push({ name: f[0], uid, gid, home: f[5] ?? '' });
  }
  return out;
}

/** name:password:gid:member,member */
function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const gid = numeric(f[2]);
    if (f[0] === undefined || gid === undefined) continue;
    const members = (f[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
    out.push({ name: f[0], gid, members });
  }
  return out;
}

function numeric(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}
