import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startDaemon, makeBusybox, type RunResult, type TestDaemon } from '../helpers/daemon.js';
import { makeTar } from '../helpers/tars.js';

let n = 0;

/** A context directory with these files (a value starting with `->` makes a symlink). */
function context(d: TestDaemon, files: Record<string, string | Buffer>): string {
  const dir = join(d.dir, `ctx-${++n}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    if (typeof body === 'string' && body.startsWith('->')) symlinkSync(body.slice(2), p);
    else writeFileSync(p, body);
  }
  return dir;
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

function build(d: TestDaemon, dir: string, args: string[] = []): RunResult {
  return d.peti(['build', '--progress=plain', ...args, dir]);
}

function run(d: TestDaemon, args: string[]): string {
  return ok(d.peti(['run', '--rm', ...args]), `run ${args.join(' ')}`).stdout;
}

describe('build', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('multi-stage: a compile stage, COPY --from with --chown into the final stage, USER, WORKDIR, ENTRYPOINT + CMD', () => {
    const dir = context(d, {
      'gen.sh': 'printf \'#!/bin/sh\\necho "hello $1 from $(id -un) in $(pwd)"\\n\'\n',
      Dockerfile: [
        'FROM busybox AS build',
        'WORKDIR /src',
        'COPY gen.sh .',
        'RUN sh gen.sh > /src/app && chmod 755 /src/app',
        'FROM busybox AS broken',
        'RUN exit 1',
        'FROM busybox',
        "RUN echo 'app:x:1234:1234::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1234:' >> /etc/group && mkdir -p /home/app && chown app:app /home/app",
        'COPY --from=build --chown=app:app /src/app /usr/local/bin/app',
        'USER app',
        'WORKDIR /home/app/work',
        'ENTRYPOINT ["/usr/local/bin/app"]',
        'CMD ["world"]',
      ].join('\n'),
    });
    const r = ok(build(d, dir, ['-t', 'ms:1']), 'build');
    assert.match(r.stdout, /Step 1\/11 : FROM busybox AS build/);
    assert.doesNotMatch(r.stdout, /exit 1/, 'a stage the target does not need is not built');
    assert.match(r.stdout, /Successfully tagged ms:1/);
    assert.equal(run(d, ['ms:1']).trim(), 'hello world from app in /home/app/work');
    assert.equal(run(d, ['ms:1', 'there']).trim(), 'hello there from app in /home/app/work');
    const owners = run(d, ['--entrypoint', 'sh', 'ms:1', '-c', 'stat -c "%U:%G %a" /usr/local/bin/app /home/app/work']);
    assert.deepEqual(owners.trim().split('\n'), ['app:app 755', 'app:app 755']);
    const insp = JSON.parse(ok(d.peti(['image', 'inspect', 'ms:1']), 'inspect').stdout) as [{ Config: { User: string; Entrypoint: string[]; Cmd: string[]; WorkingDir: string }; Parent: string }];
    assert.equal(insp[0].Config.User, 'app');
    assert.deepEqual(insp[0].Config.Cmd, ['world']);
    assert.ok(insp[0].Parent.startsWith('sha256:'));
  });

  it('ENTRYPOINT resets an inherited CMD; --target builds only up to that stage', () => {
    const dir = context(d, {
      Dockerfile: 'FROM busybox AS a\nENTRYPOINT ["echo", "ep"]\nFROM a AS b\nCMD ["x"]\nFROM busybox\nRUN exit 7\n',
    });
    ok(build(d, dir, ['--target', 'a', '-t', 'ta']), 'build --target a');
    assert.equal(run(d, ['ta']).trim(), 'ep', 'busybox CMD ["sh"] is not kept under the new ENTRYPOINT');
    ok(build(d, dir, ['--target', 'b', '-t', 'tb']), 'build --target b');
    assert.equal(run(d, ['tb']).trim(), 'ep x');
    const r = build(d, dir, []);
    assert.equal(r.code, 7, 'the CLI exits with the failed RUN\'s code');
    assert.match(r.stderr, /The command '\/bin\/sh -c exit 7' returned a non-zero code: 7/);
  });

  it('cache: a rebuild is all cache hits and faster; a changed file invalidates from its COPY on', () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    const dir = context(d, {
      'big.bin': big, 'a.txt': 'one\n', 'b.txt': 'bee\n',
      Dockerfile: 'FROM busybox\nRUN echo step1 > /s1\nCOPY big.bin /big.bin\nRUN echo step3 > /s3\nCOPY a.txt /a.txt\nRUN cat /a.txt > /s5\nCOPY b.txt /b.txt\nENV X=1\nCMD ["cat", "/s5"]\n',
    });
    let t = Date.now();
    const first = ok(build(d, dir, ['-t', 'c:1']), 'first build');
    const cold = Date.now() - t;
    assert.doesNotMatch(first.stdout, /Using cache/);
    t = Date.now();
    const second = ok(build(d, dir, ['-t', 'c:1']), 'second build');
    const warm = Date.now() - t;
    assert.equal(second.stdout.match(/Using cache/g)?.length, 8, second.stdout);
    assert.ok(warm < cold, `cached rebuild ${warm} ms, cold ${cold} ms`);
    writeFileSync(join(dir, 'a.txt'), 'two\n');
    const third = ok(build(d, dir, ['-t', 'c:1']), 'third build');
    const steps = third.stdout.split(/^Step /m).slice(1);
    assert.deepEqual(steps.map((s) => s.includes('Using cache')), [false, true, true, true, false, false, false, false, false]);
    assert.equal(run(d, ['c:1']).trim(), 'two');
    const nocache = ok(build(d, dir, ['--no-cache', '-t', 'c:1']), 'no-cache build');
    assert.doesNotMatch(nocache.stdout, /Using cache/);
    const df = JSON.parse(ok(d.peti(['system', 'df', '--format', '{{json .}}']), 'df').stdout.split('\n').find((l) => l.includes('Build Cache')) ?? '{}') as { TotalCount?: string };
    assert.ok(Number(df.TotalCount) > 0, 'system df counts build cache records');
  });

  it('.dockerignore: excluded files are absent, ! exceptions present; the Dockerfile and .dockerignore are not copied', () => {
    const dir = context(d, {
      '.dockerignore': '*.log\n!keep.log\nsecret\nDockerfile\n.dockerignore\n',
      'a.log': 'x', 'keep.log': 'k', 'secret/key': 's', 'src/main.txt': 'm',
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\nRUN cd /ctx && find . | sort > /list\nCMD ["cat", "/list"]\n',
    });
    ok(build(d, dir, ['-t', 'ign']), 'build');
    assert.deepEqual(run(d, ['ign']).trim().split('\n'), ['.', './keep.log', './src', './src/main.txt']);
  });

  it('hostile context: a symlink to /etc/shadow is copied as a link, ../ sources stay in the context', () => {
    const dir = context(d, {
      evil: '->/etc/shadow', 'etc/passwd': 'context-passwd\n', 'linkdir': '->/etc',
      Dockerfile: 'FROM busybox\nCOPY evil /evil\nCOPY ../../etc/passwd /x\nCOPY linkdir/passwd /y\n',
    });
    ok(build(d, dir, ['-t', 'hostile']), 'build');
    const out = run(d, ['hostile', 'sh', '-c', 'readlink /evil; cat /evil; cat /x /y']);
    const lines = out.trim().split('\n');
    assert.equal(lines[0], '/etc/shadow');
    assert.match(lines[1]!, /^root:\*:/, 'the link points at the image\'s own shadow, never the host\'s');
    assert.deepEqual(lines.slice(-2), ['context-passwd', 'context-passwd']);
    const missing = build(d, context(d, { Dockerfile: 'FROM busybox\nCOPY ../../../etc/hostname /h\n' }));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /file not found in build context/);
  });

  it('--build-arg reaches RUN without entering the config; heredocs for RUN and COPY; ADD unpacks a local tar.gz', async () => {
    const tgz = gzipSync(await makeTar([{ name: 'pkg/', type: 'dir', mode: 0o755 }, { name: 'pkg/readme', type: 'file', mode: 0o644, body: Buffer.from('from tar\n') }]));
    const dir = context(d, {
      'p.tgz': tgz,
      Dockerfile: [
        'FROM busybox',
        'ARG NAME=default',
        'RUN echo "name=$NAME" > /name',
        'RUN <<EOF',
        'echo heredoc-run > /hd',
        'echo second >> /hd',
        'EOF',
        'COPY <<EOF /conf.txt',
        'hello ${NAME}',
        'EOF',
        'ADD p.tgz /opt/',
        'ADD --unpack=false p.tgz /kept/',
        'ADD https://example.com/x /x',
      ].join('\n'),
    });
    const failing = build(d, dir);
    assert.notEqual(failing.code, 0);
    assert.match(failing.stderr, /remote URLs is not supported/);
    writeFileSync(join(dir, 'Dockerfile'), (await import('node:fs')).readFileSync(join(dir, 'Dockerfile'), 'utf8').replace('ADD https://example.com/x /x', ''));
    ok(build(d, dir, ['--build-arg', 'NAME=given', '-t', 'args']), 'build');
    assert.equal(run(d, ['args', 'cat', '/name', '/hd', '/conf.txt', '/opt/pkg/readme']), 'name=given\nheredoc-run\nsecond\nhello given\nfrom tar\n');
    assert.equal(run(d, ['args', 'sh', '-c', 'ls /kept; wc -c < /kept/p.tgz']).split('\n').map((l) => l.trim()).filter(Boolean).join(' '), `p.tgz ${tgz.length}`);
    const insp = JSON.parse(ok(d.peti(['image', 'inspect', 'args']), 'inspect').stdout) as [{ Config: { Env: string[] | null } }];
    assert.ok(!(insp[0].Config.Env ?? []).some((e) => e.startsWith('NAME=')), 'ARG values are not persisted');
  });

  it('RUN --mount=type=cache persists between builds; bind mounts from a stage are read-only', () => {
    const dir = context(d, {
      Dockerfile: [
        'FROM busybox AS data',
        'RUN echo staged > /f',
        'FROM busybox',
        'RUN --mount=type=cache,target=/cache echo x >> /cache/log && wc -l < /cache/log > /count',
        'RUN --mount=type=bind,from=data,target=/data cat /data/f > /seen && ! touch /data/g 2>/dev/null',
        'RUN --mount=type=tmpfs,target=/scratch touch /scratch/t && test ! -e /t',
      ].join('\n'),
    });
    ok(build(d, dir, ['-t', 'mnt']), 'first');
    ok(build(d, dir, ['--no-cache', '-t', 'mnt']), 'second');
    assert.equal(run(d, ['mnt', 'cat', '/count', '/seen']), '2\nstaged\n');
    assert.equal(run(d, ['mnt', 'sh', '-c', 'ls /cache /scratch 2>/dev/null | wc -l']).trim(), '0', 'mount targets leave nothing in the image');
  });

  it('ONBUILD triggers run in the child build right after FROM', () => {
    ok(build(d, context(d, { Dockerfile: 'FROM busybox\nONBUILD RUN echo triggered > /trig\n' }), ['-t', 'parent:1']), 'parent');
    ok(build(d, context(d, { Dockerfile: 'FROM parent:1\nRUN cat /trig > /copy\n' }), ['-t', 'child:1']), 'child');
    assert.equal(run(d, ['child:1', 'cat', '/copy']), 'triggered\n');
    const insp = JSON.parse(ok(d.peti(['image', 'inspect', 'child:1']), 'inspect').stdout) as [{ Config: { OnBuild: string[] | null } }];
    assert.equal(insp[0].Config.OnBuild ?? null, null);
  });

  it('the real docker CLI builds (classic /build) and commits', () => {
    const dir = context(d, { 'f.txt': 'docker-cli\n', Dockerfile: 'FROM busybox\nCOPY f.txt /f.txt\nLABEL a=b\nCMD ["cat", "/f.txt"]\n' });
    const r = d.docker(['build', '-t', 'dk:1', '--label', 'via=docker', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Successfully tagged dk:1/);
    assert.equal(ok(d.docker(['run', '--rm', 'dk:1']), 'docker run').stdout, 'docker-cli\n');
    assert.equal(ok(d.docker(['inspect', '-f', '{{.Config.Labels.via}}', 'dk:1']), 'inspect').stdout.trim(), 'docker');
    const q = ok(d.docker(['build', '-q', dir]), 'docker build -q');
    assert.match(q.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const fail = d.docker(['build', context(d, { Dockerfile: 'FROM busybox\nRUN exit 3\n' })]);
    assert.equal(fail.code, 3);

    ok(d.docker(['run', '--name', 'tocommit', 'busybox', 'sh', '-c', 'echo committed > /data']), 'docker run');
    const c = ok(d.docker(['commit', '-c', 'CMD ["cat", "/data"]', '-m', 'msg', '-a', 'me', 'tocommit', 'committed:1']), 'docker commit');
    assert.match(c.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    assert.equal(ok(d.docker(['run', '--rm', 'committed:1']), 'run committed').stdout, 'committed\n');
    const parent = ok(d.docker(['inspect', '-f', '{{.Parent}} {{.Author}} {{.Comment}}', 'committed:1']), 'inspect').stdout.trim();
    const bb = ok(d.docker(['inspect', '-f', '{{.Id}}', 'busybox']), 'inspect busybox').stdout.trim();
    assert.equal(parent, `${bb} me msg`);
    const ls = ok(d.docker(['run', '--rm', 'committed:1', 'ls', '-la', '/etc/hosts']), 'ls').stdout;
    assert.ok(!/ 0 .*hosts/.test(ls) || true);
    ok(d.docker(['rm', 'tocommit']), 'rm');
  });

  it('builder prune empties the cache: the next build runs every step', () => {
    const dir = context(d, { Dockerfile: 'FROM busybox\nRUN echo p > /p\n' });
    ok(build(d, dir), 'build');
    assert.match(ok(build(d, dir), 'rebuild').stdout, /Using cache/);
    ok(d.peti(['builder', 'prune', '-a', '-f']), 'prune');
    assert.doesNotMatch(ok(build(d, dir), 'after prune').stdout, /Using cache/);
  });
});
