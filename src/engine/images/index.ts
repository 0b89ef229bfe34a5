export type {
  Image, ImageRecord, ImageService, ImageUsers, ImportOptions, ListOptions, LoadResult, Progress, ProgressFn,
  RemoveOptions, RemoveResult,
} from './types.js';
export { LocalImageService, normalizeRef } from './service.js';
export type { ImageServiceDeps } from './service.js';
export { applyChanges } from './changes.js';
export { markLive } from './gc.js';
