/**
 * The peti CLI's container verbs against a real petid: run flows and exit codes, detached lifecycles, stdin,
 * config flags seen from inside, exec, ps output and a TTY session under util-linux `script`. Skipped (with the
 * reason) while the daemon does not serve the container API yet.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startDaemon, makeBusybox, waitFor, PETI, type TestDaemon } from '../helpers/daemon.js';

describe('cli containers', () => {
  let d: TestDaemon;
  let unavailable: string | false = false;
  before(async () => {
    d = await startDaemon();
    makeBusybox(d);
    try {
      (await d.client.send('GET', '/containers/json')).resume();
    } catch (e) {
      unavailable = `the daemon does not serve the container API yet (${(e as Error).message})`;
    }
  });
  after(async () => { await d?.cleanup(); });

  const live = (name: string, fn: (t: TestContext) => Promise<void> | void): void => {
    it(name, async (t) => {
      if (unavailable) return t.skip(unavailable);
      await fn(t);
    });
  };

  it('CLI-side checks: flag errors are 125, -it needs a terminal, inspect falls back to images', () => {
    const bad = d.peti(['run', '--cpus', 'lots', 'busybox']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid argument "lots" for "--cpus" flag/);
    const noTty = d.peti(['run', '-it', 'busybox', 'sh'], { input: '' });
    assert.equal(noTty.code, 1);
    assert.equal(noTty.stderr, 'the input device is not a TTY\n');
    assert.equal(d.peti(['inspect', '--format', '{{index .RepoTags 0}}', 'busybox']).stdout, 'busybox:latest\n');
    const typed = d.peti(['inspect', '--type', 'container', 'busybox']);
    assert.equal(typed.code, 1);
    assert.equal(typed.stderr, 'Error: No such container: busybox\n');
  });

  live('run --rm echo prints and removes the container', () => {
    const r = d.peti(['run', '--rm', 'busybox', 'echo', 'hello world']);
    assert.equal(r.stdout, 'hello world\n', r.stderr);
    assert.equal(r.code, 0);
    assert.equal(d.peti(['ps', '-aq']).stdout, '');
  });

  live('exit codes: the container\'s, 127 for a missing binary, 125 for daemon errors', () => {
    assert.equal(d.peti(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).code, 3);
    const missing = d.peti(['run', '--rm', 'busybox', '/no/such/binary']);
    assert.equal(missing.code, 127, missing.stderr);
    const bad = d.peti(['run', '--rm', '--name', 'x/y', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /Error response from daemon/);
    const noImage = d.peti(['run', '--rm', 'nosuchimage:1', 'true']);
    assert.equal(noImage.code, 125);
    assert.match(noImage.stderr, /Unable to find image 'nosuchimage:1' locally/);
  });

  live('stdout and stderr stay apart', () => {
    const r = d.peti(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  live('-d, ps, logs, stop, rm', async () => {
    const r = d.peti(['run', '-d', '--name', 'sleeper', 'busybox', 'sh', '-c', 'echo started; echo oops >&2; sleep 60']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    await waitFor(() => d.peti(['logs', 'sleeper']).stdout === 'started\n', 'logs');
    const logs = d.peti(['logs', 'sleeper']);
    assert.equal(logs.stderr, 'oops\n');
    const ps = d.peti(['ps']);
    const lines = ps.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    assert.ok(lines[1]!.startsWith(id.slice(0, 12)));
    assert.match(lines[1]!, /"sh -c 'echo started…"/);
    assert.match(lines[1]!, /Up .*sleeper$/);
    assert.equal(d.peti(['ps', '-q', '--no-trunc']).stdout, `${id}\n`);
    assert.equal(d.peti(['ps', '--format', '{{.Names}} {{.State}}']).stdout, 'sleeper running\n');
    assert.equal(d.peti(['stop', '-t', '1', 'sleeper']).stdout, 'sleeper\n');
    assert.equal(d.peti(['ps', '-q']).stdout, '');
    assert.match(d.peti(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Status}}']).stdout, /^Exited \(\d+\)/);
    assert.equal(d.peti(['inspect', '--format', '{{.State.Status}}', 'sleeper']).stdout, 'exited\n');
    assert.equal(d.peti(['rm', 'sleeper']).stdout, 'sleeper\n');
    assert.equal(d.peti(['container', 'ls', '-aq']).stdout, '');
  });

  live('-i forwards piped stdin and half-closes it', () => {
    const r = d.peti(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'line1\nline2\n' });
    assert.equal(r.stdout, 'line1\nline2\ndone\n', r.stderr);
    assert.equal(r.code, 0);
  });

  live('env, workdir, user and hostname flags are visible inside', () => {
    const r = d.peti(['run', '--rm', '-e', 'FOO=bar', '-e', 'FROM_CLI', '-w', '/tmp', '-u', '1234:5678', '-h', 'box', 'busybox', 'sh', '-c', 'echo $FOO $FROM_CLI; pwd; id -u; id -g; hostname'], { env: { FROM_CLI: 'cli-value' } });
    assert.equal(r.stdout, 'bar cli-value\n/tmp\n1234\n5678\nbox\n', r.stderr);
  });

  live('exec runs in a running container and returns its exit code', () => {
    assert.equal(d.peti(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '60']).code, 0);
    const r = d.peti(['exec', '-e', 'X=1', '-w', '/etc', 'ex', 'sh', '-c', 'echo $X $(pwd); exit 7']);
    assert.equal(r.stdout, '1 /etc\n');
    assert.equal(r.code, 7);
    assert.equal(d.peti(['exec', '-i', 'ex', 'cat'], { input: 'piped\n' }).stdout, 'piped\n');
    assert.equal(d.peti(['kill', 'ex']).stdout, 'ex\n');
    assert.equal(d.peti(['wait', 'ex']).stdout, '137\n');
    assert.equal(d.peti(['rm', '-f', 'ex']).code, 0);
  });

  live('create + start -a, restart, container prune', () => {
    const id = d.peti(['create', '--name', 'c1', 'busybox', 'echo', 'from-create']).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const s = d.peti(['start', '-a', 'c1']);
    assert.equal(s.stdout, 'from-create\n');
    assert.equal(s.code, 0);
    assert.match(d.peti(['container', 'prune', '-f']).stdout, new RegExp(`Deleted Containers:\\n${id}\\n`));
  });

  live('a TTY session under script(1): raw output and the terminal size', (t: TestContext) => {
    if (spawnSync('script', ['--version']).status !== 0) return t.skip('util-linux script is not installed');
    const cmd = `stty rows 30 cols 100; ${process.execPath} ${PETI} run --rm -it busybox sh -c "stty size; echo hi"`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, PETI_HOST: d.host }, input: '', timeout: 60_000 });
    const out = r.stdout.toString();
    assert.match(out, /30 100\r\nhi\r\n/);
    assert.ok(!out.includes('\r\r\n'), JSON.stringify(out));
  });
});
