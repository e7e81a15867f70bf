// NodeFaults (src/server/node-faults.ts), the fault injector of the provider
// seam, around a recording fake provider: each fault touches only its node and
// its side (calls in, reports out), and healing ends it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeEvents, NodePlacement, NodeProvider, TaskRun, TaskRunRef } from '../../src/core/ports.js';
import { NodeFaults } from '../../src/server/node-faults.js';

class FakeProvider implements NodeProvider {
  readonly name = 'fake';
  readonly calls: string[] = [];
  constructor(readonly events: NodeEvents) {}
  async provisionNode(placement: NodePlacement) {
    this.calls.push(`provision ${placement.nodeId}`);
  }
  async releaseNode(placement: NodePlacement) {
    this.calls.push(`release ${placement.nodeId}`);
  }
  async restartNode(placement: NodePlacement, options: { wipe: boolean }) {
    this.calls.push(`restart ${placement.nodeId} ${options.wipe}`);
  }
  runTask(run: TaskRun) {
    this.calls.push(`run ${run.nodeId} ${run.taskId}`);
  }
  async stopTask(run: TaskRunRef) {
    this.calls.push(`stop ${run.nodeId} ${run.taskId}`);
  }
  nodeFiles() {
    return undefined;
  }
  outcomesRecordedBeforeRestart() {
    return [];
  }
  async close() {
    this.calls.push('close');
  }
}

function setUp() {
  const faults = new NodeFaults();
  const heard: string[] = [];
  const server: NodeEvents = {
    taskFinished: (report) => {
      heard.push(`finished ${report.run.nodeId} ${report.run.taskId}`);
    },
    nodeHeartbeat: (nodeId) => heard.push(`heartbeat ${nodeId}`),
  };
  let fake!: FakeProvider;
  const provider = faults.wrap((events) => (fake = new FakeProvider(events)), server);
  return { faults, heard, provider, fake, server };
}

const placement = (nodeId: string): NodePlacement => ({ account: 'a', poolId: 'p', nodeId });
const run = (nodeId: string, taskId: string): TaskRun => ({
  kind: 'task',
  ...placement(nodeId),
  jobId: 'j',
  taskId,
  attempt: 1,
  commandLine: 'true',
  taskDirectory: `workitems/j/job-1/${taskId}`,
  resourceFiles: [],
  environment: {},
  accountUrl: 'http://x',
  elevationLevel: 'nonadmin',
  isRetry: false,
  outputFiles: [],
});

test('without faults every call and report passes through, and optional methods are kept', async () => {
  const { provider, fake, heard } = setUp();
  await provider.provisionNode(placement('n1'));
  provider.runTask(run('n1', 't1'));
  fake.events.nodeHeartbeat('n1');
  fake.events.taskFinished({ run: run('n1', 't1'), outcome: { exitCode: 0, endTime: 'x' } });
  await provider.stopTask(run('n1', 't1'));
  await provider.restartNode(placement('n1'), { wipe: true });
  await provider.releaseNode(placement('n1'));
  await provider.close();
  assert.deepEqual(fake.calls, ['provision n1', 'run n1 t1', 'stop n1 t1', 'restart n1 true', 'release n1', 'close']);
  assert.deepEqual(heard, ['heartbeat n1', 'finished n1 t1']);
  assert.equal(provider.name, 'fake');
  assert.deepEqual(provider.outcomesRecordedBeforeRestart?.(), []);
});

test('dropped heartbeats, reports and runs of one node; the other node and the server events are untouched; heal ends them', async () => {
  const { faults, provider, fake, heard, server } = setUp();
  faults.dropHeartbeats('n1');
  faults.dropReports('n1');
  faults.dropRuns('n1');
  provider.runTask(run('n1', 't1'));
  provider.runTask(run('n2', 't2'));
  fake.events.nodeHeartbeat('n1');
  fake.events.nodeHeartbeat('n2');
  fake.events.taskFinished({ run: run('n1', 't0'), outcome: { exitCode: 0, endTime: 'x' } });
  server.taskFinished({ run: run('n1', 'late'), outcome: { exitCode: 3, endTime: 'x' } });
  assert.equal(faults.serverEvents, server);
  assert.deepEqual(fake.calls, ['run n2 t2']);
  assert.deepEqual(heard, ['heartbeat n2', 'finished n1 late']);
  assert.equal(faults.lastRun('n1')?.taskId, 't1', 'a dropped run is still recorded');
  faults.heal('n1');
  provider.runTask(run('n1', 't3'));
  fake.events.nodeHeartbeat('n1');
  assert.deepEqual(fake.calls, ['run n2 t2', 'run n1 t3']);
  assert.deepEqual(faults.runsGiven('n1').map((given) => given.taskId), ['t1', 't3']);
  assert.equal(heard.at(-1), 'heartbeat n1');
});

test('failNext fails one call of one operation on one node, before it reaches the provider', async () => {
  const { faults, provider, fake } = setUp();
  faults.failNext('provisionNode', 'n1', new Error('no capacity'));
  await assert.rejects(provider.provisionNode(placement('n1')), /no capacity/);
  await provider.provisionNode(placement('n2'));
  await provider.provisionNode(placement('n1'));
  assert.deepEqual(fake.calls, ['provision n2', 'provision n1']);
});

test('hold keeps a call waiting until released; reached tells when the server made it', async () => {
  const { faults, provider, fake } = setUp();
  const held = faults.hold('releaseNode', 'n1');
  let done = false;
  const releasing = provider.releaseNode(placement('n1')).then(() => (done = true));
  await held.reached;
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false);
  assert.deepEqual(fake.calls, []);
  held.release();
  await releasing;
  assert.deepEqual(fake.calls, ['release n1']);
  await provider.releaseNode(placement('n1'));
  assert.equal(fake.calls.length, 2, 'a hold is for one call');
});

test("killAgent stops the node's unreported runs through the real provider and silences the node", async () => {
  const { faults, provider, fake, heard } = setUp();
  provider.runTask(run('n1', 'done'));
  provider.runTask(run('n1', 'running'));
  fake.events.taskFinished({ run: run('n1', 'done'), outcome: { exitCode: 0, endTime: 'x' } });
  await faults.killAgent('n1');
  assert.deepEqual(fake.calls.slice(2), ['stop n1 running'], 'only the run still running is ended');
  fake.events.nodeHeartbeat('n1');
  fake.events.taskFinished({ run: run('n1', 'running'), outcome: { exitCode: 0, endTime: 'x' } });
  provider.runTask(run('n1', 'after'));
  assert.deepEqual(heard, ['finished n1 done']);
  assert.equal(fake.calls.length, 3);
});

test('one NodeFaults serves one server', () => {
  const { faults } = setUp();
  assert.throws(() => faults.wrap((events) => new FakeProvider(events), { taskFinished() {}, nodeHeartbeat() {} }), /one server/);
});

test('a run rule ends the runs it takes with its outcome, reported on a later turn through the same reports; removed, it takes none', async () => {
  const { faults, provider, fake, heard } = setUp();
  const remove = faults.addRunRule((given) => (given.taskId === 'doomed' ? { failureInfo: { category: 'usererror', code: 'Injected', message: 'm' } } : undefined));
  provider.runTask(run('n1', 'doomed'));
  provider.runTask(run('n1', 'fine'));
  assert.deepEqual(fake.calls, ['run n1 fine'], 'the taken run never reached the provider');
  assert.deepEqual(heard, [], 'not reported in the same turn as runTask');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(heard, ['finished n1 doomed']);
  assert.deepEqual(faults.runsGiven('n1').map((given) => given.taskId), ['doomed', 'fine']);

  faults.dropReports('n1');
  provider.runTask(run('n1', 'doomed'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(heard, ['finished n1 doomed'], 'a dropped report stays dropped');
  faults.heal('n1');
  remove();
  provider.runTask(run('n1', 'doomed'));
  assert.deepEqual(fake.calls, ['run n1 fine', 'run n1 doomed']);
});

test('a run change reaches the provider in place of the run it matches; removed, runs pass unchanged', () => {
  const { faults, provider, fake } = setUp();
  const reached: TaskRun[] = [];
  fake.runTask = (given) => void reached.push(given);
  const remove = faults.addRunChange((given) => (given.taskId === 'marked' ? { ...given, injectedFailure: { outputFiles: 'FileUploadMiscError' } } : undefined));
  provider.runTask(run('n1', 'marked'));
  provider.runTask(run('n1', 'plain'));
  assert.deepEqual(
    reached.map((given) => [given.taskId, given.injectedFailure?.outputFiles]),
    [
      ['marked', 'FileUploadMiscError'],
      ['plain', undefined],
    ],
  );
  remove();
  provider.runTask(run('n1', 'marked'));
  assert.equal(reached.at(-1)?.injectedFailure, undefined);
});

test('a run hold keeps the runs it matches from the provider until it ends; a node restarted or released meanwhile loses its held runs', async () => {
  const { faults, provider, fake } = setUp();
  const end = faults.addRunHold((given) => given.taskId === 'hung');
  provider.runTask(run('n1', 'hung'));
  provider.runTask(run('n2', 'hung'));
  provider.runTask(run('n3', 'hung'));
  provider.runTask(run('n1', 'free'));
  assert.deepEqual(fake.calls, ['run n1 free']);
  await provider.restartNode(placement('n2'), { wipe: false });
  await provider.releaseNode(placement('n3'));
  end();
  assert.deepEqual(fake.calls, ['run n1 free', 'restart n2 false', 'release n3', 'run n1 hung'], "only the held run whose node kept going reaches it");
  provider.runTask(run('n2', 'hung'));
  assert.equal(fake.calls.at(-1), 'run n2 hung', 'an ended hold keeps nothing');

  const again = faults.addRunHold(() => true);
  provider.runTask(run('n1', 'stopping'));
  faults.dropAllHeldRuns();
  again();
  assert.equal(fake.calls.at(-1), 'run n2 hung', 'dropped runs are not set going when the hold ends');
});

test('a provisioning delay holds the nodes it matches until it elapses or is removed; others pass at once', async () => {
  const { faults, provider, fake } = setUp();
  const remove = faults.addProvisionDelay((target) => (target.nodeId === 'slow' ? 60_000 : undefined));
  await provider.provisionNode(placement('quick'));
  const slow = provider.provisionNode(placement('slow'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(fake.calls, ['provision quick']);
  remove();
  await slow;
  assert.deepEqual(fake.calls, ['provision quick', 'provision slow']);
});
