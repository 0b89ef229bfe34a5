import { trace } from '../../lib/trace.js';
import { promises as fsp, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../lib/log.js';
import type { EventBus } from '../events/index.js';
import type { LocalImageService } from '../images/index.js';
import type { Snapshotter } from '../snapshots/index.js';
import type { NetworkService } from '../network/index.js';
import type { ContainerVolumes } from '../volumes/index.js';
import type { AttachStreams, ContainerRuntime } from '../runtime/types.js';
import type { SpecBuilder } from './spec-builder.js';
import { ContainerStore } from './store.js';
import type { ContainerRecord, WaitCondition, WaitResult } from './types.js';

export interface ContainerServiceDeps {
  dataRoot: string;
  execRoot: string;
  images: LocalImageService;
  snapshots: Snapshotter;
  runtime: ContainerRuntime;
  specs: SpecBuilder;
  events: EventBus;
  log: Logger;
  defaultRuntime: string;
  /** Bridge networks, ports, DNS; without it containers get loopback-only or host networking. */
  network?: NetworkService;
  /** Named/anonymous volumes and VolumesFrom; without it the spec refuses them. */
  volumes?: ContainerVolumes;
}

type Waiter = { condition: WaitCondition; resolve: (r: WaitResult) => void };
type PendingAttach = { stdin: boolean; resolve: (s: AttachStreams | undefined) => void; reject: (e: Error) => void };

/** Shared state of the container verbs (each verb lives in its own file and takes this service). */
export class ContainerService {
  readonly store: ContainerStore;
  readonly exitDir: string;
  readonly waiters = new Map<string, Set<Waiter>>();
  /** Attachers that arrived before start: connected between runtime create and start, so no output is lost. */
  readonly pendingAttach = new Map<string, Set<PendingAttach>>();
  /** Restart timers of containers waiting out their back-off. */
  readonly restartTimers = new Map<string, NodeJS.Timeout>();
  /** Runtime-state and mount cleanup started at exit; start and rm await it instead of redoing it. */
  readonly cleanups = new Map<string, Promise<void>>();
  /** File operations (cp, export, diff) in flight per container: how many froze it, how many use its rootfs mount. */
  readonly fsUsers = new Map<string, { frozen: number; mounted: number }>();
  /** Per-container serialisation of state changes. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private watcher: FSWatcher | undefined;
  onExit: (id: string) => Promise<void> = async () => {};

  constructor(readonly d: ContainerServiceDeps) {
    this.store = new ContainerStore(join(d.dataRoot, 'containers'));
    this.exitDir = join(d.execRoot, 'exits');
  }

  bundle(id: string): string {
    return join(this.d.execRoot, 'containers', id);
  }

  rootfs(id: string): string {
    return join(this.bundle(id), 'rootfs');
  }

  persistDir(id: string): string {
    return join(this.store.dir(id), 'persist');
  }

  async init(): Promise<void> {
    await this.store.init();
    await fsp.mkdir(this.exitDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(join(this.d.execRoot, 'containers'), { recursive: true, mode: 0o711 });
    // conmon writes <exitDir>/<id> by rename when a container's process exits.
    this.watcher = watch(this.exitDir, (_ev, file) => {
      if (file && /^[a-f0-9]{64}$/.test(file) && this.store.byId.has(file)) {
        trace(file, 'exit: file seen');
        void this.onExit(file);
      }
    });
    this.d.images.setUsers({
      containersUsing: (imageId) => [...this.store.byId.values()].filter((r) => r.imageId === imageId).map((r) => r.id),
      pinnedSnapshots: () => [...this.store.byId.values()].flatMap((r) => (r.parentSnapshot ? [r.parentSnapshot] : [])),
    });
  }

  close(): void {
    this.watcher?.close();
    for (const t of this.restartTimers.values()) clearTimeout(t);
  }

  /** Run fn with the container's lock held (state changes never interleave for one container). */
  async serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.locks.set(id, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(id) === next) this.locks.delete(id);
    }
  }

  /** Wait for the cleanup of the last exit, if one is in flight; true when it ran. */
  async settled(id: string): Promise<boolean> {
    const c = this.cleanups.get(id);
    if (!c) return false;
    await c;
    this.cleanups.delete(id);
    return true;
  }

  notifyWaiters(id: string, event: 'exit' | 'removed', code: number): void {
    const set = this.waiters.get(id);
    if (!set) return;
    for (const w of [...set]) {
      if (event === 'removed' || w.condition !== 'removed') {
        w.resolve({ StatusCode: code, Error: null });
        set.delete(w);
      }
    }
    if (set.size === 0) this.waiters.delete(id);
  }

  emit(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    const labels = (rec.config.Labels ?? {}) as Record<string, string>;
    this.d.events.emit('container', action, rec.id, { ...labels, image: rec.image, name: rec.name, ...extra });
  }
}
