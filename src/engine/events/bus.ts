import type { EngineEvent, EventBus, EventFilter, EventType } from './types.js';

/** Docker keeps the last 1024 events in memory for `since`; so do we. */
const RING = 1024;

export class MemoryEventBus implements EventBus {
  private readonly ring: EngineEvent[] = [];
  private readonly subs = new Set<(e: EngineEvent) => void>();
  private readonly internal = new Set<(e: EngineEvent) => void>();
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

  subscribe(fn: (e: EngineEvent) => void, opts: { internal?: boolean } = {}): () => void {
    this.subs.add(fn);
    if (opts.internal) this.internal.add(fn);
    return () => {
      this.subs.delete(fn);
      this.internal.delete(fn);
    };
  }

  /** Clients following events now (Docker's NEventsListener); petid's own subscribers are not counted. */
  listenerCount(): number {
    return this.subs.size - this.internal.size;
  }
}

/**
 * Docker's event filter (daemon/events/filter.go): values of one key are alternatives, keys must all hold, except
 * `label`, where every given label must be on the actor. `container`, `network`, `volume` and `daemon` match the
 * actor's ID or `name` attribute exactly or by prefix (whatever the event's type, as Docker's); `image`
 * matches the actor's ID or image name (a container's `image` attribute, an image's `name`), with or without tag;
 * `event` is exact, but by prefix when it names `health_status`, `exec_create` or `exec_start` (their actions carry
 * a suffix). Unknown keys are ignored, as Docker does.
 */
export function matchEvent(e: EngineEvent, f: EventFilter): boolean {
  if (f.since !== undefined && e.timeNano < f.since) return false;
  if (f.until !== undefined && e.timeNano > f.until) return false;
  const filters = f.filters ?? {};
  const vals = (k: string): string[] => filters[k] ?? [];
  const exact = (k: string, ...sources: (string | undefined)[]): boolean => vals(k).length === 0 || sources.some((s) => s !== undefined && vals(k).includes(s));
  const fuzzy = (k: string, ...sources: (string | undefined)[]): boolean => vals(k).length === 0 || sources.some((s) => s !== undefined && s !== '' && vals(k).some((v) => s === v || s.startsWith(v)));
  const a = e.actor.attributes;
  const byName = (k: string): boolean => fuzzy(k, e.actor.id, a.name);
  const events = vals('event');
  const eventOk = events.some((v) => v === 'health_status' || v === 'exec_create' || v === 'exec_start') ? fuzzy('event', e.action) : exact('event', e.action);
  const imageName = e.type === 'image' ? a.name : a.image;
  return eventOk
    && exact('type', e.type)
    && (vals('scope').length === 0 || vals('scope').includes('local'))
    && byName('daemon') && byName('container') && byName('plugin') && byName('volume') && byName('network')
    && byName('node') && byName('service') && byName('secret') && byName('config')
    && exact('image', e.actor.id, imageName, stripTag(e.actor.id), imageName !== undefined ? stripTag(imageName) : undefined)
    && vals('label').every((v) => {
      const i = v.indexOf('=');
      return i < 0 ? v in a : a[v.slice(0, i)] === v.slice(i + 1);
    });
}

/** Docker's stripTag: the familiar name without tag or digest (`busybox:latest` -> `busybox`). */
function stripTag(ref: string): string {
  if (/^sha256:[a-f0-9]+$/.test(ref) || /^[a-f0-9]{64}$/.test(ref)) return ref;
  let s = ref;
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  return s.replace(/^(docker\.io|index\.docker\.io)\//, '').replace(/^library\//, '');
}
