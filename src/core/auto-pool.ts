// Auto pools: a pool that Batch creates for a job or a job schedule from the
// poolInfo's autoPoolSpecification, and deletes when its lifetime ends
// (the job's or the schedule's) unless keepAlive is set.

import { BatchError, batchErrors, isBatchError } from './errors.js';
import { createPool, type PoolCreationOptions, type PoolSpec } from './pool.js';

export type PoolLifetimeOption = 'job' | 'jobschedule';

export interface AutoPoolSpecification {
  autoPoolIdPrefix?: string;
  poolLifetimeOption: PoolLifetimeOption;
  keepAlive?: boolean;
  pool: Omit<PoolSpec, 'id'>;
  [extra: string]: unknown;
}

export interface PoolInformation {
  poolId?: string;
  autoPoolSpecification?: AutoPoolSpecification;
}

/** Batch's form: the prefix, an underscore, then a GUID; a bare GUID without a prefix. */
export function autoPoolId(spec: AutoPoolSpecification, guid: string): string {
  const suffix = guid.toUpperCase();
  return spec.autoPoolIdPrefix ? `${spec.autoPoolIdPrefix}_${suffix}` : suffix;
}

export function autoPoolSpec(spec: AutoPoolSpecification, poolId: string): PoolSpec {
  // The request schema checked the pool as Pool_Add's body, all but the id.
  return { ...spec.pool, id: poolId } as PoolSpec;
}

/** The error of a check made on the inner pool, renamed to where the pool sits in the request. */
function underProperty(error: BatchError, prefix: string): BatchError {
  const values = error.values.map((detail) => (detail.key === 'PropertyName' ? { ...detail, value: `${prefix}.${detail.value}` } : detail));
  return new BatchError(error.code, error.kind, error.message, values);
}

/**
 * Checks the pool as Pool_Add would; errors name the property under
 * `property` (e.g. poolInfo.autoPoolSpecification).
 */
export function checkAutoPoolSpecification(spec: AutoPoolSpecification, property: string, now: Date, options: PoolCreationOptions): void {
  createAutoPool(spec, 'autopool', property, now, '', options);
}

/** The auto pool itself, built from the specification with the errors of Pool_Add named under `property`. */
export function createAutoPool(
  spec: AutoPoolSpecification,
  poolId: string,
  property: string,
  now: Date,
  eTag: string,
  options: PoolCreationOptions,
): ReturnType<typeof createPool> {
  try {
    return createPool(autoPoolSpec(spec, poolId), now, eTag, options);
  } catch (error) {
    throw isBatchError(error) ? underProperty(error, `${property}.pool`) : error;
  }
}

/** Batch applies the lifetime 'jobschedule' only to job schedules, not to jobs. */
export function checkJobAutoPoolLifetime(spec: AutoPoolSpecification, property: string): void {
  if (spec.poolLifetimeOption === 'jobschedule') {
    throw batchErrors.invalidPropertyValue(`${property}.poolLifetimeOption`, 'The poolLifetimeOption jobschedule applies only to job schedules.');
  }
}

/** The auto pool that goes when this job ends: lifetime 'job' and not kept alive. */
export function autoPoolEndingWithJob(poolInfo: PoolInformation, poolId: string | undefined): string | undefined {
  const spec = poolInfo.autoPoolSpecification;
  if (!spec || spec.poolLifetimeOption !== 'job' || spec.keepAlive) return undefined;
  return poolId;
}
