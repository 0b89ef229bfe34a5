/**
 * Parsing and checking a pushed manifest: OCI image manifest and index, Docker v2 manifest and manifest list.
 * The registry stores the bytes exactly as pushed; this only decides whether to accept them and what they point at.
 */
import { type Digest, isDigest } from '../lib/digest.js';
import { RegistryError } from './errors.js';

export const MANIFEST_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

const IMAGE_TYPES: readonly string[] = [MANIFEST_TYPES.ociManifest, MANIFEST_TYPES.dockerManifest];
const INDEX_TYPES: readonly string[] = [MANIFEST_TYPES.ociIndex, MANIFEST_TYPES.dockerList];
/** Content types a client may send when it does not name the manifest type (then the body decides). */
const GENERIC_TYPES: readonly string[] = ['', 'application/json', 'application/octet-stream'];

/** Clients and registries should handle manifests of at least 4 MiB (spec); more is refused. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface ParsedDescriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  /** Blobs the manifest needs in the repository: config and layers (layers with `urls` are foreign and exempt). */
  blobs: ParsedDescriptor[];
  /** Child manifests of an index. */
  manifests: ParsedDescriptor[];
  subject?: ParsedDescriptor;
  /** The referrers API's artifactType: the manifest's own, else an image's config media type. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, detail === undefined ? {} : { detail });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function descriptor(v: unknown, where: string): ParsedDescriptor {
  if (!isObject(v)) throw invalid(`${where}: descriptor must be an object`);
  const { mediaType, digest, size, urls } = v;
  if (typeof mediaType !== 'string' || mediaType === '') throw invalid(`${where}: missing mediaType`);
  if (typeof digest !== 'string' || !isDigest(digest)) throw invalid(`${where}: invalid or unsupported digest`, { digest: String(digest).slice(0, 200) });
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${where}: invalid size`);
  const d: ParsedDescriptor = { mediaType, digest, size };
  if (urls !== undefined) {
    if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string')) throw invalid(`${where}: invalid urls`);
    d.urls = urls as string[];
  }
  return d;
}

/** The media type without parameters, lower-cased. */
export function baseMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Checks a manifest body against its Content-Type. Throws MANIFEST_INVALID for malformed JSON, missing fields or
 * a `mediaType` field that differs from the Content-Type, and UNSUPPORTED (415) for manifest types this registry
 * does not store (such as Docker schema 1).
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isObject(doc)) throw invalid('manifest must be a JSON object');
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const ct = baseMediaType(contentType);
  const bodyType = doc.mediaType;
  if (bodyType !== undefined && typeof bodyType !== 'string') throw invalid('mediaType must be a string');
  let mediaType: string;
  if (GENERIC_TYPES.includes(ct)) {
    mediaType = bodyType ?? (Array.isArray(doc.manifests) ? MANIFEST_TYPES.ociIndex : MANIFEST_TYPES.ociManifest);
  } else {
    if (bodyType !== undefined && bodyType !== ct) {
      throw invalid(`mediaType ${JSON.stringify(bodyType)} does not match Content-Type ${JSON.stringify(ct)}`);
    }
    mediaType = ct;
  }
  const kind = IMAGE_TYPES.includes(mediaType) ? 'image' : INDEX_TYPES.includes(mediaType) ? 'index' : undefined;
  if (kind === undefined) {
    throw new RegistryError('UNSUPPORTED', `manifest media type ${JSON.stringify(mediaType.slice(0, 200))} is not supported`, { status: 415 });
  }
  const out: ParsedManifest = { mediaType, kind, blobs: [], manifests: [] };
  if (kind === 'image') {
    out.blobs.push(descriptor(doc.config, 'config'));
    if (!Array.isArray(doc.layers)) throw invalid('layers must be an array');
    doc.layers.forEach((l, i) => out.blobs.push(descriptor(l, `layers[${i}]`)));
  } else {
    if (!Array.isArray(doc.manifests)) throw invalid('manifests must be an array');
    doc.manifests.forEach((m, i) => out.manifests.push(descriptor(m, `manifests[${i}]`)));
  }
  if (doc.subject !== undefined) out.subject = descriptor(doc.subject, 'subject');
  if (doc.artifactType !== undefined) {
    if (typeof doc.artifactType !== 'string') throw invalid('artifactType must be a string');
    out.artifactType = doc.artifactType;
  } else if (kind === 'image') {
    out.artifactType = out.blobs[0]!.mediaType;
  }
  if (doc.annotations !== undefined) {
    if (!isObject(doc.annotations) || !Object.values(doc.annotations).every((v) => typeof v === 'string')) throw invalid('annotations must map strings to strings');
    out.annotations = doc.annotations as Record<string, string>;
  }
  return out;
}

/** Every digest a manifest refers to (for GC marking): blobs, child manifests and the subject. */
export function referencesOf(m: ParsedManifest): { blobs: Digest[]; manifests: Digest[]; subject?: Digest } {
  const r: { blobs: Digest[]; manifests: Digest[]; subject?: Digest } = {
    blobs: m.blobs.map((d) => d.digest),
    manifests: m.manifests.map((d) => d.digest),
  };
  if (m.subject) r.subject = m.subject.digest;
  return r;
}
