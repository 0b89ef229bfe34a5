/** An engine event in Docker's vocabulary (Type/Action/Actor); the API serialises it as Docker does. */
export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'node' | 'service' | 'secret' | 'config' | 'builder';

export interface EngineEvent {
  type: EventType;
  action: string;
  actor: { id: string; attributes: Record<string, string> };
  /** Nanoseconds since the epoch. */
  timeNano: bigint;
}

export interface EventFilter {
  /** Key -> accepted values (Docker's `filters` query). */
  filters?: Record<string, string[]>;
  /** Nanoseconds; inclusive bounds. */
  since?: bigint;
  until?: bigint;
}

export interface EventBus {
  /** Publish an event now. */
  emit(type: EventType, action: string, id: string, attributes?: Record<string, string>): EngineEvent;
  /** Past events (from the in-memory ring) matching the filter, oldest first. */
  history(filter: EventFilter): EngineEvent[];
  /** Call fn for every future event (internal: petid's own, not counted as a listener); returns the unsubscribe function. */
  subscribe(fn: (e: EngineEvent) => void, opts?: { internal?: boolean }): () => void;
}
