// The scheduling policy as a pure function: seed a pool's snapshot, assert on
// the plan. Examples first, then properties over random snapshots (fast-check).

import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PoolSnapshot, SnapshotJob, SnapshotNode, SnapshotRunningTask, SnapshotTask } from '../../src/core/scheduling.js';
import { planPool } from '../../src/scheduler/planner.js';

function node(nodeId: string, freeSlots: number, runningTasks = 0, dedicated = true): SnapshotNode {
  return { nodeId, freeSlots, runningTasks, dedicated };
}

function job(id: string, overrides: Partial<SnapshotJob> = {}): SnapshotJob {
  return { id, priority: 0, allowTaskPreemption: false, parallelRoom: Number.MAX_SAFE_INTEGER, ...overrides };
}

function task(jobId: string, taskId: string, overrides: Partial<SnapshotTask> = {}): SnapshotTask {
  return { jobId, taskId, requiredSlots: 1, instances: 1, dedicatedOnly: false, ...overrides };
}

function snapshot(overrides: Partial<PoolSnapshot>): PoolSnapshot {
  return { account: 'a', poolId: 'p', nodeFillType: 'spread', nodes: [], jobs: [], runnable: [], ...overrides };
}

describe('planPool', () => {
  test('spread puts each task on the least loaded node; pack fills one node first', () => {
    const base = { nodes: [node('n1', 4), node('n2', 4)], jobs: [job('j')], runnable: [[task('j', 't1'), task('j', 't2')]] };
    assert.deepEqual(planPool(snapshot(base)).assignments.map((a) => a.nodeId), ['n1', 'n2']);
    assert.deepEqual(planPool(snapshot({ ...base, nodeFillType: 'pack' })).assignments.map((a) => a.nodeId), ['n1', 'n1']);
  });

  test('a task goes only where its slots fit; what does not fit waits', () => {
    const plan = planPool(snapshot({ nodes: [node('n1', 2), node('n2', 1)], jobs: [job('j')], runnable: [[task('j', 'big', { requiredSlots: 2 }), task('j', 'huge', { requiredSlots: 3 }), task('j', 'small')]] }));
    assert.deepEqual(plan.assignments.map((a) => [a.taskId, a.nodeId]), [['big', 'n1'], ['small', 'n2']]);
  });

  test('a multi-instance task takes distinct nodes, all at once, or waits', () => {
    const whole = planPool(snapshot({ nodes: [node('n1', 1), node('n2', 1), node('n3', 1)], jobs: [job('j')], runnable: [[task('j', 'mpi', { instances: 3 })]] }));
    assert.deepEqual(whole.assignments[0]?.nodeIds?.sort(), ['n1', 'n2', 'n3']);
    const waits = planPool(snapshot({ nodes: [node('n1', 4), node('n2', 4)], jobs: [job('j')], runnable: [[task('j', 'mpi', { instances: 3 })]] }));
    assert.deepEqual(waits.assignments, []);
  });

  test('maxParallelTasks: no more of a job start than its room', () => {
    const plan = planPool(snapshot({ nodes: [node('n1', 8)], jobs: [job('j', { parallelRoom: 2 })], runnable: [[task('j', 't1'), task('j', 't2'), task('j', 't3')]] }));
    assert.equal(plan.assignments.length, 2);
  });

  test('a preparation task starts where it never ran; tasks may wait on a preparing node, a multi-instance task only on a prepared one', () => {
    const jobWithPreparation = job('j', { preparation: { gatesTasks: true, nodes: { n1: 'ready', n2: 'preparing', n4: 'unavailable' } } });
    const plan = planPool(
      snapshot({
        nodes: [node('n1', 1), node('n2', 1), node('n3', 1), node('n4', 1)],
        jobs: [jobWithPreparation],
        runnable: [[task('j', 'mpi', { instances: 2 }), task('j', 't1'), task('j', 't2'), task('j', 't3'), task('j', 't4')]],
      }),
    );
    assert.deepEqual(plan.preparations, [{ jobId: 'j', nodeId: 'n3' }]);
    assert.ok(!plan.assignments.some((a) => a.taskId === 'mpi'), 'only one prepared node: the multi-instance task waits');
    assert.deepEqual(plan.assignments.map((a) => a.nodeId).sort(), ['n1', 'n2', 'n3'], 'never on n4, where the preparation failed');
  });

  test('a job manager that may not use low-priority nodes goes to a dedicated one', () => {
    const plan = planPool(snapshot({ nodes: [node('spot', 4, 0, false), node('dedicated', 1)], jobs: [job('j')], runnable: [[task('j', 'manager', { dedicatedOnly: true })]] }));
    assert.equal(plan.assignments[0]?.nodeId, 'dedicated');
  });

  test('preemption requeues the lowest-priority preemptable tasks, never a job of equal or higher priority, and their slots are used at once', () => {
    const running = (jobId: string, taskId: string, nodeId: string): SnapshotRunningTask => ({ jobId, taskId, attempt: 1, slotsHeld: 1, nodeIds: [nodeId] });
    const plan = planPool(
      snapshot({
        nodes: [node('n1', 0, 1), node('n2', 0, 1), node('n3', 0, 1)],
        jobs: [job('urgent', { priority: 100 }), job('mid', { priority: 50, allowTaskPreemption: true }), job('low', { priority: 0, allowTaskPreemption: true })],
        runnable: [[task('urgent', 'u1'), task('urgent', 'u2')]],
        preemption: { running: [running('mid', 'm', 'n1'), running('low', 'l1', 'n2'), running('low', 'l2', 'n3')], waitingSlots: { urgent: 2 } },
      }),
    );
    assert.deepEqual(plan.preemptions.map((victim) => victim.taskId).sort(), ['l1', 'l2']);
    assert.deepEqual(plan.assignments.map((a) => a.nodeId).sort(), ['n2', 'n3']);

    const equal = planPool(
      snapshot({
        nodes: [node('n1', 0, 1)],
        jobs: [job('a', { priority: 10, allowTaskPreemption: true }), job('b', { priority: 10, allowTaskPreemption: true })],
        runnable: [[task('b', 'waiting')]],
        preemption: { running: [running('a', 'r', 'n1')], waitingSlots: { b: 1 } },
      }),
    );
    assert.deepEqual(equal.preemptions, []);
  });
});

// Random snapshots: a few nodes, jobs of a few priorities, runnable tasks of those jobs.
const snapshots = fc
  .record({
    nodes: fc.array(fc.record({ freeSlots: fc.integer({ min: 0, max: 4 }), runningTasks: fc.integer({ min: 0, max: 3 }), dedicated: fc.boolean() }), { minLength: 1, maxLength: 6 }),
    jobs: fc.array(
      fc.record({ priority: fc.integer({ min: -2, max: 2 }), parallelRoom: fc.integer({ min: 0, max: 5 }), preparation: fc.option(fc.boolean(), { nil: undefined }), preemptable: fc.boolean() }),
      { minLength: 1, maxLength: 4 },
    ),
    tasks: fc.array(fc.record({ job: fc.nat(), requiredSlots: fc.integer({ min: 1, max: 3 }), instances: fc.integer({ min: 1, max: 3 }), dedicatedOnly: fc.boolean() }), { maxLength: 20 }),
    preparationStates: fc.array(fc.constantFrom('ready', 'preparing', 'unavailable', 'unstarted'), { minLength: 6, maxLength: 6 }),
    running: fc.array(fc.record({ job: fc.nat(), node: fc.nat(), slotsHeld: fc.integer({ min: 1, max: 2 }) }), { maxLength: 6 }),
    fill: fc.constantFrom<'spread' | 'pack'>('spread', 'pack'),
  })
  .map(({ nodes, jobs, tasks, preparationStates, running, fill }): PoolSnapshot => {
    const snapshotNodes = nodes.map((entry, index) => node(`n${index}`, entry.freeSlots, entry.runningTasks, entry.dedicated));
    const snapshotJobs = jobs
      .map((entry, index) =>
        job(`j${index}`, {
          priority: entry.priority,
          parallelRoom: entry.parallelRoom,
          allowTaskPreemption: entry.preemptable,
          ...(entry.preparation === undefined
            ? {}
            : { preparation: { gatesTasks: entry.preparation, nodes: Object.fromEntries(snapshotNodes.map((n, i) => [n.nodeId, preparationStates[i] as 'ready'])) } }),
        }),
      )
      .sort((a, b) => b.priority - a.priority);
    const runnable: SnapshotTask[][] = [];
    for (const priority of [...new Set(snapshotJobs.map((j) => j.priority))]) {
      const ids = snapshotJobs.filter((j) => j.priority === priority).map((j) => j.id);
      runnable.push(
        tasks
          .filter((entry) => ids.includes(`j${entry.job % jobs.length}`))
          .map((entry, index) => task(`j${entry.job % jobs.length}`, `t${priority}-${index}`, { requiredSlots: entry.requiredSlots, instances: entry.instances, dedicatedOnly: entry.dedicatedOnly })),
      );
    }
    const waitingSlots = Object.fromEntries(snapshotJobs.map((j) => [j.id, runnable.flat().filter((t) => t.jobId === j.id).reduce((sum, t) => sum + t.requiredSlots, 0)]));
    const runningTasks = running.map((entry, index) => ({ jobId: `j${entry.job % jobs.length}`, taskId: `r${index}`, attempt: 1, slotsHeld: entry.slotsHeld, nodeIds: [`n${entry.node % nodes.length}`] }));
    return snapshot({ nodeFillType: fill, nodes: snapshotNodes, jobs: snapshotJobs, runnable, preemption: { running: runningTasks, waitingSlots } });
  });

describe('planPool properties', () => {
  test('never more slots on a node than it has (with what preemption frees)', () => {
    fc.assert(
      fc.property(snapshots, (input) => {
        const plan = planPool(input);
        const free = new Map(input.nodes.map((n) => [n.nodeId, n.freeSlots]));
        for (const victim of plan.preemptions) for (const nodeId of victim.nodeIds) free.set(nodeId, (free.get(nodeId) ?? 0) + victim.slotsHeld);
        const slotsOf = new Map(input.runnable.flat().map((t) => [t.taskId, t.requiredSlots]));
        for (const assignment of plan.assignments) {
          for (const nodeId of assignment.nodeIds ?? [assignment.nodeId]) free.set(nodeId, (free.get(nodeId) ?? 0) - (slotsOf.get(assignment.taskId) ?? 0));
        }
        for (const [nodeId, left] of free) assert.ok(left >= 0, `${nodeId} over by ${-left}`);
      }),
      { numRuns: 300 },
    );
  });

  test('a multi-instance task is placed whole, on distinct nodes, or not at all; preparation gates where tasks go', () => {
    fc.assert(
      fc.property(snapshots, (input) => {
        const plan = planPool(input);
        const tasks = new Map(input.runnable.flat().map((t) => [t.taskId, t]));
        const jobs = new Map(input.jobs.map((j) => [j.id, j]));
        const planned = new Set(plan.preparations.map((p) => `${p.jobId}/${p.nodeId}`));
        for (const assignment of plan.assignments) {
          const placed = tasks.get(assignment.taskId);
          assert.ok(placed);
          const nodes = assignment.nodeIds ?? [assignment.nodeId];
          assert.equal(nodes.length, placed.instances);
          assert.equal(new Set(nodes).size, nodes.length);
          const preparation = jobs.get(assignment.jobId)?.preparation;
          if (!preparation) continue;
          for (const nodeId of nodes) {
            const state = preparation.nodes[nodeId] ?? 'unstarted';
            const effective = state === 'unstarted' ? (preparation.gatesTasks ? 'preparing' : 'ready') : state;
            if (state === 'unstarted') assert.ok(planned.has(`${assignment.jobId}/${nodeId}`), 'the preparation task is started first');
            assert.ok(effective === 'ready' || (effective === 'preparing' && placed.instances === 1), `${assignment.taskId} on ${nodeId} (${state})`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test('priorities: assignments follow job priority, and preemption only displaces lower-priority jobs that allow it', () => {
    fc.assert(
      fc.property(snapshots, (input) => {
        const plan = planPool(input);
        const priorityOf = new Map(input.jobs.map((j) => [j.id, j.priority]));
        const priorities = plan.assignments.map((a) => priorityOf.get(a.jobId) ?? 0);
        for (let i = 1; i < priorities.length; i++) assert.ok((priorities[i] as number) <= (priorities[i - 1] as number));
        const highestWaiting = Math.max(...input.jobs.filter((j) => (input.preemption?.waitingSlots[j.id] ?? 0) > 0).map((j) => j.priority), Number.NEGATIVE_INFINITY);
        for (const victim of plan.preemptions) {
          const job = input.jobs.find((j) => j.id === victim.jobId);
          assert.ok(job?.allowTaskPreemption, 'only jobs that allow preemption');
          assert.ok(job.priority < highestWaiting, 'only for a job of higher priority');
        }
        const perJob = new Map<string, number>();
        for (const a of plan.assignments) perJob.set(a.jobId, (perJob.get(a.jobId) ?? 0) + 1);
        for (const [jobId, started] of perJob) assert.ok(started <= (input.jobs.find((j) => j.id === jobId)?.parallelRoom ?? 0), 'maxParallelTasks');
      }),
      { numRuns: 300 },
    );
  });
});
