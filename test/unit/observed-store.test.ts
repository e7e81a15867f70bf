// The one place state changes are observed (src/server/observed-store.ts),
// over a real SQLite store: a change is reported once, after its
// transaction commits; a write that changes no state reports nothing; a
// transaction that throws reports nothing and leaves no belief behind; and a
// task this process never saw (after a restart) is judged by its own stamps;
// a node's states in between, inside one transaction, are not told.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StateChange } from '../../src/core/events.js';
import { createJob, type Job } from '../../src/core/job.js';
import { newNode, type ComputeNode } from '../../src/core/node.js';
import { applyAutoScaleRun, createPool } from '../../src/core/pool.js';
import type { Store } from '../../src/core/ports.js';
import { assignToNode, completeTask, createTask, requeueTask, type Task } from '../../src/core/task.js';
import { observeStateChanges } from '../../src/server/observed-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const ACCOUNT = 'acct';
let clockMs = Date.parse('2024-05-06T07:08:09.000Z');
const tick = () => new Date((clockMs += 1000));
let etags = 0;
const eTag = () => `0x${(++etags).toString(16)}`;
const NODE = { affinityId: 'n1', nodeUrl: 'https://lapis/pools/p/nodes/n1', poolId: 'p', nodeId: 'n1', taskRootDirectory: 'workitems/j/job-1/t', taskRootDirectoryUrl: 'https://lapis/t' };

function setUp(inner = openSqliteStore({})): { store: Store; changes: StateChange[]; job: Job } {
  const changes: StateChange[] = [];
  const store = observeStateChanges(inner, { now: () => new Date(clockMs) }, (change) => changes.push(change));
  const job = createJob({ id: 'job', poolInfo: { poolId: 'p' } } as Parameters<typeof createJob>[0], tick(), eTag());
  store.jobs.insert({ account: ACCOUNT, job, internal: {} });
  return { store, changes, job };
}

function addTask(store: Store, job: Job, id: string): Task {
  const task = createTask({ id, commandLine: '/bin/true' }, job, tick(), eTag());
  store.tasks.insert({ account: ACCOUNT, jobId: job.id, attempt: 0, task, internal: {} });
  return task;
}

const update = (store: Store, task: Task, attempt = 1) => store.tasks.update({ account: ACCOUNT, jobId: 'job', seq: 0, attempt, task, internal: {} });

test('each change is reported once, in order; a write that changes no state reports nothing', () => {
  const { store, changes } = setUp();
  const job = store.jobs.get(ACCOUNT, 'job')?.job as Job;
  const task = addTask(store, job, 't1');
  const running = assignToNode(task, NODE, tick(), eTag());
  store.transaction(() => update(store, running));
  store.transaction(() => update(store, { ...running, displayName: 'renamed', lastModified: tick().toISOString() }));
  const done = completeTask({ task: running, internal: {} }, { exitCode: 3, endTime: tick().toISOString() }, tick(), eTag()).task;
  update(store, done);
  update(store, done);
  assert.deepEqual(
    changes.map((c) => [c.resource, c.change, c.previousState, c.state]),
    [
      ['job', 'added', undefined, 'active'],
      ['task', 'added', undefined, 'active'],
      ['task', 'state', 'active', 'running'],
      ['task', 'state', 'running', 'completed'],
    ],
  );
  assert.equal(changes[3]?.detail?.exitCode, 3);
  assert.equal(changes[3]?.detail?.result, 'failure');
  assert.equal(changes[3]?.detail?.runMs, 3000, 'running at one tick, completed three ticks later');
});

test('a transaction that throws reports nothing, and what it wrote is not believed afterwards', () => {
  const { store, changes, job } = setUp();
  const task = addTask(store, job, 't2');
  changes.length = 0;
  const running = assignToNode(task, NODE, tick(), eTag());
  assert.throws(() =>
    store.transaction(() => {
      update(store, running);
      store.transaction(() => store.jobs.delete(ACCOUNT, 'job'));
      throw new Error('refused');
    }),
  );
  assert.equal(changes.length, 0, 'nothing committed, nothing told');
  assert.equal(store.tasks.get(ACCOUNT, 'job', 't2')?.task.state, 'active');
  // Had the failed write been believed, this real one would look like no change.
  store.transaction(() => update(store, running));
  assert.deepEqual(changes.map((c) => [c.change, c.state]), [['state', 'running']]);
});

test('after a restart, a task never seen is judged by its own stamps: a transition is told, a later write is not', () => {
  const inner = openSqliteStore({});
  const first = setUp(inner);
  const task = addTask(first.store, first.job, 't3');
  const running = assignToNode(task, NODE, tick(), eTag());
  update(first.store, running);

  const changes: StateChange[] = [];
  const restarted = observeStateChanges(inner, { now: () => new Date(clockMs) }, (change) => changes.push(change));
  const requeued = requeueTask({ task: running, internal: {} }, tick(), eTag()).task;
  update(restarted, requeued);
  assert.deepEqual(changes.map((c) => [c.change, c.previousState, c.state, c.detail?.requeueCount]), [['requeued', 'running', 'active', 1]]);

  const again = observeStateChanges(inner, { now: () => new Date(clockMs) }, (change) => changes.push(change));
  update(again, { ...requeued, displayName: 'touched', lastModified: tick().toISOString() });
  assert.equal(changes.length, 1, 'a write that is no transition tells nothing');
});

test("a node's states in between, inside one transaction, make one change from the first to the last; back where it began, none", () => {
  const { store, changes } = setUp();
  const node = newNode('n1', { vmSize: 'small', isDedicated: false }, tick());
  const write = (state: ComputeNode['state']) => store.nodes.update({ account: ACCOUNT, poolId: 'p', node: { ...node, state, stateTransitionTime: tick().toISOString() }, internal: {} });
  store.nodes.insert({ account: ACCOUNT, poolId: 'p', node: { ...node, state: 'running' }, internal: {} });
  store.transaction(() => {
    write('idle');
    write('preempted');
  });
  store.transaction(() => {
    write('starting');
    write('preempted');
  });
  write('idle');
  assert.deepEqual(
    changes.filter((c) => c.resource === 'node').map((c) => [c.change, c.previousState, c.state]),
    [
      ['added', undefined, 'running'],
      ['state', 'running', 'preempted'],
      ['state', 'preempted', 'idle'],
    ],
  );
});

test("each autoscale evaluation is an event with its results or error, though Batch keeps only the pool's last", () => {
  const { store, changes } = setUp();
  const spec = { id: 'auto', vmSize: 'standard_d1_v2', virtualMachineConfiguration: {}, enableAutoScale: true, autoScaleFormula: '$TargetDedicatedNodes = 0;' };
  const pool = createPool(spec as Parameters<typeof createPool>[0], tick(), eTag(), { minAutoScaleIntervalMs: 0 });
  store.pools.insert({ account: ACCOUNT, pool, internal: {} });
  const evaluate = (record: { pool: typeof pool; internal: object }, run: Parameters<typeof applyAutoScaleRun>[1], dedicated: number) => {
    const next = applyAutoScaleRun(record, run, { dedicated, lowPriority: 0, deallocation: 'requeue' }, tick(), eTag());
    store.pools.update({ account: ACCOUNT, ...next });
    return next;
  };
  changes.length = 0;
  const first = evaluate({ pool, internal: {} }, { timestamp: tick().toISOString(), results: '$TargetDedicatedNodes=2' }, 2);
  const quiet = evaluate(first, { timestamp: tick().toISOString(), results: '$TargetDedicatedNodes=2' }, 2);
  evaluate(quiet, { timestamp: tick().toISOString(), error: { code: 'AutoScalingFormulaEvaluationError', message: 'no samples', values: [] } }, 2);
  assert.deepEqual(
    changes.map((c) => [c.change, c.detail?.targetDedicatedNodes, c.detail?.autoScaleResults, c.detail?.autoScaleError]),
    [
      ['state', 2, '$TargetDedicatedNodes=2', undefined],
      ['evaluated', 2, '$TargetDedicatedNodes=2', undefined],
      ['evaluated', 2, undefined, 'AutoScalingFormulaEvaluationError: no samples'],
    ],
  );
  assert.equal(changes[1]?.time, quiet.pool.autoScaleRun?.timestamp, "an evaluation that changes nothing else is dated by the evaluation");
});
