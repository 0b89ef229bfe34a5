import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, startDaemon, type TestDaemon } from '../helpers/daemon.js';

/**
 * Builds FROM a real distribution image: debian:bookworm made by scripts/make-debian.sh (debootstrap, cached as a tar
 * under /var/cache/peti, so only the first run on a machine pays for it). Skipped, with the reason, only when
 * debootstrap is missing or cannot reach the mirror.
 */
describe('build FROM debian:bookworm', () => {
  let d: TestDaemon;
  let skip: string | undefined;
  before(async () => {
    d = await startDaemon();
    const r = spawnSync('bash', [join(REPO, 'scripts/make-debian.sh')], { env: { ...process.env, PETI_HOST: d.host }, timeout: 900_000 });
    if (r.status === 3) skip = `debian:bookworm could not be made: ${r.stderr.toString().trim().split('\n').slice(-2).join(' ')}`;
    else if (r.status !== 0) throw new Error(`make-debian.sh failed (${r.status}): ${r.stderr.toString()}`);
  });
  after(async () => { await d.cleanup(); });

  it('useradd, a file owned by the user, USER and WORKDIR; /bin stays the image\'s symlink', (t) => {
    if (skip) return t.skip(skip);
    const dir = join(d.dir, 'deb');
    mkdirSync(dir);
    writeFileSync(join(dir, 'conf'), 'conf\n');
    writeFileSync(join(dir, 'Dockerfile'), [
      'FROM debian:bookworm',
      'RUN useradd -m -u 1500 app && echo hi > /home/app/hi && chown app: /home/app/hi',
      'COPY --chown=app conf /bin/app.conf',
      'USER app',
      'WORKDIR /home/app/w',
      'CMD ["sh", "-c", "id -un; pwd; stat -c %U /home/app/hi /home/app/w /usr/bin/app.conf; readlink /bin"]',
    ].join('\n'));
    const b = d.peti(['build', '--progress=plain', '-t', 'deb:1', dir]);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    const r = d.peti(['run', '--rm', 'deb:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['app', '/home/app/w', 'app', 'app', 'app', 'usr/bin']);
  });
});
