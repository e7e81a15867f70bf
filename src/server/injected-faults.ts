// The faults of `lapis serve --faults`, by account: each is laid on the
// provider seam (node-faults.ts) where the real failure happens, or goes
// through the service the real failure goes through, so the services see
// exactly what they would see from a real node:
//
//   nodeUnusable         the node's heartbeats stop and its recovery restart
//                        fails: the liveness check marks it unknown (requeueing
//                        its tasks), the failed restart marks it unusable;
//   heartbeatLoss        the node's heartbeats stop for a while: unknown, its
//                        tasks requeued; heard again, restarted and back in service;
//   startTaskFailure     the node reports the start task's run ended with the
//                        exit code (or failure info) without running it;
//   startTaskHang        the start task's run is kept from the node (no report
//                        ever comes) until the fault ends;
//   preemption           the scheduler preempts the nodes (NodeService.preempt,
//                        as Batch taking Spot capacity back) and restores them
//                        when the capacity returns;
//   taskFailure          the node reports the task's run failed before its
//                        command started, with the chosen failure info; a
//                        resource file code goes to the node as resourceFileFailure;
//   resourceFileFailure  the run reaches the node told to fail its resource
//   outputFileFailure    file downloads (output file uploads): the agent fails
//                        them where a real failure happens, with the same
//                        failure info, details and upload logs;
//   allocationDelay      provisioning the pool's nodes waits before it starts.
//
// Each fault is an event (resource `fault`) when added, each time it acts
// (`fired`) and when removed. A fault acts only on runs and nodes of the
// account that added it.
//
// Faults aimed at runs and allocations (FAULT_KINDS' survivesRestart) are
// stored, with what they have left, and a restarted server takes them up
// again before it starts its nodes (restore). Those aimed at a node's present
// state are not: a restart starts every node again, which ends them.

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { batchErrors } from '../core/errors.js';
import type { StateChange } from '../core/events.js';
import { FAULT_KINDS, RESOURCE_FILE_FAILURES, type FaultInjection, type FaultSpec, type InjectedFault, type InjectedTransferFailure, type ResourceFileFailureCode } from '../core/faults.js';
import type { FaultRepository, NodePlacement, TaskRun } from '../core/ports.js';
import { formatTimestamp } from '../core/time.js';
import type { NodeFaults, RunEnding } from './node-faults.js';

/** What the faults need of the server. */
export interface FaultTargets {
  /** Whether a node is the account's. */
  nodeExists(account: string, poolId: string, nodeId: string): 'yes' | 'no pool' | 'no node';
  /** Preempts the named low-priority node, or every preemptible one of the pool (Scheduler.preemptNodes); a bad target throws its Batch error. */
  preempt(account: string, poolId: string, nodeId?: string): NodePlacement[];
  /** Brings a preempted node back (Scheduler.restorePreempted). */
  restorePreempted(placement: NodePlacement): void;
  /** Records an event (the event log). */
  record(change: StateChange): void;
}

interface Entry {
  fault: InjectedFault;
  remove: () => void;
}

const lasting = (fault: InjectedFault) => FAULT_KINDS.some((kind) => kind.type === fault.type && kind.survivesRestart);

const same = (a: string | undefined, b: string) => a === undefined || a.toLowerCase() === b.toLowerCase();

/** What a fault acted on, as its `fired` event names it. */
type Target = Pick<StateChange, 'poolId' | 'nodeId' | 'jobId' | 'taskId'>;

/** What a fault is aimed at, as its `added` event names it. */
const scopeOf = (fault: InjectedFault): Target => ({
  poolId: 'poolId' in fault ? fault.poolId : undefined,
  nodeId: 'nodeId' in fault ? fault.nodeId : undefined,
  jobId: 'jobId' in fault ? fault.jobId : undefined,
});

/** The run is of the account, and of the pool and job the fault names (when it names them). */
const aimedAt = (account: string, fault: InjectedFault, run: TaskRun) =>
  same(account, run.account) && same('poolId' in fault ? fault.poolId : undefined, run.poolId) && same('jobId' in fault ? fault.jobId : undefined, run.jobId);

/** A retry reuses its working directory and downloads nothing. */
const downloadsFiles = (run: TaskRun) => run.resourceFiles.length > 0 && !run.isRetry;

const failingTransfers = (run: TaskRun, failure: InjectedTransferFailure): TaskRun => ({ ...run, injectedFailure: { ...run.injectedFailure, ...failure } });

const runTarget = (run: TaskRun): Target => ({ poolId: run.poolId, nodeId: run.nodeId, ...(run.kind === 'startTask' ? {} : { jobId: run.jobId, taskId: run.taskId }) });

export class InjectedFaults implements FaultInjection {
  private readonly byAccount = new Map<string, Map<string, Entry>>();
  /** Set by endAll: a stopping server restores no preempted node. */
  private stopping = false;

  constructor(
    private readonly nodes: NodeFaults,
    private readonly targets: FaultTargets,
    private readonly stored: FaultRepository,
    private readonly now: () => Date,
    private readonly logger: Logger,
  ) {}

  add(account: string, spec: FaultSpec): InjectedFault {
    const fault: InjectedFault = { id: randomUUID(), created: formatTimestamp(this.now()), ...spec, ...('count' in spec ? { remaining: spec.count } : {}) };
    // A bad target throws here, before anything is laid or recorded.
    const { remove, firedNow } = this.apply(account, fault);
    this.keep(account, fault, remove);
    this.store(account, fault);
    this.event(account, fault, 'added', scopeOf(fault));
    for (const target of firedNow ?? []) this.fired(account, fault, target);
    this.logger.info({ account, fault }, 'fault injected');
    return { ...fault };
  }

  list(account: string): InjectedFault[] {
    return [...(this.byAccount.get(account.toLowerCase())?.values() ?? [])].map((entry) => ({ ...entry.fault }));
  }

  /** Ends the fault (a node already unusable stays so until it is removed from its pool, as in Batch); a fault of another account is not found. */
  remove(account: string, id: string): void {
    const faults = this.byAccount.get(account.toLowerCase());
    const entry = faults?.get(id);
    if (!entry) throw batchErrors.resourceNotFound();
    faults?.delete(id);
    entry.remove();
    if (lasting(entry.fault)) this.stored.delete(account, id);
    this.event(account, entry.fault, 'deleted', {});
    this.logger.info({ account, faultId: id }, 'fault removed');
  }

  /**
   * Takes up the stored faults of a previous server (before the nodes start
   * again, so that their first runs meet them): each is an `added` event again,
   * with `restored: true`.
   */
  restore(): void {
    for (const { account, fault } of this.stored.listAll()) {
      this.keep(account, fault, this.apply(account, fault).remove);
      this.event(account, fault, 'added', scopeOf(fault), true);
    }
  }

  private keep(account: string, fault: InjectedFault, remove: () => void): void {
    const key = account.toLowerCase();
    const faults = this.byAccount.get(key) ?? new Map<string, Entry>();
    faults.set(fault.id, { fault, remove });
    this.byAccount.set(key, faults);
  }

  /** Ends every fault (the stored ones stay stored), so that a stopping server waits for no held restart or delayed provisioning. */
  endAll(): void {
    // A hung start task is not set going, nor a preempted node restored, by the server's stop.
    this.stopping = true;
    this.nodes.dropAllHeldRuns();
    for (const faults of this.byAccount.values()) for (const entry of faults.values()) entry.remove();
    this.byAccount.clear();
  }

  private store(account: string, fault: InjectedFault): void {
    if (lasting(fault)) this.stored.put(account, fault);
  }

  private event(account: string, fault: InjectedFault, change: 'added' | 'fired' | 'deleted', target: Target, restored = false): void {
    const defined = Object.fromEntries(Object.entries(target).filter(([, value]) => value !== undefined)) as Target;
    this.targets.record({
      time: formatTimestamp(this.now()),
      account,
      resource: 'fault',
      change,
      ...defined,
      detail: { faultId: fault.id, type: fault.type, ...(fault.remaining !== undefined ? { remaining: fault.remaining } : {}), ...(restored ? { restored } : {}) },
    });
  }

  private fired(account: string, fault: InjectedFault, target: Target): void {
    this.event(account, fault, 'fired', target);
  }

  /** Lays the fault on the provider seam (or, for a preemption, acts at once); answers its removal, and what it acted on at once. */
  private apply(account: string, fault: InjectedFault): { remove: () => void; firedNow?: Target[] } {
    switch (fault.type) {
      case 'nodeUnusable': {
        this.checkNode(account, fault.poolId, fault.nodeId);
        this.nodes.dropHeartbeats(fault.nodeId);
        this.nodes.failNext('restartNode', fault.nodeId, new Error(`node ${fault.nodeId} could not be restarted (injected fault ${fault.id})`));
        return { remove: () => this.nodes.heal(fault.nodeId), firedNow: [{ poolId: fault.poolId, nodeId: fault.nodeId }] };
      }
      case 'heartbeatLoss': {
        this.checkNode(account, fault.poolId, fault.nodeId);
        // The recovery restart waits too: a node nobody can hear stays unknown (as in Batch) rather than flapping back.
        this.nodes.dropHeartbeats(fault.nodeId);
        const restart = this.nodes.hold('restartNode', fault.nodeId);
        const heard = () => {
          clearTimeout(timer);
          this.nodes.restoreHeartbeats(fault.nodeId);
          restart.release();
        };
        const timer = setTimeout(heard, fault.durationMs);
        timer.unref();
        return { remove: heard, firedNow: [{ poolId: fault.poolId, nodeId: fault.nodeId }] };
      }
      case 'startTaskFailure': {
        const ending = (): RunEnding => (fault.failureInfo ? { failureInfo: fault.failureInfo } : { exitCode: fault.exitCode });
        return { remove: this.takeRuns(account, fault, (run) => run.kind === 'startTask' && aimedAt(account, fault, run), ending) };
      }
      case 'startTaskHang':
        return { remove: this.nodes.addRunHold((run) => run.kind === 'startTask' && aimedAt(account, fault, run) && this.spend(account, fault, run)) };
      case 'preemption':
        return this.preempt(account, fault);
      case 'taskFailure': {
        const matches = (run: TaskRun) => run.kind === 'task' && aimedAt(account, fault, run);
        const code = fault.failureInfo.code;
        // A resource file code on a run that downloads some fails on its node, as the real one does: with its FilePath and ResourceUrl.
        const downloads = (run: TaskRun) => Object.hasOwn(RESOURCE_FILE_FAILURES, code) && downloadsFiles(run);
        const onNode = this.changeRuns(account, fault, (run) => matches(run) && downloads(run), (run) => failingTransfers(run, { resourceFiles: code as ResourceFileFailureCode }));
        const taken = this.takeRuns(account, fault, (run) => matches(run) && !downloads(run), () => ({ failureInfo: fault.failureInfo }));
        return {
          remove: () => {
            onNode();
            taken();
          },
        };
      }
      case 'resourceFileFailure': {
        // A start task has no job: a fault limited to a job leaves it.
        const matches = (run: TaskRun) => aimedAt(account, fault, run) && !(fault.jobId !== undefined && run.kind === 'startTask') && downloadsFiles(run);
        return { remove: this.changeRuns(account, fault, matches, (run) => failingTransfers(run, { resourceFiles: fault.code })) };
      }
      case 'outputFileFailure': {
        const matches = (run: TaskRun) => run.kind === 'task' && aimedAt(account, fault, run) && run.outputFiles.length > 0;
        return { remove: this.changeRuns(account, fault, matches, (run) => failingTransfers(run, { outputFiles: fault.code })) };
      }
      case 'allocationDelay':
        return {
          remove: this.nodes.addProvisionDelay((placement: NodePlacement) => {
            if (!same(account, placement.account) || !same(fault.poolId, placement.poolId)) return undefined;
            this.fired(account, fault, { poolId: placement.poolId, nodeId: placement.nodeId });
            return fault.durationMs;
          }),
        };
    }
  }

  /** Preempts now; restores the nodes when the duration passes or the fault is removed. */
  private preempt(account: string, fault: InjectedFault & { type: 'preemption' }): { remove: () => void; firedNow: Target[] } {
    const preempted = this.targets.preempt(account, fault.poolId, fault.nodeId);
    let restored = false;
    const restore = () => {
      if (restored) return;
      restored = true;
      clearTimeout(timer);
      if (this.stopping) return;
      for (const placement of preempted) this.targets.restorePreempted(placement);
    };
    const timer = fault.durationMs === undefined ? undefined : setTimeout(restore, fault.durationMs);
    timer?.unref();
    return { remove: restore, firedNow: preempted.map((placement) => ({ poolId: placement.poolId, nodeId: placement.nodeId })) };
  }

  private checkNode(account: string, poolId: string, nodeId: string): void {
    const found = this.targets.nodeExists(account, poolId, nodeId);
    if (found === 'no pool') throw batchErrors.poolNotFound();
    if (found === 'no node') throw batchErrors.nodeNotFound();
  }

  /** Takes one of a counted fault's runs, if any are left: true when taken (the fault fired). */
  private spend(account: string, fault: InjectedFault, run: TaskRun): boolean {
    if (!fault.remaining) return false;
    fault.remaining -= 1;
    this.store(account, fault);
    this.fired(account, fault, runTarget(run));
    return true;
  }

  /** A counted fault stays listed (remaining 0) once spent, so a test can see it was used. */
  private takeRuns(account: string, fault: InjectedFault, matches: (run: TaskRun) => boolean, ending: () => RunEnding): () => void {
    const remove = this.nodes.addRunRule((run) => {
      if (!matches(run) || !this.spend(account, fault, run)) return undefined;
      if (fault.remaining === 0) remove();
      return ending();
    });
    return remove;
  }

  private changeRuns(account: string, fault: InjectedFault, matches: (run: TaskRun) => boolean, change: (run: TaskRun) => TaskRun): () => void {
    const remove = this.nodes.addRunChange((run) => {
      if (!matches(run) || !this.spend(account, fault, run)) return undefined;
      if (fault.remaining === 0) remove();
      return change(run);
    });
    return remove;
  }
}
