// The scheduler's wake-up loop. Nothing polls: services call wake() when
// something changed, and one pass runs soon after, however many wakes came
// in between. A pass (1) brings pools to their targets through the node
// provider, (2) finishes job terminations and deletions, and (3) places
// runnable tasks on free slots and starts them.
//
// A task's end (slotsFreed) needs its slots filled at once, but rarely the
// rest: so its pass only dispatches, and one full pass follows within
// HOUSEKEEPING_DELAY_MS, whatever the number of completions meanwhile. Tasks
// added (tasksAdded) are the same: the housekeeping ahead of their dispatch
// cost a task added to an idle node about a millisecond (bench/README.md).
// Any other wake runs a full pass at once.
//
// Node provisioning and release are asynchronous; a node's operations run one
// after another (node-executor.ts), and each completion wakes a new pass.
//
// Liveness runs on its own cadence, not in the pass that follows every task
// completion: agents heartbeat (NodeEvents.nodeHeartbeat), and every half
// heartbeat timeout a check marks nodes silent past the timeout `unknown`,
// requeues their tasks and restarts them through the provider; the same
// check fails tasks running past maxWallClockTime plus that timeout, in case
// their agent never says so.

import type { NodePlacement, TaskRunRef } from '../core/ports.js';
import type { Clock } from '../core/time.js';
import type { CertificateService } from '../services/certificate-service.js';
import type { JobScheduleService } from '../services/job-schedule-service.js';
import type { JobService } from '../services/job-service.js';
import type { PoolService } from '../services/pool-service.js';
import type { NodeService } from '../services/node-service.js';
import type { SchedulingService } from '../services/scheduling-service.js';
import type { RunOutcomeService } from '../services/run-outcome-service.js';
import type { TaskRetention } from '../services/task-retention.js';
import type { TaskFiles } from '../services/task-runs.js';
import type { NodeExecutor } from './node-executor.js';
import { NodeLiveness } from './node-liveness.js';
import { planPool } from './planner.js';

export interface SchedulerLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface SchedulerDeps {
  nodes: NodeService;
  jobs: JobService;
  jobSchedules: JobScheduleService;
  certificates: CertificateService;
  pools: PoolService;
  scheduling: SchedulingService;
  runOutcomes: RunOutcomeService;
  retention: TaskRetention;
  /** Every side effect on nodes (NodeWork). */
  nodeWork: NodeExecutor;
  logger: SchedulerLogger;
  clock: Clock;
  /** How long a node's agent may stay silent before its node is taken for lost; also the grace past a task's maxWallClockTime. */
  nodeHeartbeatTimeoutMs: number;
}

/** setTimeout's largest delay; a later wake is re-armed by the pass it triggers. */
const MAX_TIMER_MS = 2_147_483_647;
/**
 * How long after a task's end the full pass it may call for (ending jobs, node removals…) can wait. Under a stream of
 * completions that pass (eight transactions) runs this often: at 25 ms it cost the server about 0.2 ms of CPU per task
 * (bench/README.md); a job that ends with its last task ends within a tenth of a second.
 */
const HOUSEKEEPING_DELAY_MS = 100;

export class Scheduler {
  private scheduled = false;
  /** The next pass is a full one, not only dispatch. */
  private fullPassDue = false;
  private housekeepingTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private readonly liveness: NodeLiveness;

  constructor(private readonly deps: SchedulerDeps) {
    this.liveness = new NodeLiveness(deps.nodeHeartbeatTimeoutMs);
  }

  /** A node's agent is alive (NodeEvents.nodeHeartbeat). */
  heartbeat(nodeId: string): void {
    this.liveness.heard(nodeId, performance.now());
  }

  wake(): void {
    this.fullPassDue = true;
    this.schedule();
  }

  slotsFreed(): void {
    this.dispatchSoon();
  }

  tasksAdded(): void {
    this.dispatchSoon();
  }

  /** A dispatch-only pass at once, the full pass within HOUSEKEEPING_DELAY_MS. */
  private dispatchSoon(): void {
    this.armHousekeeping();
    this.schedule();
  }

  /**
   * Inside the transaction that recorded run outcomes (SchedulerSignal): the
   * dispatch pass joins it, and what it starts and stops goes out once the
   * caller has committed.
   */
  dispatchWithin(): (() => void) | undefined {
    if (this.stopped) return undefined;
    this.armHousekeeping();
    const { runs, stop } = this.deps.scheduling.dispatch(planPool);
    return () => {
      this.stopRuns(stop);
      this.deps.nodeWork.startRuns(runs);
    };
  }

  private armHousekeeping(): void {
    if (this.housekeepingTimer || this.stopped) return;
    this.housekeepingTimer = setTimeout(() => {
      this.housekeepingTimer = undefined;
      this.wake();
    }, HOUSEKEEPING_DELAY_MS);
    this.housekeepingTimer.unref();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.stopped) return;
      const full = this.fullPassDue;
      this.fullPassDue = false;
      try {
        if (full) this.housekeeping();
        this.dispatch();
      } catch (error) {
        this.deps.logger.error({ err: error }, 'scheduler pass failed');
      }
    });
  }

  /** Completes what ended while no server ran, requeues what a previous process left running, and starts its nodes again. */
  recover(): void {
    this.deps.runOutcomes.recordOutcomesFromBeforeRestart();
    const work = this.deps.nodes.recoverAfterRestart();
    this.startNodeWork(work.provision, work.release, work.stop);
    this.wake();
    if (!this.livenessTimer) {
      this.livenessTimer = setInterval(() => this.checkLiveness(), this.liveness.checkIntervalMs);
      this.livenessTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.housekeepingTimer) clearTimeout(this.housekeepingTimer);
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    await this.deps.nodeWork.idle();
  }

  /** Pools to their targets, node restarts, ending jobs, deadlines, retention, schedules, autoscale, and the timer for what falls due. */
  private housekeeping(): void {
    if (this.housekeepingTimer) clearTimeout(this.housekeepingTimer);
    this.housekeepingTimer = undefined;
    const allocation = this.deps.nodes.planAllocation();
    this.startNodeWork(allocation.provision, allocation.release, allocation.stop);
    for (const { placement, wipe, deallocate } of this.deps.nodes.planNodeRestarts()) {
      this.deps.nodeWork.restart(
        placement,
        { wipe },
        () => (deallocate ? this.deps.nodes.markDeallocated(placement) : this.deps.nodes.markReady(placement)),
        (failure) => this.deps.nodes.markUnusable(placement, failure),
      );
    }

    const ending = this.deps.jobs.settleEndingJobs();
    this.stopRuns(ending.stop);
    this.removeFiles(ending.removeFiles);
    this.deps.nodeWork.startRuns(ending.releases);
    const deadlineWake = this.deps.jobs.enforceDeadlines();
    const retention = this.deps.retention.cleanExpiredTasks();
    this.removeFiles(retention.removeFiles);
    const scheduleWake = this.deps.jobSchedules.settle();
    this.deps.certificates.settleDeletions();
    const autoScaleWake = this.deps.pools.runAutoScale();
    this.armTimer(earliest(scheduleWake, autoScaleWake, deadlineWake, retention.nextWake));
  }

  /** Starts tasks whose node has prepared for them, then plans each pool (planner.ts) and commits its plan, all in one transaction. */
  private dispatch(): void {
    const { runs, stop } = this.deps.scheduling.dispatch(planPool);
    this.stopRuns(stop);
    this.deps.nodeWork.startRuns(runs);
  }

  /**
   * Nodes silent past the timeout are marked lost (their tasks requeued) and
   * restarted; tasks past maxWallClockTime and the same grace are failed.
   */
  private checkLiveness(): void {
    if (this.stopped) return;
    try {
      const silent = this.liveness.silent(this.deps.nodes.heartbeatingNodes(), performance.now());
      const { lost, stop } = silent.length > 0 ? this.deps.nodes.markLost(silent) : { lost: [], stop: [] };
      this.stopRuns(stop);
      for (const placement of lost) {
        this.deps.logger.warn({ nodeId: placement.nodeId, poolId: placement.poolId }, 'node agent silent past the heartbeat timeout: node marked unknown and restarted');
        this.recoverNode(placement);
      }
      this.stopRuns(this.deps.runOutcomes.enforceWallClockLimits(this.liveness.timeoutMs));
    } catch (error) {
      this.deps.logger.error({ err: error }, 'liveness check failed');
    }
  }

  /** Spot capacity taken back (lapis serve --faults): the nodes are preempted (NodeService.preempt) and their runs stopped. */
  preemptNodes(account: string, poolId: string, nodeId?: string): NodePlacement[] {
    const { preempted, stop } = this.deps.nodes.preempt(account, poolId, nodeId);
    this.stopRuns(stop);
    return preempted;
  }

  /** The capacity is back: a node still preempted comes back on a fresh VM (starting, its start task, idle); one that cannot becomes unusable. */
  restorePreempted(placement: NodePlacement): void {
    if (!this.deps.nodes.restorePreempted(placement)) return;
    this.deps.nodeWork.restart(
      placement,
      { wipe: true },
      () => this.deps.nodes.markReady(placement),
      (failure) => this.deps.nodes.markUnusable(placement, failure),
    );
  }

  /** Restarts a lost node through its provider; one that cannot be restarted becomes unusable. */
  private recoverNode(placement: NodePlacement): void {
    this.deps.nodeWork.restart(
      placement,
      { wipe: false, recover: true },
      () => {
        this.liveness.heard(placement.nodeId, performance.now());
        this.deps.nodes.markReady(placement);
      },
      (failure) => this.deps.nodes.markUnusable(placement, failure),
    );
  }

  /** The one timer: a pass when the earliest schedule run, autoscale sample, job deadline or task retention falls due. */
  private armTimer(at: number | undefined): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (at === undefined || this.stopped) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.deps.clock.now().getTime()));
    this.timer = setTimeout(() => this.wake(), delay);
    this.timer.unref();
  }

  private startNodeWork(provision: NodePlacement[], release: NodePlacement[], stop: TaskRunRef[]): void {
    this.stopRuns(stop);
    for (const placement of provision) {
      this.deps.nodeWork.provision(
        placement,
        () => this.deps.nodes.markReady(placement),
        (failure) => this.deps.nodes.markUnusable(placement, failure),
      );
    }
    for (const placement of release) this.deps.nodeWork.release(placement, () => this.deps.nodes.markRemoved(placement));
  }

  private stopRuns(runs: TaskRunRef[]): void {
    this.deps.nodeWork.stopRuns(runs);
  }

  private removeFiles(files: TaskFiles[]): void {
    for (const { placement, path } of files) this.deps.nodeWork.removeFiles(placement, path);
  }
}

function earliest(...times: (number | undefined)[]): number | undefined {
  const defined = times.filter((time): time is number => time !== undefined);
  return defined.length > 0 ? Math.min(...defined) : undefined;
}
