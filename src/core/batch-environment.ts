// The AZ_BATCH_* variables of every kind of run, in one place. Services
// describe a run (whose it is, its token, its user's settings); the node's
// agent knows where the node lives on its machine and whom the process runs
// as; this builds what the process sees from both. No other module assigns
// an AZ_BATCH_* variable.
//
//   variable                            task  startTask  jobPreparation/jobRelease
//   ACCOUNT_NAME, ACCOUNT_URL            ✔       ✔             ✔
//   JOB_ID                               ✔                     ✔
//   TASK_ID                              ✔                     ✔ (the task's own id, else jobpreparation / jobrelease)
//   AUTHENTICATION_TOKEN                 ✔ (authenticationTokenSettings)
//   POOL_ID, NODE_ID, NODE_IS_DEDICATED,
//   NODE_*_DIR, TASK_DIR,
//   TASK_WORKING_DIR, CERTIFICATES_DIR,
//   TASK_USER                            ✔       ✔             ✔
//   JOB_PREP_DIR, JOB_PREP_WORKING_DIR   ✔ (job has one)       ✔ (job has one)
//   HOST_LIST, MASTER_NODE,
//   IS_CURRENT_NODE_MASTER,
//   TASK_SHARED_DIR                      ✔ (multi-instance)
//   APP_PACKAGE_<id>[_<version>]         ✔       ✔             ✔ (packages the run references)
//
// The user's environmentSettings come first and Batch's variables win over
// them, as on a Batch node.

import type { TaskRun } from './ports.js';

/** Where the run lives on its node's machine, and whom it runs as: the agent's part. */
export interface RunPlacementOnNode {
  nodeRoot: string;
  taskDirectory: string;
  workingDirectory: string;
  /** The OS user the process runs as. */
  userName: string;
}

/** Joins paths with '/', as a Linux node does (core knows no `path` module). */
function join(...parts: string[]): string {
  return parts.join('/').replace(/\/+/g, '/');
}

export function batchEnvironment(run: TaskRun, where: RunPlacementOnNode): Record<string, string> {
  const { nodeRoot, taskDirectory, workingDirectory } = where;
  const variables: Record<string, string> = {
    AZ_BATCH_ACCOUNT_NAME: run.account,
    AZ_BATCH_ACCOUNT_URL: run.accountUrl,
  };
  if (run.kind !== 'startTask') {
    variables.AZ_BATCH_JOB_ID = run.jobId;
    variables.AZ_BATCH_TASK_ID = run.visibleTaskId ?? run.taskId;
  }
  if (run.authenticationToken) variables.AZ_BATCH_AUTHENTICATION_TOKEN = run.authenticationToken;
  for (const entry of run.applicationPackages ?? []) {
    for (const variable of entry.variables) variables[variable] = join(nodeRoot, entry.directory);
  }
  Object.assign(variables, {
    AZ_BATCH_POOL_ID: run.poolId,
    AZ_BATCH_NODE_ID: run.nodeId,
    AZ_BATCH_NODE_IS_DEDICATED: 'true',
    AZ_BATCH_NODE_ROOT_DIR: nodeRoot,
    AZ_BATCH_NODE_SHARED_DIR: join(nodeRoot, 'shared'),
    AZ_BATCH_NODE_STARTUP_DIR: join(nodeRoot, 'startup'),
    AZ_BATCH_NODE_MOUNTS_DIR: join(nodeRoot, 'fsmounts'),
    AZ_BATCH_TASK_DIR: taskDirectory,
    AZ_BATCH_TASK_WORKING_DIR: workingDirectory,
    AZ_BATCH_CERTIFICATES_DIR: join(taskDirectory, 'certs'),
    AZ_BATCH_TASK_USER: where.userName,
  });
  if (run.instance) {
    Object.assign(variables, {
      AZ_BATCH_HOST_LIST: run.instance.hostList.join(','),
      AZ_BATCH_MASTER_NODE: run.instance.masterNode,
      AZ_BATCH_IS_CURRENT_NODE_MASTER: String(run.instance.id === 0),
      AZ_BATCH_TASK_SHARED_DIR: taskDirectory,
    });
  }
  if (run.jobPreparationDirectory) {
    variables.AZ_BATCH_JOB_PREP_DIR = join(nodeRoot, run.jobPreparationDirectory);
    variables.AZ_BATCH_JOB_PREP_WORKING_DIR = join(nodeRoot, run.jobPreparationDirectory, 'wd');
  }
  return variables;
}

/** A run's environmentSettings as variables: the job's common settings first, the run's own over them. */
export function settingsEnvironment(...lists: ({ name: string; value?: string }[] | undefined)[]): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const list of lists) for (const setting of list ?? []) environment[setting.name] = setting.value ?? '';
  return environment;
}
