export type { BlobInfo, ContentStore, IngestExpect } from './types.js';
export { FileContentStore } from './store.js';
