// Pool use cases: add, get, list, exists, delete, patch, updateProperties,
// resize, stopResize, and autoscale: enable, disable, evaluate, and the
// scheduler's periodic evaluation; and the auto pools of jobs and schedules.
// Nodes come and go asynchronously: these methods change the pool's targets
// and states and wake the scheduler, whose allocator does the node work.

import { randomUUID } from 'node:crypto';
import { checkPoolAdmin, checkRunIdentity } from '../core/admin-tasks.js';
import { autoPoolId, checkAutoPoolSpecification, createAutoPool, type AutoPoolSpecification } from '../core/auto-pool.js';
import { checkConditions, type Conditions } from '../core/conditions.js';
import { batchErrors } from '../core/errors.js';
import { assertValidId } from '../core/ids.js';
import {
  assertAutoScaleEnabled,
  checkFormula,
  disablePoolAutoScale,
  enablePoolAutoScale,
  nextEvaluationTime,
  runFormula,
  type AutoScaleRun,
  type AutoScaleSettings,
} from '../core/pool-autoscale.js';
import {
  applyAutoScaleRun,
  checkStartTaskContainer,
  createPool,
  markPoolDeleting,
  patchPool,
  resizePool,
  stopPoolResize,
  updatePoolProperties,
  type EmptyPoolChanges,
  type Pool,
  type PoolPropertyChanges,
  type PoolWithInternal,
  type PoolSpec,
  type ResizeRequest,
} from '../core/pool.js';
import type { Page, PageQuery } from '../core/ports.js';
import { AutoScaleSamples, currentSampleValues, SAMPLE_PERIOD_MS } from './autoscale-samples.js';
import type { Caller, ServiceContext } from './context.js';
import type { NodeUsageReader } from './node-usage-service.js';

export class PoolService {
  private readonly samples = new AutoScaleSamples();

  constructor(
    private readonly context: ServiceContext,
    private readonly nodeUsage: NodeUsageReader,
  ) {}

  add(caller: Caller, spec: PoolSpec): Pool {
    assertValidId(spec.id);
    checkPoolAdmin(this.context.deps.adminTasks, spec);
    const { now, eTag } = this.context.stamp();
    return this.insert(caller.account, createPool(spec, now, eTag, this.poolOptions()));
  }

  /**
   * Creates the auto pool of a job or job schedule, an ordinary pool with an
   * id Batch's way; errors name the pool under `property`.
   */
  addAutoPool(account: string, spec: AutoPoolSpecification, property: string): Pool {
    const { now, eTag } = this.context.stamp();
    return this.insert(account, createAutoPool(spec, autoPoolId(spec, randomUUID()), property, now, eTag, this.poolOptions()));
  }

  /** Checks an auto pool specification as addAutoPool would, creating nothing. */
  checkAutoPool(spec: AutoPoolSpecification, property: string): void {
    checkAutoPoolSpecification(spec, property, this.context.now(), this.poolOptions());
  }

  /** The end of an auto pool's lifetime: it is deleted, unless it is gone or going already. */
  releaseAutoPool(account: string, poolId: string): void {
    const record = this.context.store.pools.get(account, poolId);
    if (!record || record.pool.state === 'deleting') return;
    this.delete({ account }, poolId);
  }

  private poolOptions() {
    return { minAutoScaleIntervalMs: this.context.deps.minAutoScaleIntervalMs, containerPoolRefusal: this.context.deps.containerPoolRefusal };
  }

  private insert(account: string, created: Pool): Pool {
    const pool = this.context.store.transaction(() => {
      const record = { pool: created, internal: {} };
      if (!this.context.store.pools.insert({ account, ...record })) throw batchErrors.poolExists();
      // Batch evaluates an autoscale pool's formula as the pool is created.
      return created.enableAutoScale ? this.evaluateAndApply(account, record).pool : created;
    });
    this.context.deps.signal.wake();
    return pool;
  }

  enableAutoScale(caller: Caller, poolId: string, settings: AutoScaleSettings, conditions?: Conditions): Pool {
    return this.mutateWithInternal(caller, poolId, conditions, ({ pool, internal }, now, eTag) => {
      const enabled = enablePoolAutoScale(pool, settings, this.context.deps.minAutoScaleIntervalMs, now, eTag);
      // A new formula or interval is evaluated at once, and the interval counts from there.
      const { autoScaleRun: _last, ...fresh } = enabled;
      return this.evaluateAndApply(caller.account, { pool: fresh, internal });
    });
  }

  disableAutoScale(caller: Caller, poolId: string, conditions?: Conditions): Pool {
    return this.mutate(caller, poolId, conditions, (pool, now, eTag) => disablePoolAutoScale(pool, now, eTag));
  }

  /** Pool_EvaluateAutoScale: what a formula would do now; nothing changes. */
  evaluateAutoScale(caller: Caller, poolId: string, formula: string): AutoScaleRun {
    const pool = this.get(caller, poolId);
    assertAutoScaleEnabled(pool);
    checkFormula(formula);
    return runFormula(pool, formula, this.inputs(caller.account, pool)).run;
  }

  /**
   * The scheduler's autoscale sweep: samples every autoscale pool each 30
   * seconds and evaluates its formula each evaluation interval. Returns when
   * it next needs a sweep (epoch ms), if ever.
   */
  runAutoScale(): number | undefined {
    const { store } = this.context;
    let nextWake: number | undefined;
    const consider = (at: number) => {
      if (nextWake === undefined || at < nextWake) nextWake = at;
    };
    store.transaction(() => {
      for (const { account, pool, internal } of store.pools.listAll()) {
        if (!pool.enableAutoScale || pool.state !== 'active') continue;
        const now = this.context.now().getTime();
        this.samples.record(account, pool.id, currentSampleValues(store, this.nodeUsage, account, pool), now);
        let current = pool;
        if ((nextEvaluationTime(pool) ?? Number.POSITIVE_INFINITY) <= now) current = this.evaluateAndApply(account, { pool, internal }).pool;
        consider(this.samples.nextSampleTime(account, pool.id));
        const next = nextEvaluationTime(current);
        if (next !== undefined) consider(next);
      }
    });
    return nextWake;
  }

  private inputs(account: string, pool: Pool) {
    const now = this.context.now();
    const values = currentSampleValues(this.context.store, this.nodeUsage, account, pool);
    this.samples.record(account, pool.id, values, now.getTime());
    return { now, values, samples: this.samples.samples(account, pool.id), samplePeriodMs: SAMPLE_PERIOD_MS };
  }

  /** Runs the pool's formula and stores the run, resizing the pool when the targets changed. */
  private evaluateAndApply(account: string, current: PoolWithInternal): PoolWithInternal {
    const { pool } = current;
    const { run, targets } = runFormula(pool, pool.autoScaleFormula ?? '', this.inputs(account, pool));
    const { now, eTag } = this.context.stamp();
    const updated = applyAutoScaleRun(current, run, targets, now, eTag);
    this.context.store.pools.update({ account, ...updated });
    // New targets need the allocator's next pass.
    if (updated.pool.allocationStateTransitionTime !== pool.allocationStateTransitionTime) this.context.deps.signal.wake();
    return updated;
  }

  get(caller: Caller, poolId: string, conditions?: Conditions): Pool {
    const record = this.context.store.pools.get(caller.account, poolId);
    if (!record) throw batchErrors.poolNotFound();
    checkConditions(record.pool, conditions, 'read');
    return record.pool;
  }

  list(caller: Caller, page: PageQuery): Page<Pool> {
    const result = this.context.store.pools.list(caller.account, page);
    return { items: result.items.map((record) => record.pool), continuation: result.continuation };
  }

  delete(caller: Caller, poolId: string, conditions?: Conditions): void {
    this.samples.forget(caller.account, poolId);
    this.mutate(caller, poolId, conditions, (pool, now, eTag) => markPoolDeleting(pool, now, eTag));
  }

  patch(caller: Caller, poolId: string, changes: PoolPropertyChanges, conditions?: Conditions, emptyPoolChanges?: EmptyPoolChanges): Pool {
    return this.mutate(caller, poolId, conditions, (pool, now, eTag) => {
      this.checkAdminChanges(pool, changes, emptyPoolChanges);
      checkStartTaskContainer(changes.startTask);
      return patchPool(pool, changes, now, eTag, emptyPoolChanges);
    });
  }

  updateProperties(caller: Caller, poolId: string, changes: PoolPropertyChanges, conditions?: Conditions): Pool {
    return this.mutate(caller, poolId, conditions, (pool, now, eTag) => {
      this.checkAdminChanges(pool, changes);
      checkStartTaskContainer(changes.startTask);
      return updatePoolProperties(pool, changes, now, eTag);
    });
  }

  /** With --admin-tasks refuse: a new start task or user accounts may not run as admin, nor name one of the pool's admin users. */
  private checkAdminChanges(pool: Pool, changes: PoolPropertyChanges, emptyPoolChanges?: EmptyPoolChanges): void {
    const policy = this.context.deps.adminTasks;
    if (policy !== 'refuse') return;
    checkPoolAdmin(policy, { startTask: changes.startTask, userAccounts: emptyPoolChanges?.userAccounts });
    const accounts = emptyPoolChanges?.userAccounts !== undefined ? { ...pool, userAccounts: emptyPoolChanges.userAccounts } : pool;
    checkRunIdentity(policy, changes.startTask?.userIdentity, 'startTask', accounts);
  }

  resize(caller: Caller, poolId: string, request: ResizeRequest, conditions?: Conditions): Pool {
    return this.mutateWithInternal(caller, poolId, conditions, ({ pool }, now, eTag) => resizePool(pool, request, now, eTag));
  }

  stopResize(caller: Caller, poolId: string, conditions?: Conditions): Pool {
    return this.mutate(caller, poolId, conditions, (pool, now, eTag) => stopPoolResize(pool, now, eTag));
  }

  /** A change to the pool's document; its internal part stays as it is. */
  private mutate(caller: Caller, poolId: string, conditions: Conditions | undefined, change: (pool: Pool, now: Date, eTag: string) => Pool): Pool {
    return this.mutateWithInternal(caller, poolId, conditions, ({ pool, internal }, now, eTag) => ({ pool: change(pool, now, eTag), internal }));
  }

  private mutateWithInternal(
    caller: Caller,
    poolId: string,
    conditions: Conditions | undefined,
    change: (current: PoolWithInternal, now: Date, eTag: string) => PoolWithInternal,
  ): Pool {
    const updated = this.context.store.transaction(() => {
      const record = this.context.store.pools.get(caller.account, poolId);
      if (!record) throw batchErrors.poolNotFound();
      checkConditions(record.pool, conditions, 'write');
      const { now, eTag } = this.context.stamp();
      const next = change(record, now, eTag);
      this.context.store.pools.update({ account: caller.account, ...next });
      return next.pool;
    });
    this.context.deps.signal.wake();
    return updated;
  }
}
