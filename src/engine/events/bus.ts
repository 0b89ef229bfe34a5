import type { EngineEvent, EventBus, EventFilter, EventType } from './types.js';

/** Docker keeps the last 1024 events in memory for `since`; so do we. */
const RING = 1024;

export class MemoryEventBus implements EventBus {
  private readonly ring: EngineEvent[] = [];
  private readonly subs = new Set<(e: EngineEvent) => void>();
  private lastNano = 0n;

  emit(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    let now = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    if (now <= this.lastNano) now = this.lastNano + 1n;
    this.lastNano = now;
    const e: EngineEvent = { type, action, actor: { id, attributes }, timeNano: now };
    this.ring.push(e);
    if (this.ring.length > RING) this.ring.shift();
    for (const fn of this.subs) fn(e);
    return e;
  }

  history(filter: EventFilter): EngineEvent[] {
    return this.ring.filter((e) => matchEvent(e, filter));
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
}

/** Docker's event filter semantics: OR within a key, AND across keys. */
export function matchEvent(e: EngineEvent, f: EventFilter): boolean {
  if (f.since !== undefined && e.timeNano < f.since) return false;
  if (f.until !== undefined && e.timeNano > f.until) return false;
  for (const [key, values] of Object.entries(f.filters ?? {})) {
    if (values.length === 0) continue;
    if (!values.some((v) => matchOne(e, key, v))) return false;
  }
  return true;
}

function matchOne(e: EngineEvent, key: string, v: string): boolean {
  const a = e.actor.attributes;
  switch (key) {
    case 'type': return e.type === v;
    case 'event': return e.action === v || e.action.split(':')[0] === v;
    case 'container': return e.type === 'container' && (e.actor.id === v || e.actor.id.startsWith(v) || a.name === v);
    case 'image':
      return e.actor.id === v || a.image === v || a.name === v || (e.type === 'image' && e.actor.id.replace(/^sha256:/, '').startsWith(v.replace(/^sha256:/, '')));
    case 'network': return e.type === 'network' && (e.actor.id === v || a.name === v);
    case 'volume': return e.type === 'volume' && (e.actor.id === v || a.name === v);
    case 'daemon': return e.type === 'daemon' && (e.actor.id === v || a.name === v);
    case 'scope': return v === 'local';
    case 'label': {
      const i = v.indexOf('=');
      return i < 0 ? v in a : a[v.slice(0, i)] === v.slice(i + 1);
    }
    default: return false;
  }
}
