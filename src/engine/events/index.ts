export type { EngineEvent, EventBus, EventFilter, EventType } from './types.js';
export { MemoryEventBus, matchEvent } from './bus.js';
