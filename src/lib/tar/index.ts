export type { TarEntryType, TarHeader, TarWriteHeader } from './types.js';
export { readTar } from './reader.js';
export type { TarEntry, TarReadOptions, TarSource } from './reader.js';
export { TarWriter, encodeHeader } from './writer.js';
export type { TarBody } from './writer.js';
