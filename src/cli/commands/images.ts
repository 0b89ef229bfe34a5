import { confirm } from '../confirm.js';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { InvalidArgument } from '../../lib/errors.js';
import { bool, filtersJson, list, str } from '../args.js';
import { ago, humanSize } from '../format/index.js';
import { printInspect, printRows } from '../output.js';
import type { Command } from '../types.js';

interface ImageSummary {
  Id: string; ParentId: string; RepoTags: string[] | null; RepoDigests: string[] | null; Created: number; Size: number;
  SharedSize: number; Containers: number; Labels: Record<string, string> | null;
}

const shortId = (id: string, noTrunc: boolean): string => (noTrunc ? id : id.replace(/^sha256:/, '').slice(0, 12));

/** Go's time.Time String() layout docker uses for CreatedAt. */
export function goTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`;
}

function splitRepoTag(rt: string): [string, string] {
  const i = rt.lastIndexOf(':');
  return i > rt.lastIndexOf('/') ? [rt.slice(0, i), rt.slice(i + 1)] : [rt, '<none>'];
}


export const imagesCommands: Command[] = [
  {
    names: ['images', 'image ls', 'image list'],
    usage: 'images [OPTIONS] [REPOSITORY[:TAG]]',
    description: 'List images',
    flags: [
      { name: 'all', short: 'a', kind: 'bool' }, { name: 'quiet', short: 'q', kind: 'bool' },
      { name: 'filter', short: 'f', kind: 'list' }, { name: 'digests', kind: 'bool' }, { name: 'no-trunc', kind: 'bool' },
      { name: 'format', kind: 'string' },
    ],
    maxArgs: 1,
    async run(cli, p) {
      const filters = list(p, 'filter');
      if (p.args[0]) filters.push(`reference=${p.args[0]}`);
      const imgs = await cli.client.json<ImageSummary[]>('GET', '/images/json', { query: { all: bool(p, 'all'), filters: filtersJson(filters) } });
      const noTrunc = bool(p, 'no-trunc');
      if (bool(p, 'quiet')) {
        const seen = new Set<string>();
        for (const i of imgs) {
          const id = shortId(i.Id, noTrunc);
          if (!seen.has(id)) cli.out.write(id + '\n');
          seen.add(id);
        }
        return;
      }
      const rows: object[] = [];
      for (const i of imgs) {
        const base = {
          ID: shortId(i.Id, noTrunc), CreatedSince: ago(i.Created * 1000), CreatedAt: goTime(new Date(i.Created * 1000)),
          Size: humanSize(i.Size, 3), VirtualSize: humanSize(i.Size, 3), SharedSize: i.SharedSize < 0 ? 'N/A' : humanSize(i.SharedSize),
          UniqueSize: i.SharedSize < 0 ? 'N/A' : humanSize(i.Size - i.SharedSize), Containers: i.Containers < 0 ? 'N/A' : String(i.Containers),
        };
        const digests = i.RepoDigests ?? [];
        const digestOf = (repo: string): string => digests.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
        const tags = i.RepoTags ?? [];
        if (tags.length === 0 && digests.length === 0) rows.push({ ...base, Repository: '<none>', Tag: '<none>', Digest: '<none>' });
        for (const rt of tags) {
          const [repo, tag] = splitRepoTag(rt);
          rows.push({ ...base, Repository: repo, Tag: tag, Digest: digestOf(repo) });
        }
        if (tags.length === 0) for (const d of digests) {
          const [repo, dig] = d.split('@') as [string, string];
          rows.push({ ...base, Repository: repo, Tag: '<none>', Digest: dig });
        }
      }
      const def = bool(p, 'digests')
        ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
        : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
      printRows(cli.out, str(p, 'format'), def, rows, {
        Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
        Size: 'SIZE', VirtualSize: 'VIRTUAL SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS',
      });
    },
  },
  {
    names: ['image inspect'],
    usage: 'image inspect [OPTIONS] IMAGE [IMAGE...]',
    description: 'Display detailed information on one or more images',
    flags: [{ name: 'format', short: 'f', kind: 'string' }],
    minArgs: 1,
    async run(cli, p) {
      const out: unknown[] = [];
      let failed = false;
      for (const name of p.args) {
        try {
          out.push(await cli.client.json('GET', `/images/${encodeURIComponent(name)}/json`));
        } catch (e) {
          failed = true;
          cli.err.write(`Error response from daemon: ${(e as Error).message}\n`);
        }
      }
      if (out.length || !failed) printInspect(cli.out, str(p, 'format'), out);
      return failed ? 1 : 0;
    },
  },
  {
    names: ['history', 'image history'],
    usage: 'history [OPTIONS] IMAGE',
    description: 'Show the history of an image',
    flags: [
      { name: 'human', short: 'H', kind: 'bool' }, { name: 'no-trunc', kind: 'bool' }, { name: 'quiet', short: 'q', kind: 'bool' },
      { name: 'format', kind: 'string' },
    ],
    minArgs: 1, maxArgs: 1,
    async run(cli, p) {
      const h = await cli.client.json<{ Id: string; Created: number; CreatedBy: string; Size: number; Comment: string; Tags: string[] | null }[]>(
        'GET', `/images/${encodeURIComponent(p.args[0]!)}/history`);
      const noTrunc = bool(p, 'no-trunc');
      const human = p.flags.human !== false;
      if (bool(p, 'quiet')) {
        for (const x of h) cli.out.write((x.Id === '<missing>' ? x.Id : shortId(x.Id, noTrunc)) + '\n');
        return;
      }
      const rows = h.map((x) => {
        let by = x.CreatedBy.replace(/\s+/g, ' ');
        if (!noTrunc && by.length > 45) by = by.slice(0, 44) + '…';
        return {
          ID: x.Id === '<missing>' ? x.Id : shortId(x.Id, noTrunc),
          CreatedSince: x.Created ? ago(x.Created * 1000) : 'N/A',
          CreatedAt: x.Created ? (human ? goTime(new Date(x.Created * 1000)) : new Date(x.Created * 1000).toISOString()) : 'N/A',
          CreatedBy: by, Size: human ? humanSize(x.Size) : String(x.Size), Comment: x.Comment,
        };
      });
      printRows(cli.out, str(p, 'format'), 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}', rows, {
        ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT',
      });
    },
  },
  {
    names: ['tag', 'image tag'],
    usage: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    flags: [],
    minArgs: 2, maxArgs: 2,
    async run(cli, p) {
      const target = p.args[1]!;
      const slash = target.lastIndexOf('/');
      const colon = target.lastIndexOf(':');
      const [repo, tag] = colon > slash ? [target.slice(0, colon), target.slice(colon + 1)] : [target, ''];
      if (target.includes('@')) throw new InvalidArgument('refusing to create a tag with a digest reference');
      await cli.client.send('POST', `/images/${encodeURIComponent(p.args[0]!)}/tag`, { query: { repo, tag: tag || undefined } }).then((r) => r.resume());
    },
  },
  {
    names: ['rmi', 'image rm', 'image remove'],
    usage: 'rmi [OPTIONS] IMAGE [IMAGE...]',
    description: 'Remove one or more images',
    flags: [{ name: 'force', short: 'f', kind: 'bool' }, { name: 'no-prune', kind: 'bool' }],
    minArgs: 1,
    async run(cli, p) {
      let failed = false;
      for (const name of p.args) {
        try {
          const r = await cli.client.json<{ Untagged?: string; Deleted?: string }[]>('DELETE', `/images/${encodeURIComponent(name)}`, {
            query: { force: bool(p, 'force') || undefined, noprune: bool(p, 'no-prune') || undefined },
          });
          for (const x of r) cli.out.write(x.Untagged ? `Untagged: ${x.Untagged}\n` : `Deleted: ${x.Deleted}\n`);
        } catch (e) {
          failed = true;
          cli.err.write(`Error response from daemon: ${(e as Error).message}\n`);
        }
      }
      return failed ? 1 : 0;
    },
  },
  {
    names: ['import', 'image import'],
    usage: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    description: 'Import the contents from a tarball to create a filesystem image',
    flags: [{ name: 'change', short: 'c', kind: 'list' }, { name: 'message', short: 'm', kind: 'string' }, { name: 'platform', kind: 'string' }],
    minArgs: 1, maxArgs: 2,
    async run(cli, p) {
      const src = p.args[0]!;
      if (/^https?:\/\//.test(src)) throw new InvalidArgument('importing from a URL is not supported: there is no network here; download the file and import it');
      const body = src === '-' ? (cli.stdin as unknown as import('node:stream').Readable) : createReadStream(src);
      if (src !== '-') await fsp.access(src).catch(() => { throw new InvalidArgument(`open ${src}: no such file or directory`); });
      const ref = p.args[1] ?? '';
      const slash = ref.lastIndexOf('/');
      const colon = ref.lastIndexOf(':');
      const [repo, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, ''];
      const res = await cli.client.send('POST', '/images/create', {
        query: { fromSrc: '-', repo: repo || undefined, tag: tag || undefined, message: str(p, 'message'), changes: list(p, 'change'), platform: str(p, 'platform') },
        raw: body, headers: { 'Content-Type': 'application/x-tar' },
      });
      let last = '';
      for await (const m of cli.client.jsonLines<{ status?: string }>(res)) if (m.status) last = m.status;
      cli.out.write(last + '\n');
    },
  },
  {
    names: ['save', 'image save'],
    usage: 'save [OPTIONS] IMAGE [IMAGE...]',
    description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    flags: [{ name: 'output', short: 'o', kind: 'string' }, { name: 'platform', kind: 'list' }],
    minArgs: 1,
    async run(cli, p) {
      const output = str(p, 'output');
      if (!output && cli.out.isTTY) throw new InvalidArgument('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const res = await cli.client.send('GET', '/images/get', { query: { names: p.args } });
      if (output) {
        // Write beside the target and rename, so a failed save never leaves a truncated archive under the name.
        const tmp = `${output}.peti-tmp-${process.pid}`;
        try {
          await pipeline(res, createWriteStream(tmp));
          await fsp.rename(tmp, output);
        } catch (e) {
          await fsp.rm(tmp, { force: true });
          throw e;
        }
      } else await pipeline(res, cli.out);
    },
  },
  {
    names: ['load', 'image load'],
    usage: 'load [OPTIONS]',
    description: 'Load an image from a tar archive or STDIN',
    flags: [{ name: 'input', short: 'i', kind: 'string' }, { name: 'quiet', short: 'q', kind: 'bool' }, { name: 'platform', kind: 'list' }],
    maxArgs: 0,
    async run(cli, p) {
      const input = str(p, 'input');
      if (!input && cli.stdin.isTTY) throw new InvalidArgument('requested load from stdin, but stdin is empty');
      if (input) await fsp.access(input).catch(() => { throw new InvalidArgument(`open ${input}: no such file or directory`); });
      const body = input ? createReadStream(input) : (cli.stdin as unknown as import('node:stream').Readable);
      const res = await cli.client.send('POST', '/images/load', { query: { quiet: bool(p, 'quiet') || undefined }, raw: body, headers: { 'Content-Type': 'application/x-tar' } });
      for await (const m of cli.client.jsonLines<{ stream?: string }>(res)) if (m.stream) cli.out.write(m.stream);
    },
  },
  {
    names: ['image prune'],
    usage: 'image prune [OPTIONS]',
    description: 'Remove unused images',
    flags: [{ name: 'all', short: 'a', kind: 'bool' }, { name: 'force', short: 'f', kind: 'bool' }, { name: 'filter', kind: 'list' }],
    maxArgs: 0,
    async run(cli, p) {
      const all = bool(p, 'all');
      if (!bool(p, 'force')) {
        const warn = all
          ? 'WARNING! This will remove all images without at least one container associated to them.'
          : 'WARNING! This will remove all dangling images.';
        if (!(await confirm(cli, `${warn}\nAre you sure you want to continue?`))) return;
      }
      const filters = list(p, 'filter');
      if (all) filters.push('dangling=false');
      const r = await cli.client.json<{ ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>(
        'POST', '/images/prune', { query: { filters: filtersJson(filters) } });
      const del = r.ImagesDeleted ?? [];
      if (del.length) {
        cli.out.write('Deleted Images:\n');
        for (const x of del) cli.out.write(x.Untagged ? `untagged: ${x.Untagged}\n` : `deleted: ${x.Deleted}\n`);
        cli.out.write('\n');
      }
      cli.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
    },
  },
];
