export { EngineClient, resolveHost, readAll } from './client.js';
export type { RequestOptions } from './client.js';
export { hijack, copyOutput, forwardStdin, StdcopyDemuxer, type HijackedStream, type DemuxSinks } from './hijack.js';
