// The agent's side of the task launcher: starts launcher-process.mjs (one
// per provider, on first use), asks it to start, kill and forget runs, and
// hands back each run's end. See launcher-process.mjs for why it exists.
//
// Liveness: if the launcher dies while the server lives, every run it had
// not finished ends as `lost` (the agent fails it as a server error) after
// its process group is killed, and the next start brings up a new launcher.
// Nothing waits on a launcher that is gone.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KillReason, LauncherReply, LauncherRequest, StartRequest } from './launcher-protocol.js';
import { killGroup } from './process-groups.js';

const LAUNCHER_PATH = fileURLToPath(new URL('./launcher-process.mjs', import.meta.url));
/** How long close() lets killed runs report their exit before it lets go of the launcher. */
const CLOSE_GRACE_MS = 5_000;

export type LaunchResult =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'failed'; stage: 'open' | 'spawn'; code: string; message: string }
  /** The launcher died before the run ended; its process group (if it started) was killed. */
  | { kind: 'lost' };

export interface LaunchedRun {
  readonly id: number;
  /** Known once the launcher reports the process started. */
  pid?: number;
  readonly result: Promise<LaunchResult>;
}

interface InFlight {
  run: LaunchedRun;
  settle: (result: LaunchResult) => void;
}

export type LaunchSpec = Omit<StartRequest, 'op' | 'id'>;

/** Whether launchers should start processes through their native spawner: unless LAPIS_NATIVE_SPAWN=off (to compare the two, or rule it out). */
export function nativeSpawnWanted(): boolean {
  return process.env.LAPIS_NATIVE_SPAWN !== 'off';
}

export class TaskLauncher {
  private process: ChildProcess | undefined;
  private nextId = 1;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly nativeSpawn: boolean;
  /** How the current launcher starts processes, once it has said (its first message). */
  spawner: 'native' | 'node' | undefined;

  constructor(options: { nativeSpawn?: boolean } = {}) {
    this.nativeSpawn = options.nativeSpawn ?? nativeSpawnWanted();
  }

  start(spec: LaunchSpec): LaunchedRun {
    const id = this.nextId++;
    let settle: (result: LaunchResult) => void = () => undefined;
    const run: LaunchedRun = { id, result: new Promise<LaunchResult>((resolve) => (settle = resolve)) };
    this.inFlight.set(id, { run, settle });
    this.send({ op: 'start', id, ...spec });
    // An in-flight run keeps the server alive, as its own child process would.
    if (this.inFlight.size === 1) this.process?.channel?.ref();
    return run;
  }

  /** Kills the run's process group; `stopped` runs leave nothing to recover after a crash. */
  kill(run: LaunchedRun, reason: KillReason): void {
    if (!this.inFlight.has(run.id)) return;
    this.send({ op: 'kill', id: run.id, reason });
  }

  /**
   * The run's result, the run killed as timed out (and `onExpired` called:
   * a container to remove) once `limitMs` passes first; no limit when undefined.
   */
  async resultWithin(run: LaunchedRun, limitMs: number | undefined, onExpired: () => void = () => undefined): Promise<{ result: LaunchResult; timedOut: boolean }> {
    let timedOut = false;
    const timer =
      limitMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            this.kill(run, 'timedOut');
            onExpired();
          }, limitMs);
    const result = await run.result.finally(() => clearTimeout(timer));
    return { result, timedOut };
  }

  /** The run's outcome is stored: its pid and exit files can go. */
  forget(pidDirectory: string, pid: number): void {
    if (this.process?.connected) this.send({ op: 'forget', pidDirectory, pid });
  }

  /**
   * Lets the killed runs report their exit (bounded), then closes the
   * channel: the launcher ends once its last child has.
   */
  async close(): Promise<void> {
    const launcher = this.process;
    if (!launcher) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight.values()].map((entry) => entry.run.result)),
      new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
    ]);
    clearTimeout(timer);
    this.process = undefined;
    if (launcher.connected) launcher.disconnect();
    this.loseAll();
  }

  private send(request: LauncherRequest): void {
    const launcher = this.process ?? this.spawnLauncher();
    if (!launcher.connected) {
      this.lost(launcher);
      return;
    }
    launcher.send(request, (error) => {
      if (error) this.lost(launcher);
    });
  }

  private spawnLauncher(): ChildProcess {
    // Plain node, no loader and no inherited NODE_OPTIONS: the launcher is small so that forking it is cheap.
    // Its own process group: a Ctrl-C meant for the server does not end the recording of exits.
    const launcher = spawn(process.execPath, [LAUNCHER_PATH, ...(this.nativeSpawn ? [] : ['--no-native-spawn'])], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], detached: true, env: {} });
    this.process = launcher;
    launcher.unref();
    launcher.on('message', (reply: LauncherReply) => this.receive(reply));
    launcher.once('disconnect', () => this.lost(launcher));
    launcher.once('exit', () => this.lost(launcher));
    launcher.once('error', () => this.lost(launcher));
    launcher.channel?.unref();
    return launcher;
  }

  private receive(reply: LauncherReply): void {
    if (reply.type === 'ready') {
      this.spawner = reply.spawner;
      return;
    }
    const entry = this.inFlight.get(reply.id);
    if (!entry) return;
    if (reply.type === 'started') {
      entry.run.pid = reply.pid;
      return;
    }
    if (reply.type === 'failed') this.finish(reply.id, { kind: 'failed', stage: reply.stage, code: reply.code, message: reply.message });
    else this.finish(reply.id, { kind: 'exited', code: reply.code, signal: reply.signal });
  }

  private finish(id: number, result: LaunchResult): void {
    const entry = this.inFlight.get(id);
    if (!entry) return;
    this.inFlight.delete(id);
    if (this.inFlight.size === 0) this.process?.channel?.unref();
    entry.settle(result);
  }

  private lost(launcher: ChildProcess): void {
    if (this.process !== launcher) return;
    this.process = undefined;
    this.loseAll();
  }

  /** No launcher will report these runs: their processes are ended here, and they end as lost. */
  private loseAll(): void {
    for (const [id, entry] of this.inFlight) {
      if (entry.run.pid !== undefined) killGroup(entry.run.pid);
      this.finish(id, { kind: 'lost' });
    }
  }
}
