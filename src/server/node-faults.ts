// NodeFaults: node failures injected through the provider seam of startLapis
// (`wrapProvider`), around the real provider, without patching any class.
//
//   const faults = new NodeFaults();
//   const server = await startTestServer({ wrapProvider: faults.wrap });
//   faults.dropHeartbeats(nodeId);                    // reports out of the provider
//   faults.failNext('provisionNode', nodeId, error);  // calls into it
//   const restart = faults.hold('restartNode', nodeId); ...; restart.release();
//
// Faults on the way out (heartbeats, outcomes) filter the events the real
// provider is built with; faults on the way in decorate its methods. Every
// fault is per node id and lasts until `heal(nodeId)` (or, for a failure or a
// hold, until used or released). Rules (`addRunRule`, `addRunChange`,
// `addRunHold`, `addProvisionDelay`) act on any node they match, until
// removed: `lapis serve --faults` builds its admin API's faults from them
// (injected-faults.ts).

import { reportedRunOf, type NodeEvents, type NodeFileSystem, type NodePlacement, type NodeProvider, type NodeProviderWrapper, type TaskRun, type TaskRunRef, type TaskRunReport } from '../core/ports.js';
import type { TaskRunOutcome } from '../core/task.js';
import { formatTimestamp } from '../core/time.js';

/** The provider calls a fault may target. */
export type NodeOperation = 'provisionNode' | 'releaseNode' | 'restartNode' | 'stopTask';

/** A held call: it waits until `release()`; `reached` resolves once the server has made it. */
export interface HeldCall {
  reached: Promise<void>;
  release(): void;
}

interface Hold {
  reached: () => void;
  released: Promise<void>;
}

/** What a run rule makes of a run it takes: the outcome its node reports instead of running it. */
export type RunEnding = Omit<TaskRunOutcome, 'startTime' | 'endTime'>;

/** Takes a run (answers how it ends) or leaves it to the provider (undefined). */
export type RunRule = (run: TaskRun) => RunEnding | undefined;

/** Changes a run on its way to the node (answers the run as the node gets it), or leaves it (undefined). */
export type RunChange = (run: TaskRun) => TaskRun | undefined;

/** Whether a hold keeps the run from its node. */
export type RunHoldRule = (run: TaskRun) => boolean;

/** How long a node's provisioning waits before it reaches the provider, or undefined for no wait. */
export type ProvisionDelay = (placement: NodePlacement) => number | undefined;

interface PendingDelay {
  timer: NodeJS.Timeout;
  end: () => void;
}

const runKey = (run: TaskRunRef) => `${run.kind}|${run.jobId}|${run.taskId}|${run.attempt}`.toLowerCase();

export class NodeFaults {
  private inner: NodeProvider | undefined;
  private events: NodeEvents | undefined;
  /** The events the real provider reports through (with the faults on the way out). */
  private reporting: NodeEvents | undefined;
  private readonly runRules = new Set<RunRule>();
  private readonly runChanges = new Set<RunChange>();
  /** Each hold's rule and the runs it keeps from their nodes. */
  private readonly runHolds = new Map<RunHoldRule, TaskRun[]>();
  private readonly provisionDelays = new Map<ProvisionDelay, Set<PendingDelay>>();
  private readonly silent = new Set<string>();
  private readonly unreported = new Set<string>();
  private readonly deaf = new Set<string>();
  private readonly failures = new Map<string, Error[]>();
  private readonly holds = new Map<string, Hold>();
  private readonly given = new Map<string, TaskRun[]>();
  /** Runs handed to the real provider that have neither reported nor been stopped, by node. */
  private readonly running = new Map<string, Map<string, TaskRun>>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** The seam: pass it as `wrapProvider` to startTestServer or startLapis (one server per NodeFaults). */
  readonly wrap: NodeProviderWrapper = (build, serverEvents) => {
    if (this.inner) throw new Error('a NodeFaults serves one server');
    this.events = serverEvents;
    this.reporting = {
      taskFinished: (report) => {
        this.running.get(report.run.nodeId)?.delete(runKey(report.run));
        return this.unreported.has(report.run.nodeId) ? undefined : serverEvents.taskFinished(report);
      },
      nodeHeartbeat: (nodeId, sample) => {
        if (!this.silent.has(nodeId)) serverEvents.nodeHeartbeat(nodeId, sample);
      },
    };
    this.inner = build(this.reporting);
    return this.decorate(this.inner);
  };

  /** The real provider inside, called without any fault. */
  get provider(): NodeProvider {
    if (!this.inner) throw new Error('NodeFaults.wrap has not been given to a server yet');
    return this.inner;
  }

  /** The server's own events, reached whatever the faults: e.g. a dead agent's late report. */
  get serverEvents(): NodeEvents {
    if (!this.events) throw new Error('NodeFaults.wrap has not been given to a server yet');
    return this.events;
  }

  /** Every run the server gave the node, in order, whether or not a fault dropped it. */
  runsGiven(nodeId: string): TaskRun[] {
    return [...(this.given.get(nodeId) ?? [])];
  }

  lastRun(nodeId: string): TaskRun | undefined {
    return this.given.get(nodeId)?.at(-1);
  }

  /** The node's heartbeats no longer reach the server (a silent agent). */
  dropHeartbeats(nodeId: string): void {
    this.silent.add(nodeId);
  }

  /** The node's heartbeats reach the server again (its other faults stay). */
  restoreHeartbeats(nodeId: string): void {
    this.silent.delete(nodeId);
  }

  /** The outcomes of the node's runs no longer reach the server (a report lost on the way). */
  dropReports(nodeId: string): void {
    this.unreported.add(nodeId);
  }

  /** Runs the server gives the node are recorded but never started (an agent that takes no work). */
  dropRuns(nodeId: string): void {
    this.deaf.add(nodeId);
  }

  /** The next call of `operation` for the node throws `error` instead of reaching the provider. */
  failNext(operation: NodeOperation, nodeId: string, error: Error = new Error(`injected ${operation} failure on ${nodeId}`)): void {
    const key = `${operation}|${nodeId}`;
    this.failures.set(key, [...(this.failures.get(key) ?? []), error]);
  }

  /** The next call of `operation` for the node waits (before reaching the provider) until released. */
  hold(operation: NodeOperation, nodeId: string): HeldCall {
    const key = `${operation}|${nodeId}`;
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(key, { reached, released });
    return {
      reached: reachedPromise,
      release: () => {
        if (this.holds.get(key)?.released === released) this.holds.delete(key);
        release();
      },
    };
  }

  /**
   * The node's agent dies: the processes of its runs are ended (through the
   * real provider's stopTask, so they report nothing), and from now on it
   * neither heartbeats, reports nor takes work, until `heal`.
   */
  async killAgent(nodeId: string): Promise<void> {
    this.dropHeartbeats(nodeId);
    this.dropReports(nodeId);
    this.dropRuns(nodeId);
    const runs = [...(this.running.get(nodeId)?.values() ?? [])];
    this.running.delete(nodeId);
    await Promise.all(runs.map((run) => this.provider.stopTask(run)));
  }

  /**
   * Runs the rule takes never reach the provider: the node reports the
   * ending the rule gives, as an agent reports a run that could not start.
   * Returns the rule's removal.
   */
  addRunRule(rule: RunRule): () => void {
    this.runRules.add(rule);
    return () => this.runRules.delete(rule);
  }

  /** Runs the change matches reach the node changed (e.g. told to fail their transfers there). Returns the change's removal. */
  addRunChange(change: RunChange): () => void {
    this.runChanges.add(change);
    return () => this.runChanges.delete(change);
  }

  /**
   * Runs the rule matches are kept from their node (as an agent whose run
   * never ends: no report comes). Returns the hold's end: the runs kept go to
   * their nodes then, but for those of a node restarted or released since.
   */
  addRunHold(rule: RunHoldRule): () => void {
    this.runHolds.set(rule, []);
    return () => {
      const held = this.runHolds.get(rule) ?? [];
      this.runHolds.delete(rule);
      for (const run of held) this.start(run);
    };
  }

  /** The server stops: the runs holds keep go nowhere. */
  dropAllHeldRuns(): void {
    for (const rule of this.runHolds.keys()) this.runHolds.set(rule, []);
  }

  /** The node restarted or left: the runs kept from it are gone with it. */
  private dropHeldRuns(nodeId: string): void {
    for (const [rule, held] of this.runHolds) this.runHolds.set(rule, held.filter((run) => run.nodeId !== nodeId));
  }

  private heldByRule(run: TaskRun): boolean {
    for (const [rule, held] of this.runHolds) {
      if (!rule(run)) continue;
      held.push(run);
      return true;
    }
    return false;
  }

  private changed(run: TaskRun): TaskRun {
    let current = run;
    for (const change of this.runChanges) current = change(current) ?? current;
    return current;
  }

  private start(run: TaskRun): void {
    const running = this.running.get(run.nodeId) ?? new Map<string, TaskRun>();
    running.set(runKey(run), run);
    this.running.set(run.nodeId, running);
    this.provider.runTask(run);
  }

  /** Provisionings the delay matches wait that long first. Returns the delay's removal, which ends the waits under way. */
  addProvisionDelay(delay: ProvisionDelay): () => void {
    this.provisionDelays.set(delay, new Set());
    return () => this.endDelays(delay);
  }

  private endDelays(delay: ProvisionDelay): void {
    for (const pending of this.provisionDelays.get(delay) ?? []) pending.end();
    this.provisionDelays.delete(delay);
  }

  private async delayProvisioning(placement: NodePlacement): Promise<void> {
    for (const [delay, pending] of this.provisionDelays) {
      const ms = delay(placement);
      if (ms === undefined) continue;
      await new Promise<void>((resolve) => {
        const wait: PendingDelay = {
          timer: setTimeout(() => wait.end(), ms),
          end: () => {
            clearTimeout(wait.timer);
            pending.delete(wait);
            resolve();
          },
        };
        pending.add(wait);
      });
    }
  }

  /** The first rule that takes the run ends it; its report goes out on a later turn, as an agent's would. */
  private takenByRule(run: TaskRun): boolean {
    for (const rule of this.runRules) {
      const ending = rule(run);
      if (!ending) continue;
      const time = formatTimestamp(this.now());
      const report: TaskRunReport = { run: reportedRunOf(run), outcome: { ...ending, startTime: time, endTime: time } };
      const reporting = this.reporting as NodeEvents;
      setImmediate(() => void reporting.taskFinished(report));
      return true;
    }
    return false;
  }

  /** Ends the node's faults (pending holds are released). */
  heal(nodeId: string): void {
    this.silent.delete(nodeId);
    this.unreported.delete(nodeId);
    this.deaf.delete(nodeId);
    for (const key of [...this.failures.keys()]) if (key.endsWith(`|${nodeId}`)) this.failures.delete(key);
  }

  private async before(operation: NodeOperation, nodeId: string): Promise<void> {
    const key = `${operation}|${nodeId}`;
    const hold = this.holds.get(key);
    if (hold) {
      hold.reached();
      await hold.released;
    }
    const failures = this.failures.get(key);
    const failure = failures?.shift();
    if (failures?.length === 0) this.failures.delete(key);
    if (failure) throw failure;
  }

  private decorate(inner: NodeProvider): NodeProvider {
    const faults = this;
    const decorated: NodeProvider = {
      get name() {
        return inner.name;
      },
      async provisionNode(placement: NodePlacement) {
        await faults.before('provisionNode', placement.nodeId);
        await faults.delayProvisioning(placement);
        await inner.provisionNode(placement);
      },
      async releaseNode(placement: NodePlacement) {
        await faults.before('releaseNode', placement.nodeId);
        faults.running.delete(placement.nodeId);
        faults.dropHeldRuns(placement.nodeId);
        await inner.releaseNode(placement);
      },
      async restartNode(placement: NodePlacement, options: { wipe: boolean }) {
        await faults.before('restartNode', placement.nodeId);
        faults.running.delete(placement.nodeId);
        faults.dropHeldRuns(placement.nodeId);
        await inner.restartNode(placement, options);
      },
      runTask(run: TaskRun) {
        faults.given.set(run.nodeId, [...(faults.given.get(run.nodeId) ?? []), run]);
        if (faults.deaf.has(run.nodeId) || faults.takenByRule(run)) return;
        const changed = faults.changed(run);
        if (!faults.heldByRule(changed)) faults.start(changed);
      },
      async stopTask(run: TaskRunRef) {
        await faults.before('stopTask', run.nodeId);
        faults.running.get(run.nodeId)?.delete(runKey(run));
        await inner.stopTask(run);
      },
      nodeFiles(placement: NodePlacement): NodeFileSystem | undefined {
        return inner.nodeFiles(placement);
      },
      close: () => inner.close(),
    };
    if (inner.outcomesRecordedBeforeRestart) {
      const recorded = inner.outcomesRecordedBeforeRestart.bind(inner);
      decorated.outcomesRecordedBeforeRestart = (): TaskRunReport[] => recorded();
    }
    return decorated;
  }
}
