/**
 * The conformance suite against Debian's docker-registry (distribution 2.8, the reference server): it passes
 * where that server implements the feature, which shows the tests read the spec right. What it lacks is named in
 * `features` and checked as lacking: the referrers API and OCI-Subject (distribution-spec 1.1), JSON UNSUPPORTED
 * bodies for unknown methods, and a session limit (TOOMANYREQUESTS).
 */
import { after, before, describe } from 'node:test';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hashSync } from 'bcryptjs';
import { registryConformance, type RegistryFeatures } from './conformance.suite.js';
import { ensureDockerRegistry, startDockerRegistry, tempDir, type RunningServer } from './servers.js';

const LACKS: RegistryFeatures = {
  referrers: false,
  tagDelete: false,
  unsupportedCode: false,
  catalogLink: true,
  monolithicPost: false,
  chunkOrder: false,
  tagPagination: false,
  unsatisfiableRange: false,
  dotDotRejected: false,
  unknownUploadCode: false,
};

const skip = ensureDockerRegistry();

describe('docker-registry (reference server)', { skip }, () => {
  const dir = tempDir('peti-docker-registry-');
  let open: RunningServer;
  let basic: RunningServer;
  before(async () => {
    writeFileSync(join(dir, 'htpasswd'), `alice:${hashSync('s3cret', 5).replace(/^\$2b\$/, '$2y$')}\n`);
    open = await startDockerRegistry(join(dir, 'open'));
    basic = await startDockerRegistry(join(dir, 'basic'), join(dir, 'htpasswd'));
  });
  after(async () => {
    await open?.stop();
    await basic?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  registryConformance('docker-registry, no auth', () => ({ url: open.url, auth: { kind: 'none' }, features: LACKS }));
  registryConformance('docker-registry, htpasswd', () => ({ url: basic.url, auth: { kind: 'basic', user: 'alice', password: 's3cret' }, features: LACKS }));
});
