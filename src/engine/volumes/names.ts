import { randomBytes } from 'node:crypto';
import { InvalidArgument } from '../../lib/errors.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Docker's local driver rule for names; the words are Docker's (the CLI user reads them). */
export function checkVolumeName(name: string): string {
  if (name.length < 2) {
    throw new InvalidArgument(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  }
  if (!NAME.test(name) || name.length > 255) {
    throw new InvalidArgument(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return name;
}

export function isValidVolumeName(name: string): boolean {
  return NAME.test(name) && name.length <= 255;
}

/** Anonymous volumes get 64 hex characters, as Docker's stringid. */
export function anonymousName(): string {
  return randomBytes(32).toString('hex');
}
