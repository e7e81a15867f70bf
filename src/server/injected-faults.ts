// The faults of `lapis serve --faults`, by account: each is laid on the
// provider seam (node-faults.ts) where the real failure happens, so the
// services see exactly what they would see from a real node:
//
//   nodeUnusable      the node's heartbeats stop and its recovery restart
//                     fails: the liveness check marks it unknown (requeueing
//                     its tasks), the failed restart marks it unusable;
//   heartbeatLoss     the node's heartbeats stop for a while: unknown, its
//                     tasks requeued; heard again, restarted and back in service;
//   startTaskFailure  the node reports the start task's run ended with the
//                     exit code (or failure info) without running it;
//   taskFailure       the node reports the task's run failed before its
//                     command started, with the chosen failure info;
//   allocationDelay   provisioning the pool's nodes waits before it starts.
//
// A fault acts only on runs and nodes of the account that added it.

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { batchErrors } from '../core/errors.js';
import type { FaultInjection, FaultSpec, InjectedFault } from '../core/faults.js';
import type { NodePlacement, TaskRun } from '../core/ports.js';
import { formatTimestamp } from '../core/time.js';
import type { NodeFaults, RunEnding } from './node-faults.js';

/** What the faults need to know of the store: whether a node is the account's. */
export interface FaultTargets {
  nodeExists(account: string, poolId: string, nodeId: string): 'yes' | 'no pool' | 'no node';
}

interface Entry {
  fault: InjectedFault;
  remove: () => void;
}

const same = (a: string | undefined, b: string) => a === undefined || a.toLowerCase() === b.toLowerCase();

export class InjectedFaults implements FaultInjection {
  private readonly byAccount = new Map<string, Map<string, Entry>>();

  constructor(
    private readonly nodes: NodeFaults,
    private readonly targets: FaultTargets,
    private readonly now: () => Date,
    private readonly logger: Logger,
  ) {}

  add(account: string, spec: FaultSpec): InjectedFault {
    const key = account.toLowerCase();
    const fault: InjectedFault = { id: randomUUID(), created: formatTimestamp(this.now()), ...spec, ...('count' in spec ? { remaining: spec.count } : {}) };
    const faults = this.byAccount.get(key) ?? new Map<string, Entry>();
    faults.set(fault.id, { fault, remove: this.apply(account, fault) });
    this.byAccount.set(key, faults);
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
    this.logger.info({ account, faultId: id }, 'fault removed');
  }

  /** Ends every fault, so that a stopping server waits for no held restart or delayed provisioning. */
  endAll(): void {
    for (const faults of this.byAccount.values()) for (const entry of faults.values()) entry.remove();
    this.byAccount.clear();
  }

  /** Lays the fault on the provider seam; answers its removal. */
  private apply(account: string, fault: InjectedFault): () => void {
    switch (fault.type) {
      case 'nodeUnusable': {
        this.checkNode(account, fault.poolId, fault.nodeId);
        this.nodes.dropHeartbeats(fault.nodeId);
        this.nodes.failNext('restartNode', fault.nodeId, new Error(`node ${fault.nodeId} could not be restarted (injected fault ${fault.id})`));
        return () => this.nodes.heal(fault.nodeId);
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
        return heard;
      }
      case 'startTaskFailure':
        return this.takeRuns(fault, (run) => run.kind === 'startTask' && same(account, run.account) && same(fault.poolId, run.poolId), () =>
          fault.failureInfo ? { failureInfo: fault.failureInfo } : { exitCode: fault.exitCode },
        );
      case 'taskFailure':
        return this.takeRuns(
          fault,
          (run) => run.kind === 'task' && same(account, run.account) && same(fault.poolId, run.poolId) && same(fault.jobId, run.jobId),
          () => ({ failureInfo: fault.failureInfo }),
        );
      case 'allocationDelay':
        return this.nodes.addProvisionDelay((placement: NodePlacement) =>
          same(account, placement.account) && same(fault.poolId, placement.poolId) ? fault.durationMs : undefined,
        );
    }
  }

  private checkNode(account: string, poolId: string, nodeId: string): void {
    const found = this.targets.nodeExists(account, poolId, nodeId);
    if (found === 'no pool') throw batchErrors.poolNotFound();
    if (found === 'no node') throw batchErrors.nodeNotFound();
  }

  /** A counted fault stays listed (remaining 0) once spent, so a test can see it was used. */
  private takeRuns(fault: InjectedFault, matches: (run: TaskRun) => boolean, ending: () => RunEnding): () => void {
    const remove = this.nodes.addRunRule((run) => {
      if (!matches(run) || !fault.remaining) return undefined;
      fault.remaining -= 1;
      if (fault.remaining === 0) remove();
      return ending();
    });
    return remove;
  }
}
