import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './dockerfile.js';
import type { CopyInstruction, Instruction, RunInstruction } from './types.js';

function only(text: string): Instruction {
  const df = parseDockerfile(`FROM busybox\n${text}`);
  return df.stages[0]!.instructions[0]!;
}

test('directives, comments, continuations and line ranges', () => {
  const df = parseDockerfile([
    '# syntax=docker/dockerfile:1',
    '# check=skip=all',
    '# a comment',
    'ARG BASE=busybox',
    'FROM $BASE AS Build',
    'RUN echo a \\',
    '  # comment inside',
    '',
    '  && echo b',
    'CMD ["sh"]',
    '',
  ].join('\n'));
  assert.deepEqual(df.directives, { syntax: 'docker/dockerfile:1', check: 'skip=all' });
  assert.equal(df.metaArgs.length, 1);
  assert.equal(df.stages[0]!.name, 'build');
  const run = df.stages[0]!.instructions[0] as RunInstruction;
  assert.deepEqual(run.command, { form: 'shell', command: 'echo a   && echo b' });
  assert.equal(run.startLine, 6);
  assert.equal(run.endLine, 9);
  assert.equal(run.original, 'RUN echo a   && echo b');
  assert.equal(run.source, 'RUN echo a \\\n  # comment inside\n\n  && echo b\n');
  assert.equal(df.warnings.length, 1);
  assert.deepEqual((df.stages[0]!.instructions[1] as { command: unknown }).command, { form: 'exec', args: ['sh'] });
});

test('escape directive switches to backtick', () => {
  const df = parseDockerfile('# escape=`\nFROM windows\nRUN dir c:\\ `\n  /b\nCOPY a\\b c:\\dest\\\n');
  assert.equal(df.escapeToken, '`');
  const run = df.stages[0]!.instructions[0] as RunInstruction;
  assert.deepEqual(run.command, { form: 'shell', command: 'dir c:\\   /b' });
  assert.deepEqual((df.stages[0]!.instructions[1] as CopyInstruction).sources, ['a\\b']);
});

test('directives after the first instruction are comments; duplicates and bad escapes fail', () => {
  const df = parseDockerfile('FROM a\n# escape=`\nRUN x \\\n y');
  assert.equal(df.escapeToken, '\\');
  assert.throws(() => parseDockerfile('# escape=\\\n# escape=`\nFROM a'), /Dockerfile:2: only one escape parser directive can be used/);
  assert.throws(() => parseDockerfile('# escape=x\nFROM a'), /invalid escape token 'x'/);
});

test('errors name file and line as Docker does', () => {
  assert.throws(() => parseDockerfile('FROM a\nRUN x\nRUNN y', { filename: 'Dockerfile.dev' }), /^DockerfileError: Dockerfile\.dev:3: unknown instruction: RUNN$/);
  assert.throws(() => parseDockerfile('FROM a b'), /Dockerfile:1: FROM requires either one or three arguments/);
  assert.throws(() => parseDockerfile('FROM a AS 1x'), /invalid name for build stage: "1x"/);
  assert.throws(() => parseDockerfile(''), /the Dockerfile \(Dockerfile\) cannot be empty/);
  assert.throws(() => parseDockerfile('# just a comment\n\n'), /file with no instructions/);
  assert.throws(() => parseDockerfile('RUN x\nFROM a'), /Dockerfile:1: no build stage in current context/);
  assert.throws(() => parseDockerfile('FROM a\nCMD [1]'), /arrays must be comprised of strings only/);
  assert.throws(() => parseDockerfile('FROM a\nCOPY x'), /COPY requires at least two arguments/);
  assert.throws(() => parseDockerfile('FROM a\nCOPY --form=x a b'), /unknown flag: --form/);
  assert.throws(() => parseDockerfile('FROM a\nCOPY --from a b'), /missing a value on flag: --from/);
  assert.throws(() => parseDockerfile('FROM a\nWORKDIR'), /WORKDIR requires exactly one argument/);
  assert.throws(() => parseDockerfile('FROM a\nSHELL sh -c'), /SHELL requires the arguments to be in JSON form/);
  assert.throws(() => parseDockerfile('FROM a\nENV A'), /ENV must have two arguments/);
  assert.throws(() => parseDockerfile('FROM a\nENV A=1 B'), /Syntax error - can't find = in "B"/);
  assert.throws(() => parseDockerfile('FROM a\nRUN --network=bridge x'), /invalid network mode "bridge"/);
  assert.throws(() => parseDockerfile('FROM a\nRUN <<EOF\nx\n'), /Dockerfile:2: unterminated heredoc/);
});

test('JSON vs shell form, and invalid JSON falls back to shell form', () => {
  assert.deepEqual((only('ENTRYPOINT ["a", "b c"]') as { command: unknown }).command, { form: 'exec', args: ['a', 'b c'] });
  assert.deepEqual((only('CMD [not json') as { command: unknown }).command, { form: 'shell', command: '[not json' });
  assert.deepEqual((only("CMD ['single']") as { command: unknown }).command, { form: 'shell', command: "['single']" });
});

test('ENV and LABEL in both forms; ARG with several names', () => {
  assert.deepEqual((only('ENV A=1 B="two words" C=x\\ y') as { pairs: unknown }).pairs, [
    { key: 'A', value: '1', legacy: false },
    { key: 'B', value: '"two words"', legacy: false },
    { key: 'C', value: 'x\\ y', legacy: false },
  ]);
  assert.deepEqual((only('ENV PATH /usr/bin:/bin  and more') as { pairs: unknown }).pairs, [
    { key: 'PATH', value: '/usr/bin:/bin  and more', legacy: true },
  ]);
  assert.deepEqual((only('LABEL "com.example.a"="x y" b=c') as { pairs: unknown }).pairs, [
    { key: '"com.example.a"', value: '"x y"', legacy: false },
    { key: 'b', value: 'c', legacy: false },
  ]);
  assert.deepEqual((only('ARG A B=2 C="x y"') as { args: unknown }).args, [
    { name: 'A' }, { name: 'B', defaultValue: '2' }, { name: 'C', defaultValue: '"x y"' },
  ]);
});

test('COPY/ADD flags and sources', () => {
  const c = only('COPY --from=build --chown=app:app --chmod=0755 --link a b* /dst/') as CopyInstruction;
  assert.equal(c.kind, 'COPY');
  assert.deepEqual([c.from, c.chown, c.chmod, c.link, c.sources, c.dest], ['build', 'app:app', '0755', true, ['a', 'b*'], '/dst/']);
  const j = only('COPY ["a b", "/x y/"]') as CopyInstruction;
  assert.deepEqual([j.sources, j.dest, j.json], [['a b'], '/x y/', true]);
  const a = only('ADD --keep-git-dir=false --checksum=sha256:abc --link=false https://example.com/x.tar /opt') as CopyInstruction;
  assert.deepEqual([a.kind, a.keepGitDir, a.checksum, a.link], ['ADD', false, 'sha256:abc', false]);
  assert.equal((only('ADD --unpack=false x.tar /opt') as CopyInstruction).unpack, false);
  // Valid syntax this builder does not carry out: refused with the line, never ignored.
  assert.throws(() => parseDockerfile('FROM a\nADD --checksum=sha256:abc x.tar /opt'), /Dockerfile:2: checksum can't be specified for non-HTTP\(S\) sources/);
  assert.throws(() => parseDockerfile('FROM a\nCOPY --parents a/b /d/'), /Dockerfile:2: COPY --parents is not supported by this builder/);
  assert.throws(() => parseDockerfile('FROM a\nCOPY --exclude=*.md . /d/'), /Dockerfile:2: COPY --exclude is not supported by this builder/);
  assert.throws(() => parseDockerfile('FROM a\nADD --from=x a b'), /unknown flag: --from/);
  assert.throws(() => parseDockerfile('FROM a\nCOPY --link=maybe a b'), /expecting boolean value for flag --link, not: maybe/);
});

test('RUN mounts, network, security', () => {
  const r = only('RUN --mount=type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0700,uid=1000,gid=1000 ' +
    '--mount=type=bind,from=build,source=/out,target=/in --mount=type=tmpfs,target=/tmp,size=64m --network=none make') as RunInstruction;
  assert.equal(r.network, 'none');
  assert.deepEqual(r.command, { form: 'shell', command: 'make' });
  const [cache, bind, tmpfs] = r.mounts;
  assert.deepEqual([cache!.type, cache!.target, cache!.id, cache!.sharing, cache!.mode, cache!.uid, cache!.gid, cache!.readOnly],
    ['cache', '/root/.cache', 'pip', 'locked', 0o700, 1000, 1000, false]);
  assert.deepEqual([bind!.type, bind!.from, bind!.source, bind!.target, bind!.readOnly], ['bind', 'build', '/out', '/in', true]);
  assert.deepEqual([tmpfs!.type, tmpfs!.sizeLimit, tmpfs!.readOnly], ['tmpfs', 64 * 2 ** 20, false]);
  assert.deepEqual(r.flagsUsed.sort(), ['mount', 'network']);
  const v = only('RUN --mount=type=cache,target=$DIR x') as RunInstruction;
  assert.equal(v.mounts[0]!.needsExpansion, true);
  assert.throws(() => parseDockerfile('FROM a\nRUN --mount=type=bind,from=$X,target=/x y'), /'from' doesn't support variable expansion/);
  assert.throws(() => parseDockerfile('FROM a\nRUN --mount=type=bind,uid=1,target=/x y'), /uid not allowed for "bind" type mounts/);
  assert.throws(() => parseDockerfile('FROM a\nRUN --mount=type=nfs,target=/x y'), /unsupported mount type "nfs"/);
  assert.throws(() => parseDockerfile('FROM a\nRUN --mount=type=bind,sharing=locked,target=/x y'), /invalid cache sharing set for bind mount/);
});

test('heredocs: RUN inline, shebang file, on a command, several, COPY, quoted and <<-', () => {
  const df = parseDockerfile([
    'FROM busybox',
    'RUN <<EOF',
    'echo one',
    'echo two',
    'EOF',
    'RUN <<EOF',
    '#!/usr/bin/env python3',
    'print(1)',
    'EOF',
    'RUN python3 <<EOF',
    'print("$HOME")',
    'EOF',
    'RUN <<A cat > /a && <<-B cat > /b',
    'a',
    'A',
    '\tb',
    '\tB',
    'COPY <<-"EOF" <<OTHER /dest/',
    '\thello $NAME',
    '\tEOF',
    'x $Y',
    'OTHER',
    'RUN echo done',
  ].join('\n'));
  const [r1, r2, r3, r4, c, last] = df.stages[0]!.instructions as [RunInstruction, RunInstruction, RunInstruction, RunInstruction, CopyInstruction, RunInstruction];
  assert.deepEqual(r1.heredocs, [{ name: 'EOF', content: 'echo one\necho two\n', chomp: false, expand: true, fd: 0 }]);
  assert.deepEqual(r1.script, { kind: 'shell', shellCommand: 'echo one\necho two\n' });
  assert.deepEqual([r1.startLine, r1.endLine], [2, 5]);
  assert.deepEqual(r2.script, {
    kind: 'file', dir: '/dev/pipes/', name: 'EOF', path: '/dev/pipes/EOF', content: '#!/usr/bin/env python3\nprint(1)\n',
    mode: 0o755, shellCommand: '/dev/pipes/EOF',
  });
  assert.deepEqual(r3.script, { kind: 'shell', shellCommand: 'python3 <<EOF\nprint("$HOME")\nEOF' });
  assert.equal(r4.heredocs.length, 2);
  assert.equal(r4.heredocs[1]!.chomp, true);
  assert.deepEqual(r4.script, { kind: 'shell', shellCommand: 'cat > /a && <<-B cat > /b'.replace(/^/, '<<A ') + '\na\nA\n\tb\nB' });
  assert.deepEqual(c.inlineSources, [
    { path: 'EOF', data: 'hello $NAME\n', expand: false },
    { path: 'OTHER', data: 'x $Y\n', expand: true },
  ]);
  assert.deepEqual([c.sources, c.dest], [[], '/dest/']);
  assert.deepEqual([last.startLine, last.command], [23, { form: 'shell', command: 'echo done' }]);
  assert.throws(() => parseDockerfile('FROM a\nCOPY x <<EOF\ny\nEOF'), /COPY cannot accept a heredoc as a destination/);
});

test('exec-form RUN does not take heredocs', () => {
  const r = only('RUN ["cat", "<<EOF"]') as RunInstruction;
  assert.equal(r.heredocs.length, 0);
  assert.equal(r.script, undefined);
});

test('HEALTHCHECK NONE and CMD with options', () => {
  const h = only('HEALTHCHECK --interval=30s --timeout=1m30s --start-period=5s --start-interval=500ms --retries=3 CMD curl -f http://localhost/') as { health: unknown };
  assert.deepEqual(h.health, {
    test: ['CMD-SHELL', 'curl -f http://localhost/'], interval: 30e9, timeout: 90e9, startPeriod: 5e9, startInterval: 5e8, retries: 3,
  });
  assert.deepEqual((only('HEALTHCHECK CMD ["/bin/check", "x"]') as { health: { test: string[] } }).health.test, ['CMD', '/bin/check', 'x']);
  assert.deepEqual((only('HEALTHCHECK NONE') as { health: { test: string[] } }).health.test, ['NONE']);
  assert.throws(() => parseDockerfile('FROM a\nHEALTHCHECK NONE x'), /HEALTHCHECK NONE takes no arguments/);
  assert.throws(() => parseDockerfile('FROM a\nHEALTHCHECK CMD'), /Missing command after HEALTHCHECK CMD/);
  assert.throws(() => parseDockerfile('FROM a\nHEALTHCHECK --interval=1us CMD x'), /Interval "interval" cannot be less than 1ms/);
  assert.throws(() => parseDockerfile('FROM a\nHEALTHCHECK --retries=-1 CMD x'), /--retries cannot be negative \(-1\)/);
  assert.throws(() => parseDockerfile('FROM a\nHEALTHCHECK --interval=5 CMD x'), /missing unit in duration "5"/);
  assert.throws(() => parseDockerfile('FROM a\nHEALTHCHECK FOO'), /Unknown type "FOO" in HEALTHCHECK \(try CMD\)/);
});

test('ONBUILD wraps an instruction; chaining, FROM and MAINTAINER are refused', () => {
  const o = only('ONBUILD COPY --chown=1:1 . /app') as Extract<Instruction, { kind: 'ONBUILD' }>;
  assert.equal(o.expression, 'COPY --chown=1:1 . /app');
  assert.equal(o.trigger.kind, 'COPY');
  assert.equal((o.trigger as CopyInstruction).chown, '1:1');
  assert.throws(() => parseDockerfile('FROM a\nONBUILD ONBUILD RUN x'), /Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/);
  assert.throws(() => parseDockerfile('FROM a\nONBUILD FROM b'), /FROM isn't allowed as an ONBUILD trigger/);
  assert.throws(() => parseDockerfile('FROM a\nonbuild maintainer me'), /MAINTAINER isn't allowed as an ONBUILD trigger/);
  const h = parseDockerfile('FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\n').stages[0]!.instructions[0] as Extract<Instruction, { kind: 'ONBUILD' }>;
  assert.equal(h.expression, 'RUN <<EOF\necho hi\nEOF');
  assert.deepEqual((h.trigger as RunInstruction).script, { kind: 'shell', shellCommand: 'echo hi\n' });
});

test('remaining instructions', () => {
  const df = parseDockerfile([
    'FROM --platform=$BUILDPLATFORM golang:1.22 as build',
    'WORKDIR /src',
    'USER app:app',
    'EXPOSE 8080/tcp 443 53/udp',
    'VOLUME ["/data", "/logs"]',
    'VOLUME /a /b',
    'STOPSIGNAL SIGTERM',
    'SHELL ["/bin/bash", "-c"]',
    'MAINTAINER Jane <j@example.com>',
    'LABEL a=b',
    'FROM scratch',
  ].join('\n'));
  const s = df.stages[0]!;
  assert.deepEqual([s.from.image, s.from.stageName, s.from.platform], ['golang:1.22', 'build', '$BUILDPLATFORM']);
  const kinds = s.instructions.map((i) => i.kind);
  assert.deepEqual(kinds, ['WORKDIR', 'USER', 'EXPOSE', 'VOLUME', 'VOLUME', 'STOPSIGNAL', 'SHELL', 'MAINTAINER', 'LABEL']);
  assert.deepEqual((s.instructions[2] as { ports: string[] }).ports, ['443', '53/udp', '8080/tcp']);
  assert.deepEqual((s.instructions[3] as { volumes: string[] }).volumes, ['/data', '/logs']);
  assert.deepEqual((s.instructions[4] as { volumes: string[] }).volumes, ['/a', '/b']);
  assert.equal((s.instructions[7] as { maintainer: string }).maintainer, 'Jane <j@example.com>');
  assert.equal(df.stages[1]!.index, 1);
  assert.equal(df.instructions.length, 11);
});
