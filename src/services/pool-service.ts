// Pool use cases: add, get, list, exists, delete, patch, updateProperties,
// resize, stopResize.
// Nodes come and go asynchronously: these methods change the pool's targets
// and states and wake the scheduler, whose allocator does the node work.

import { checkConditions, type Conditions } from '../core/conditions.js';
import { batchErrors } from '../core/errors.js';
import { assertValidId } from '../core/ids.js';
import {
  createPool,
  markPoolDeleting,
  patchPool,
  resizePool,
  stopPoolResize,
  updatePoolProperties,
  type Pool,
  type PoolPropertyChanges,
  type PoolSpec,
  type ResizeRequest,
} from '../core/pool.js';
import type { Page, PageQuery } from '../core/ports.js';
import type { Caller, ServiceContext } from './context.js';

export class PoolService {
  constructor(private readonly context: ServiceContext) {}

  add(caller: Caller, spec: PoolSpec): Pool {
    assertValidId(spec.id);
    const { now, eTag } = this.context.stamp();
    const pool = createPool(spec, now, eTag);
    this.context.store.transaction(() => {
      if (!this.context.store.pools.insert({ account: caller.account, pool })) throw batchErrors.poolExists();
    });
    this.context.deps.signal.wake();
    return pool;
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
    this.mutate(caller, poolId, conditions, (pool, now, eTag) => markPoolDeleting(pool, now, eTag));
  }

  patch(caller: Caller, poolId: string, changes: PoolPropertyChanges, conditions?: Conditions): Pool {
    return this.mutate(caller, poolId, conditions, (pool, now, eTag) => patchPool(pool, changes, now, eTag));
  }

  updateProperties(caller: Caller, poolId: string, changes: PoolPropertyChanges, conditions?: Conditions): Pool {
    return this.mutate(caller, poolId, conditions, (pool, now, eTag) => updatePoolProperties(pool, changes, now, eTag));
  }

  resize(caller: Caller, poolId: string, request: ResizeRequest, conditions?: Conditions): Pool {
    return this.mutate(caller, poolId, conditions, (pool, now, eTag) => resizePool(pool, request, now, eTag));
  }

  stopResize(caller: Caller, poolId: string, conditions?: Conditions): Pool {
    return this.mutate(caller, poolId, conditions, (pool, now, eTag) => stopPoolResize(pool, now, eTag));
  }

  private mutate(caller: Caller, poolId: string, conditions: Conditions | undefined, change: (pool: Pool, now: Date, eTag: string) => Pool): Pool {
    const updated = this.context.store.transaction(() => {
      const record = this.context.store.pools.get(caller.account, poolId);
      if (!record) throw batchErrors.poolNotFound();
      checkConditions(record.pool, conditions, 'write');
      const { now, eTag } = this.context.stamp();
      const pool = change(record.pool, now, eTag);
      this.context.store.pools.update({ account: caller.account, pool });
      return pool;
    });
    this.context.deps.signal.wake();
    return updated;
  }
}
