// .dockerignore matching and Go's path rules: pure, shared by the CLI (context upload) and the builder (daemon side).
export { buildFilesToRemove, createMatcher, patternsForContextUpload, readDockerignore } from './dockerignore.js';
export type { IgnoreMatcher } from './dockerignore.js';
export { BadPattern, cleanPath, goMatch, hasWildcards } from './go-path.js';
