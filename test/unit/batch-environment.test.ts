// The AZ_BATCH_* variables each kind of run sees, from the one module that
// assigns them.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { batchEnvironment, settingsEnvironment } from '../../src/core/batch-environment.js';
import type { TaskRun } from '../../src/core/ports.js';

function runOf(overrides: Partial<TaskRun>): TaskRun {
  return {
    kind: 'task',
    account: 'acct',
    poolId: 'pool',
    nodeId: 'node-1',
    jobId: 'job',
    taskId: 'task',
    attempt: 1,
    commandLine: '/bin/true',
    taskDirectory: 'workitems/job/job-1/task',
    resourceFiles: [],
    environment: {},
    accountUrl: 'http://127.0.0.1:10100',
    elevationLevel: 'nonadmin',
    isRetry: false,
    outputFiles: [],
    ...overrides,
  };
}

const where = { nodeRoot: '/nodes/node-1', taskDirectory: '/nodes/node-1/workitems/job/job-1/task', workingDirectory: '/nodes/node-1/workitems/job/job-1/task/wd', userName: 'lapis_x_pool' };

describe('batchEnvironment', () => {
  test('a task sees its account, job, task, node and directories', () => {
    const variables = batchEnvironment(runOf({}), where);
    assert.deepEqual(
      { ...variables },
      {
        AZ_BATCH_ACCOUNT_NAME: 'acct',
        AZ_BATCH_ACCOUNT_URL: 'http://127.0.0.1:10100',
        AZ_BATCH_JOB_ID: 'job',
        AZ_BATCH_TASK_ID: 'task',
        AZ_BATCH_POOL_ID: 'pool',
        AZ_BATCH_NODE_ID: 'node-1',
        AZ_BATCH_NODE_IS_DEDICATED: 'true',
        AZ_BATCH_NODE_ROOT_DIR: '/nodes/node-1',
        AZ_BATCH_NODE_SHARED_DIR: '/nodes/node-1/shared',
        AZ_BATCH_NODE_STARTUP_DIR: '/nodes/node-1/startup',
        AZ_BATCH_NODE_MOUNTS_DIR: '/nodes/node-1/fsmounts',
        AZ_BATCH_TASK_DIR: where.taskDirectory,
        AZ_BATCH_TASK_WORKING_DIR: where.workingDirectory,
        AZ_BATCH_CERTIFICATES_DIR: `${where.taskDirectory}/certs`,
        AZ_BATCH_TASK_USER: 'lapis_x_pool',
      },
    );
  });

  test('a start task has no job or task id; a preparation task its own id', () => {
    const start = batchEnvironment(runOf({ kind: 'startTask', jobId: '', taskId: 'starttask' }), where);
    assert.equal(start.AZ_BATCH_JOB_ID, undefined);
    assert.equal(start.AZ_BATCH_TASK_ID, undefined);
    const preparation = batchEnvironment(runOf({ kind: 'jobPreparation', taskId: 'jobPreparation', visibleTaskId: 'prep' }), where);
    assert.equal(preparation.AZ_BATCH_TASK_ID, 'prep');
    assert.equal(preparation.AZ_BATCH_JOB_ID, 'job');
  });

  test('token, packages, preparation directory and multi-instance variables when the run has them', () => {
    const variables = batchEnvironment(
      runOf({
        authenticationToken: 'tok',
        applicationPackages: [{ sourcePath: '/server/pkg', directory: 'applications/blender#2.93', variables: ['AZ_BATCH_APP_PACKAGE_blender_2_93', 'AZ_BATCH_APP_PACKAGE_blender'] }],
        jobPreparationDirectory: 'workitems/job/job-1/jobpreparation',
        instance: { id: 1, phase: 'coordination', hostList: ['127.0.0.1', '127.0.0.1'], masterNode: '127.0.0.1:6000' },
      }),
      where,
    );
    assert.equal(variables.AZ_BATCH_AUTHENTICATION_TOKEN, 'tok');
    assert.equal(variables.AZ_BATCH_APP_PACKAGE_blender_2_93, '/nodes/node-1/applications/blender#2.93');
    assert.equal(variables.AZ_BATCH_APP_PACKAGE_blender, '/nodes/node-1/applications/blender#2.93');
    assert.equal(variables.AZ_BATCH_JOB_PREP_DIR, '/nodes/node-1/workitems/job/job-1/jobpreparation');
    assert.equal(variables.AZ_BATCH_JOB_PREP_WORKING_DIR, '/nodes/node-1/workitems/job/job-1/jobpreparation/wd');
    assert.equal(variables.AZ_BATCH_HOST_LIST, '127.0.0.1,127.0.0.1');
    assert.equal(variables.AZ_BATCH_IS_CURRENT_NODE_MASTER, 'false');
    assert.equal(variables.AZ_BATCH_TASK_SHARED_DIR, where.taskDirectory);
  });

  test("settings: a task's own settings over the job's common ones; a missing value is empty", () => {
    assert.deepEqual(settingsEnvironment([{ name: 'A', value: 'job' }, { name: 'B', value: 'job' }], [{ name: 'A', value: 'task' }, { name: 'C' }]), { A: 'task', B: 'job', C: '' });
  });

  test('no other module assigns an AZ_BATCH_* variable', () => {
    const source = path.resolve(import.meta.dirname, '../../src');
    const offenders: string[] = [];
    const walk = (directory: string): void => {
      for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
        const file = path.join(directory, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (/\.(ts|mjs)$/.test(entry.name) && !file.endsWith(path.join('core', 'batch-environment.ts'))) {
          const text = fs.readFileSync(file, 'utf8');
          if (/\bAZ_BATCH_\w+['"]?\s*[:=][^=]|\[['"`]AZ_BATCH_/.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ''))) offenders.push(path.relative(source, file));
        }
      }
    };
    walk(source);
    assert.deepEqual(offenders, []);
  });
});
