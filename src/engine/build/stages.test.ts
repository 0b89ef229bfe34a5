import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './dockerfile.js';
import { platformArgs, resolveStageArg, resolveStages } from './stages.js';

const host = { os: 'linux', architecture: 'amd64' };

const multi = parseDockerfile([
  'ARG GO=1.22',
  'ARG BASE=alpine',
  'FROM golang:${GO} AS Build',
  'RUN go build',
  'FROM busybox AS assets',
  'RUN make assets',
  'FROM build AS test',
  'RUN go test',
  'FROM ${BASE}:3.19',
  'ARG GO',
  'COPY --from=build /out /app',
  'COPY --from=1 /assets /assets',
  'COPY --from=nginx:latest /etc/nginx /etc/nginx',
  'RUN --mount=type=cache,target=/c --mount=type=bind,from=assets,target=/x true',
].join('\n'));

test('bases, names, dependencies and the stages the target needs', () => {
  const plan = resolveStages(multi, { platform: host, buildArgs: { BASE: 'debian' } });
  assert.deepEqual(plan.stages.map((s) => s.baseName), ['golang:1.22', 'busybox', 'build', 'debian:3.19']);
  assert.deepEqual(plan.stages[2]!.base, { kind: 'stage', index: 0 });
  assert.deepEqual(plan.stages[3]!.base, { kind: 'image', ref: 'debian:3.19' });
  assert.equal(plan.target, 3);
  assert.deepEqual(plan.order, [0, 1, 3]);
  assert.deepEqual(plan.parallel, [[0, 1], [3]]);
  assert.deepEqual(plan.stages[3]!.deps.map((d) => d.stage ?? d.image), [0, 1, 'nginx:latest', 1]);
  assert.equal(plan.globalArgs.get('GO'), '1.22');
  assert.equal(plan.globalArgs.get('TARGETPLATFORM'), 'linux/amd64');
});

test('--target (case-insensitive) builds only what it needs', () => {
  const plan = resolveStages(multi, { platform: host, target: 'TEST' });
  assert.equal(plan.target, 2);
  assert.deepEqual(plan.order, [0, 2]);
  assert.deepEqual(plan.parallel, [[0], [2]]);
  assert.throws(() => resolveStages(multi, { platform: host, target: 'nope' }), /target stage "nope" could not be found/);
});

test('stage ARG scope: global values only after redeclaration', () => {
  const plan = resolveStages(multi, { platform: host });
  const def = { name: 'GO' };
  assert.equal(resolveStageArg(def, { buildArgs: {}, globalArgs: plan.globalArgs, env: new Map() }), '1.22');
  assert.equal(resolveStageArg(def, { buildArgs: { GO: '1.23' }, globalArgs: plan.globalArgs, env: new Map() }), '1.23');
  assert.equal(resolveStageArg({ name: 'X', defaultValue: '${Y}-z' }, { buildArgs: {}, globalArgs: plan.globalArgs, env: new Map([['Y', 'y']]) }), 'y-z');
  assert.equal(resolveStageArg({ name: 'TARGETARCH' }, { buildArgs: {}, globalArgs: plan.globalArgs, env: new Map() }), 'amd64');
  assert.equal(resolveStageArg({ name: 'NOPE' }, { buildArgs: {}, globalArgs: plan.globalArgs, env: new Map() }), undefined);
});

test('predefined platform args and unused build args', () => {
  const p = platformArgs({ os: 'linux', architecture: 'arm64', variant: 'v8' }, host, 'final');
  assert.equal(p.get('TARGETPLATFORM'), 'linux/arm64/v8');
  assert.equal(p.get('BUILDPLATFORM'), 'linux/amd64');
  assert.equal(p.get('TARGETSTAGE'), 'final');
  const plan = resolveStages(multi, { platform: host, buildArgs: { HTTP_PROXY: 'x', FOO: '1', GO: '1' } });
  assert.deepEqual(plan.unusedBuildArgs, ['FOO']);
});

test('errors: cycles, bad index, variables in --from, blank base', () => {
  const cyc = parseDockerfile('FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y');
  assert.throws(() => resolveStages(cyc, { platform: host }), /circular dependency detected on stage: a/);
  assert.throws(() => resolveStages(parseDockerfile('FROM a\nCOPY --from=5 /x /x'), { platform: host }), /invalid stage index 5/);
  assert.throws(() => resolveStages(parseDockerfile('FROM a\nCOPY --from=$X /x /x'), { platform: host }), /variable expansion is not supported for --from/);
  assert.throws(() => resolveStages(parseDockerfile('ARG X\nFROM $X'), { platform: host }), /Dockerfile:2: base name \(\$X\) should not be blank/);
  const scratch = resolveStages(parseDockerfile('FROM scratch\nCOPY a /'), { platform: host });
  assert.deepEqual(scratch.stages[0]!.base, { kind: 'scratch' });
});

test('ARG inside a stage does not leak into FROM', () => {
  const df = parseDockerfile('FROM busybox\nARG IMG=alpine\nFROM ${IMG:-debian}');
  assert.equal(resolveStages(df, { platform: host }).stages[1]!.baseName, 'debian');
});
