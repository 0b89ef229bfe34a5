import { InvalidArgument } from '../../lib/errors.js';
import { type Descriptor, type Platform, hostPlatform } from '../../lib/oci/types.js';

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', x86: '386', i386: '386', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };

/** Parse `os/arch[/variant]` (or a bare `arch`) as containerd's platforms.Parse does, normalising arch aliases. */
export function parsePlatform(s: string | undefined): Platform {
  if (!s) return hostPlatform();
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) throw new InvalidArgument(`invalid platform ${JSON.stringify(s)}: use os/arch[/variant]`);
  const [a, b, c] = parts;
  const os = parts.length === 1 ? 'linux' : a!;
  const arch = ARCH_ALIASES[parts.length === 1 ? a! : b!] ?? (parts.length === 1 ? a! : b!);
  const p: Platform = { os, architecture: arch };
  if (c) p.variant = c;
  else if (arch === 'arm64' && parts.length === 3) p.variant = 'v8';
  return p;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** True when an index entry's platform serves `want` (arm64's variant v8 is its default). */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  if (!want.variant) return true;
  const v = have.variant ?? (have.architecture === 'arm64' ? 'v8' : undefined);
  return v === want.variant;
}

/** The entries of an index for a platform, best first (attestation manifests are never images). */
export function candidates(manifests: readonly Descriptor[], want: Platform): Descriptor[] {
  return manifests.filter((m) => m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' && platformMatches(m.platform, want));
}
