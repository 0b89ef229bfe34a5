import { Conflict } from '../../lib/errors.js';
import type { AttachStreams } from '../runtime/types.js';
import { ContainerService, type ContainerServiceDeps } from './service.js';
import { createContainer } from './create.js';
import { startContainer } from './start.js';
import { stopContainer, killContainer, restartContainer } from './stop.js';
import { removeContainer } from './remove.js';
import { waitContainer } from './wait.js';
import { readLogs, type LogEntry, type LogOptions } from './logs.js';
import { attachContainer, cancelPendingAttach, type AttachOptions, type Attachment } from './attach.js';
import { listContainers } from './list.js';
import { handleExit } from './exit.js';
import { reconcile } from './reconcile.js';
import { pruneContainers } from './prune.js';
import { HealthMonitor } from './health.js';
import { ExecStore, createExec, getExec, startExec, type ExecConfig, type ExecRecord, type UserResolver } from './exec.js';
import type { ContainerRecord, CreateBody, ListFilter, WaitCondition, WaitResult } from './types.js';
import { archivePath, extractToDir, statPath, type ExtractOptions, type PathStat } from './cp.js';
import { containerChanges, type Change } from './diff.js';
import { exportContainer } from './export.js';
import { topContainer, type TopResult } from './top.js';
import { statsStream, type StatsJson } from './stats.js';
import { updateContainer, type UpdateBody } from './update.js';
import { pauseContainer, unpauseContainer } from './pause.js';
import { renameContainer } from './rename.js';
import type { Readable } from 'node:stream';

export type { ContainerRecord, CreateBody, ListFilter, WaitCondition, WaitResult, LogEntry, LogOptions, AttachOptions, Attachment, ExecConfig, ExecRecord, UserResolver, AttachStreams };
export type { ContainerServiceDeps } from './service.js';
export type { PathStat, ExtractOptions, Change, TopResult, StatsJson, UpdateBody };
export type { SpecBuilder } from './spec-builder.js';
export { parseLogLine } from './logs.js';
export { parseSignal } from './stop.js';
export { shouldRestart } from './exit.js';
export { connectContainer, disconnectContainer, specFiles as specFilesFor, specNetwork as specNetworkFor } from './networking.js';

/** The containers service as the API sees it: one method per verb, each implemented in its own file. */
export class Containers {
  readonly svc: ContainerService;
  readonly execs = new ExecStore();
  /** Healthchecks of running containers (health.ts). */
  readonly health: HealthMonitor;

  constructor(deps: ContainerServiceDeps, private readonly resolveUser: UserResolver) {
    this.svc = new ContainerService(deps);
    this.svc.onExit = (id) => handleExit(this.svc, id);
    this.health = new HealthMonitor(this.svc, this.execs, resolveUser);
  }

  async init(): Promise<void> {
    await this.svc.init();
    await reconcile(this.svc);
    // After reconcile: checks resume for the containers still running, from their persisted state.
    this.health.init();
  }

  close(): void {
    this.health.close();
    this.svc.close();
  }

  create(body: CreateBody, name?: string): Promise<{ Id: string; Warnings: string[] }> { return createContainer(this.svc, body, name); }
  start(ref: string): Promise<void> { return startContainer(this.svc, ref); }
  stop(ref: string, opts?: { signal?: string; timeout?: number }): Promise<void> { return stopContainer(this.svc, ref, opts); }
  kill(ref: string, signal?: string): Promise<void> { return killContainer(this.svc, ref, signal); }
  restart(ref: string, opts?: { signal?: string; timeout?: number }): Promise<void> { return restartContainer(this.svc, ref, opts); }
  remove(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void> { return removeContainer(this.svc, ref, opts); }
  wait(ref: string, condition?: WaitCondition, signal?: AbortSignal): { ready: Promise<void>; result: Promise<WaitResult> } { return waitContainer(this.svc, ref, condition, signal); }
  logs(ref: string, opts: LogOptions): AsyncGenerator<LogEntry> { return readLogs(this.svc, ref, opts); }
  attach(ref: string, opts: AttachOptions): Attachment { return attachContainer(this.svc, ref, opts); }
  cancelAttach(id: string): void { cancelPendingAttach(this.svc, id); }
  list(opts?: ListFilter): ContainerRecord[] { return listContainers(this.svc, opts); }
  get(ref: string): ContainerRecord { return this.svc.store.get(ref); }
  prune(filters: Record<string, string[]>): Promise<{ deleted: string[]; reclaimed: number }> { return pruneContainers(this.svc, filters); }
  async resize(ref: string, rows: number, cols: number): Promise<void> {
    const rec = this.svc.store.get(ref);
    if (rec.state.status !== 'running') throw new Conflict(`Container ${rec.id} is not running`);
    await this.svc.d.runtime.resize(this.svc.bundle(rec.id), rows, cols);
  }
  /** Disk usage of a container's writable layer. */
  async sizeRw(ref: string): Promise<number> {
    const rec = this.svc.store.get(ref);
    return this.svc.d.snapshots.usage(rec.snapshotKey).then((u) => u.size, () => 0);
  }

  /** SizeRw and SizeRootFs (`ps -s`, `inspect -s`): the writable layer, and it plus the image's unpacked layers. */
  async sizes(ref: string): Promise<{ rw: number; rootFs: number }> {
    const rec = this.svc.store.get(ref);
    const rw = await this.sizeRw(rec.id);
    return { rw, rootFs: rw + (this.svc.d.images.resolve(rec.imageId)?.size ?? 0) };
  }
  // Container operations (cp, diff, export, top, stats, update, pause, rename): one file each.
  statPath(ref: string, path: string): Promise<PathStat> { return statPath(this.svc, ref, path); }
  archive(ref: string, path: string): Promise<{ stat: PathStat; stream: Readable }> { return archivePath(this.svc, ref, path); }
  extract(ref: string, path: string, body: Readable, opts: ExtractOptions): Promise<void> { return extractToDir(this.svc, this.resolveUser, ref, path, body, opts); }
  changes(ref: string): Promise<Change[]> { return containerChanges(this.svc, ref); }
  export(ref: string): Promise<Readable> { return exportContainer(this.svc, ref); }
  top(ref: string, psArgs?: string): Promise<TopResult> { return topContainer(this.svc, ref, psArgs); }
  stats(ref: string, opts: { stream: boolean; oneShot: boolean; signal?: AbortSignal }): AsyncGenerator<StatsJson> { return statsStream(this.svc, ref, opts); }
  update(ref: string, body: UpdateBody): Promise<{ Warnings: string[] }> { return updateContainer(this.svc, ref, body); }
  pause(ref: string): Promise<void> { return pauseContainer(this.svc, ref); }
  unpause(ref: string): Promise<void> { return unpauseContainer(this.svc, ref); }
  rename(ref: string, name: string): Promise<void> { return renameContainer(this.svc, ref, name); }
  execCreate(ref: string, cfg: ExecConfig): string { return createExec(this.svc, this.execs, ref, cfg); }
  execStart(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] }): Promise<ExecRecord> { return startExec(this.svc, this.execs, this.resolveUser, id, opts); }
  execGet(id: string): ExecRecord { return getExec(this.execs, id); }
  async execResize(id: string, rows: number, cols: number): Promise<void> {
    const e = getExec(this.execs, id);
    if (!e.handle) throw new Conflict(`exec ${id} is not running`);
    await e.handle.resize(rows, cols);
  }
}
