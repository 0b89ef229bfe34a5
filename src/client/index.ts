export { EngineClient, resolveHost, readAll } from './client.js';
export type { RequestOptions } from './client.js';
