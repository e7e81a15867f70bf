// Admin elevation, refused when the operator says so. On local process nodes
// a run with elevationLevel admin (an auto user, or a pool user account that
// is admin) runs as root on the host, as documented; an operator who shares
// a Lapis with tenants it does not trust starts it with `--admin-tasks
// refuse`, and every request that would run code as admin is then answered
// InvalidPropertyValue naming the property, before anything is created or
// changed:
//
//   Task_Add, Task_AddCollection          userIdentity (auto user admin, or a named pool user who is admin)
//   Pool_Add, Pool_Patch, Pool_UpdateProperties
//                                         startTask.userIdentity, userAccounts[i].elevationLevel
//   Job_Add, Job_Patch, Job_Update        jobManagerTask, jobPreparationTask, jobReleaseTask,
//   JobSchedule_Add/Patch/Update          and the auto pool (poolInfo.autoPoolSpecification.pool)
//
// Task_Update changes constraints only, so it cannot change whom a task runs as.

import type { UserIdentity } from './common.js';
import { batchErrors } from './errors.js';
import { poolUserAccount } from './pool-users.js';
import type { Pool } from './pool.js';

export type AdminTasksPolicy = 'allow' | 'refuse';

const isAdmin = (level: unknown): boolean => typeof level === 'string' && level.toLowerCase() === 'admin';

function join(prefix: string, property: string): string {
  return prefix ? `${prefix}.${property}` : property;
}

/**
 * A run's userIdentity under `prefix` (e.g. `jobManagerTask`): an admin auto
 * user, or a named user that `pool` defines as admin.
 */
export function checkRunIdentity(policy: AdminTasksPolicy, identity: UserIdentity | undefined, prefix: string, pool?: Pool): void {
  if (policy !== 'refuse' || !identity) return;
  if (isAdmin(identity.autoUser?.elevationLevel)) {
    throw batchErrors.adminTasksRefused(join(prefix, 'userIdentity.autoUser.elevationLevel'), String(identity.autoUser?.elevationLevel));
  }
  const userName = identity.username;
  if (userName && pool && poolUserAccount(pool, userName)?.elevationLevel === 'admin') {
    throw batchErrors.adminTasksRefused(join(prefix, 'userIdentity.username'), userName);
  }
}

interface PoolLike {
  startTask?: { userIdentity?: UserIdentity };
  userAccounts?: unknown;
  [extra: string]: unknown;
}

/** A pool's start task and user accounts (Pool_Add, Pool_Patch, Pool_UpdateProperties, auto pools). */
export function checkPoolAdmin(policy: AdminTasksPolicy, pool: PoolLike | undefined, prefix = ''): void {
  if (policy !== 'refuse' || !pool) return;
  const accounts = Array.isArray(pool.userAccounts) ? (pool.userAccounts as { elevationLevel?: unknown }[]) : [];
  accounts.forEach((account, index) => {
    if (isAdmin(account?.elevationLevel)) throw batchErrors.adminTasksRefused(join(prefix, `userAccounts[${index}].elevationLevel`), String(account.elevationLevel));
  });
  // A start task naming one of these (non-admin) users is fine; an admin one was refused above.
  checkRunIdentity(policy, pool.startTask?.userIdentity, join(prefix, 'startTask'));
}

interface PoolInfoLike {
  autoPoolSpecification?: { pool?: PoolLike };
}

interface JobLike {
  poolInfo?: PoolInfoLike;
  [extra: string]: unknown;
}

const JOB_TASKS = ['jobManagerTask', 'jobPreparationTask', 'jobReleaseTask'] as const;

/**
 * A job or a schedule's job specification: its job manager, preparation and
 * release tasks, and its auto pool. `pool` is the existing pool the job runs
 * on, to recognise its admin user accounts.
 */
export function checkJobAdmin(policy: AdminTasksPolicy, job: JobLike | undefined, prefix = '', pool?: Pool): void {
  if (policy !== 'refuse' || !job) return;
  const autoPool = job.poolInfo?.autoPoolSpecification?.pool;
  checkPoolAdmin(policy, autoPool, join(prefix, 'poolInfo.autoPoolSpecification.pool'));
  for (const name of JOB_TASKS) {
    const task = job[name] as { userIdentity?: UserIdentity } | undefined;
    checkRunIdentity(policy, task?.userIdentity, join(prefix, name), autoPool ? (autoPool as Pool) : pool);
  }
}
