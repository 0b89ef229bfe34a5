import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { InvalidArgument } from '../../lib/errors.js';
import { createMatcher, patternsForContextUpload, readDockerignore } from '../../lib/dockerignore/index.js';
import { sniff } from '../../lib/compression.js';
import { TarWriter } from '../../lib/tar/index.js';
import { bool, filtersJson, list, str } from '../args.js';
import { humanSize } from '../format/index.js';
import type { Cli, Command } from '../types.js';

async function readAllStream(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(parts);
}

/**
 * The context directory as a tar, as the docker CLI sends it: .dockerignore applied (with the Dockerfile and
 * .dockerignore always kept, patternsForContextUpload), owners reset to root, symlinks stored as links and never
 * followed. A Dockerfile from outside the context (or stdin) is added under a random name.
 */
async function contextTar(dir: string, dockerfile: { rel?: string; extra?: { name: string; data: Buffer } }): Promise<Readable> {
  const ignoreText = await fsp.readFile(join(dir, '.dockerignore'), 'utf8').catch(() => '');
  const patterns = patternsForContextUpload(readDockerignore(ignoreText), dockerfile.rel ?? 'Dockerfile');
  const m = createMatcher(patterns);
  const w = new TarWriter();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const name of (await fsp.readdir(abs)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(abs, name);
      const st = await fsp.lstat(p);
      const isDir = st.isDirectory();
      if (m.excluded(r, isDir)) {
        if (isDir && m.mayIncludeUnder(r)) await walk(p, r);
        continue;
      }
      const base = { mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: Math.floor(st.mtimeMs / 1000) };
      if (isDir) {
        await w.add({ ...base, name: `${r}/`, type: 'dir' });
        await walk(p, r);
      } else if (st.isSymbolicLink()) await w.add({ ...base, name: r, type: 'symlink', linkname: await fsp.readlink(p) });
      else if (st.isFile()) {
        const fh = await fsp.open(p, 'r');
        try {
          await w.add({ ...base, name: r, type: 'file', size: st.size }, fh.createReadStream({ autoClose: false, start: 0, end: Math.max(st.size - 1, 0) }).iterator({ destroyOnReturn: true }) as AsyncIterable<Buffer>);
        } finally {
          await fh.close();
        }
      }
    }
  };
  void (async (): Promise<void> => {
    try {
      await walk(dir, '');
      if (dockerfile.extra) await w.add({ name: dockerfile.extra.name, type: 'file', mode: 0o600, size: dockerfile.extra.data.length, mtime: Math.floor(Date.now() / 1000) }, dockerfile.extra.data);
      await w.finalize();
    } catch (e) {
      w.destroy(e as Error);
    }
  })();
  return w.stream;
}

interface BuildLine {
  stream?: string;
  status?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

interface StepView {
  title: string;
  start: number;
  end?: number;
  cached: boolean;
  tail: string[];
}

/** The live display on a terminal: one line per step with its time, the tail of the running step's output. */
class TtyView {
  private readonly steps: StepView[] = [];
  private drawn = 0;
  private readonly t0 = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private partial = '';
  done = false;

  constructor(private readonly out: NodeJS.WritableStream & { columns?: number }) {
    this.timer = setInterval(() => this.draw(), 100);
  }

  private get cur(): StepView | undefined {
    return this.steps.at(-1);
  }

  feed(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.line(l);
  }

  private line(l: string): void {
    const step = /^Step (\d+\/\d+) : (.*)$/.exec(l);
    if (step) {
      if (this.cur && this.cur.end === undefined) this.cur.end = Date.now();
      this.steps.push({ title: `[${step[1]}] ${step[2]}`, start: Date.now(), cached: false, tail: [] });
    } else if (l === ' ---> Using cache') {
      if (this.cur) this.cur.cached = true;
    } else if (/^ ---> [0-9a-f]{12}$/.test(l)) {
      if (this.cur) {
        this.cur.end = Date.now();
        this.cur.tail = [];
      }
    } else if (/^ ---> Running in |^Removing intermediate container |^Successfully (built|tagged) /.test(l)) {
      // shown by the step line itself, or printed at the end
    } else if (this.cur) {
      this.cur.tail.push(l);
      if (this.cur.tail.length > 6) this.cur.tail.shift();
    }
  }

  draw(): void {
    const width = Math.max(40, (this.out.columns ?? 100) - 1);
    const rows: string[] = [];
    const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
    const finished = this.steps.filter((s) => s.end !== undefined).length;
    rows.push(`[+] Building ${secs(Date.now() - this.t0)} (${finished}/${this.steps.length})${this.done ? ' FINISHED' : ''}`);
    for (const s of this.steps) {
      const t = secs((s.end ?? Date.now()) - s.start);
      const head = ` => ${s.cached ? 'CACHED ' : ''}${s.title}`;
      const cut = head.length > width - t.length - 1 ? head.slice(0, width - t.length - 2) + '…' : head;
      rows.push(cut.padEnd(width - t.length) + t);
      if (s.end === undefined) for (const l of s.tail) rows.push(` => => ${l}`.slice(0, width));
    }
    let outText = '';
    if (this.drawn > 0) outText += `\x1b[${this.drawn}A`;
    outText += rows.map((r) => `\x1b[2K${r}\n`).join('');
    this.out.write(outText);
    this.drawn = rows.length;
  }

  finish(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
    if (this.cur && this.cur.end === undefined) this.cur.end = Date.now();
    this.done = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
  }
}

async function runBuild(cli: Cli, p: Parameters<Command['run']>[1]): Promise<number> {
  const ctxArg = p.args[0]!;
  const fileArg = str(p, 'file');
  const progress = str(p, 'progress') ?? 'auto';
  if (!['auto', 'plain', 'tty', 'quiet'].includes(progress)) throw new InvalidArgument(`invalid --progress ${progress}: use auto, plain, tty or quiet`);
  const quiet = bool(p, 'quiet') || progress === 'quiet';
  if (/^(https?|git):\/\/|^git@/.test(ctxArg)) throw new InvalidArgument('remote build contexts are not supported: there is no network access here');

  let body: Readable;
  let dockerfile: string | undefined;
  let sent = 0;
  if (ctxArg === '-') {
    if (fileArg === '-') throw new InvalidArgument('invalid argument: can\'t use stdin for both build context and dockerfile');
    const data = await readAllStream(cli.stdin);
    if (sniff(data.subarray(0, 8)) !== 'none' || (data.length >= 512 && data.subarray(257, 262).toString('latin1') === 'ustar')) {
      body = Readable.from([data]);
      dockerfile = fileArg;
    } else {
      // stdin holds a Dockerfile: the context is just that file
      const w = new TarWriter();
      void w.add({ name: 'Dockerfile', type: 'file', mode: 0o600, size: data.length, mtime: Math.floor(Date.now() / 1000) }, data).then(() => w.finalize());
      body = w.stream;
    }
  } else {
    const dir = resolve(ctxArg);
    const st = await fsp.stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new InvalidArgument(`unable to prepare context: path ${JSON.stringify(ctxArg)} not found`);
    let rel: string | undefined;
    let extra: { name: string; data: Buffer } | undefined;
    if (fileArg === '-') {
      extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, data: await readAllStream(cli.stdin) };
    } else {
      const abs = fileArg ? resolve(fileArg) : join(dir, 'Dockerfile');
      const r = relative(dir, abs);
      if (r.startsWith('..') || r.startsWith(sep)) {
        const data = await fsp.readFile(abs).catch(() => { throw new InvalidArgument(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`); });
        extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, data };
      } else {
        await fsp.access(abs).catch(() => { throw new InvalidArgument(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`); });
        rel = r.split(sep).join('/');
      }
    }
    dockerfile = extra ? extra.name : rel;
    body = await contextTar(dir, { ...(rel ? { rel } : {}), ...(extra ? { extra } : {}) });
  }
  // count what is sent without taking data from the request (a plain 'data' listener would start the flow early)
  const counted = body.pipe(new Transform({ transform(c: Buffer, _e, cb) { sent += c.length; cb(null, c); } }));
  body.on('error', (e) => counted.destroy(e));

  const buildArgs: Record<string, string | null> = {};
  for (const a of list(p, 'build-arg')) {
    const i = a.indexOf('=');
    if (i < 0) buildArgs[a] = process.env[a] ?? null;
    else buildArgs[a.slice(0, i)] = a.slice(i + 1);
  }
  const labels: Record<string, string> = {};
  for (const l of list(p, 'label')) {
    const i = l.indexOf('=');
    labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  const res = await cli.client.send('POST', '/build', {
    query: {
      t: list(p, 'tag'), dockerfile: dockerfile ?? undefined, buildargs: JSON.stringify(buildArgs), labels: JSON.stringify(labels),
      target: str(p, 'target'), nocache: bool(p, 'no-cache') || undefined, pull: bool(p, 'pull') || undefined, q: quiet || undefined,
      rm: true, networkmode: str(p, 'network'), platform: str(p, 'platform'), version: '1',
    },
    raw: counted, headers: { 'Content-Type': 'application/x-tar' },
  });

  const tty = !quiet && (progress === 'tty' || (progress === 'auto' && cli.err === process.stderr && process.stderr.isTTY === true));
  const view = tty ? new TtyView(process.stderr) : undefined;
  if (!quiet && !tty) cli.out.write(`Sending build context to Peti daemon  ${humanSize(sent)}\n`);
  let id: string | undefined;
  let failure: BuildLine | undefined;
  const final: string[] = [];
  let rest = '';
  const handle = (m: BuildLine): void => {
    if (m.error) {
      failure = m;
      return;
    }
    if (m.aux?.ID) id = m.aux.ID;
    const text = m.stream ?? (m.status ? `${m.status}\n` : '');
    if (!text || quiet) return;
    if (view) {
      view.feed(text);
      if (/^Successfully (built|tagged) /.test(text)) final.push(text);
    } else cli.out.write(text);
  };
  for await (const chunk of res) {
    rest += (chunk as Buffer).toString('utf8');
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, i).trim();
      rest = rest.slice(i + 1);
      if (line) handle(JSON.parse(line) as BuildLine);
    }
  }
  if (rest.trim()) handle(JSON.parse(rest) as BuildLine);
  view?.finish();
  if (failure) {
    cli.err.write(`${failure.errorDetail?.message ?? failure.error}\n`);
    return failure.errorDetail?.code ?? 1;
  }
  for (const t of final) cli.out.write(t);
  if (quiet && id) cli.out.write(`${id}\n`);
  const iidfile = str(p, 'iidfile');
  if (iidfile && id) await fsp.writeFile(iidfile, id);
  return 0;
}

export const buildCommands: Command[] = [
  {
    names: ['build', 'image build', 'builder build'],
    usage: 'build [OPTIONS] PATH | -',
    description: 'Build an image from a Dockerfile',
    flags: [
      { name: 'tag', short: 't', kind: 'list' }, { name: 'file', short: 'f', kind: 'string' }, { name: 'build-arg', kind: 'list' },
      { name: 'label', kind: 'list' }, { name: 'target', kind: 'string' }, { name: 'no-cache', kind: 'bool' }, { name: 'pull', kind: 'bool' },
      { name: 'quiet', short: 'q', kind: 'bool' }, { name: 'iidfile', kind: 'string' }, { name: 'platform', kind: 'string' },
      { name: 'network', kind: 'string' }, { name: 'progress', kind: 'string' }, { name: 'rm', kind: 'bool' }, { name: 'force-rm', kind: 'bool' },
    ],
    minArgs: 1, maxArgs: 1,
    run: runBuild,
  },
  {
    names: ['builder prune'],
    usage: 'builder prune [OPTIONS]',
    description: 'Remove build cache',
    flags: [
      { name: 'all', short: 'a', kind: 'bool' }, { name: 'force', short: 'f', kind: 'bool' }, { name: 'filter', kind: 'list' },
      { name: 'keep-storage', kind: 'string' },
    ],
    maxArgs: 0,
    async run(cli, p) {
      if (!bool(p, 'force')) {
        cli.out.write(`WARNING! This will remove all ${bool(p, 'all') ? '' : 'dangling '}build cache. Are you sure you want to continue? [y/N] `);
        const answer = await new Promise<string>((res) => {
          let buf = '';
          const on = (d: Buffer): void => { buf += d.toString(); if (buf.includes('\n')) { cli.stdin.off('data', on); (cli.stdin as NodeJS.ReadableStream & { pause(): void }).pause(); res(buf); } };
          cli.stdin.on('data', on);
          cli.stdin.once('end', () => res(buf));
        });
        if (!/^\s*y(es)?\s*$/i.test(answer)) return 0;
      }
      const keep = str(p, 'keep-storage');
      const r = await cli.client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', {
        query: { all: bool(p, 'all') || undefined, filters: filtersJson(list(p, 'filter')), 'keep-storage': keep ? String(parseSize(keep)) : undefined },
      });
      if ((r.CachesDeleted ?? []).length) cli.out.write(`Deleted build cache objects:\n${(r.CachesDeleted ?? []).join('\n')}\n\n`);
      cli.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
      return 0;
    },
  },
  {
    names: ['commit', 'container commit'],
    usage: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
    description: 'Create a new image from a container\'s changes',
    flags: [
      { name: 'change', short: 'c', kind: 'list' }, { name: 'message', short: 'm', kind: 'string' }, { name: 'author', short: 'a', kind: 'string' },
      { name: 'pause', short: 'p', kind: 'bool' },
    ],
    minArgs: 1, maxArgs: 2,
    async run(cli, p) {
      const ref = p.args[1] ?? '';
      const slash = ref.lastIndexOf('/');
      const colon = ref.lastIndexOf(':');
      const [repo, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, ''];
      const r = await cli.client.json<{ Id: string }>('POST', '/commit', {
        query: {
          container: p.args[0], repo: repo || undefined, tag: tag || undefined, comment: str(p, 'message'), author: str(p, 'author'),
          pause: p.flags.pause === false ? false : true, changes: list(p, 'change'),
        },
      });
      cli.out.write(`${r.Id}\n`);
      return 0;
    },
  },
];

/** `10GB`, `512m`, plain bytes. */
function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(s.trim());
  if (!m) throw new InvalidArgument(`invalid size: ${s}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as ''];
  return Math.round(Number(m[1]) * mult);
}
