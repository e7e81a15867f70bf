// Issue 6, fault 2: a compute node's process tree or agent dies mid-task.
// The task must not hang forever.
//
// - A task's processes killed from outside (kill -9 of the process group, or
//   of its leader only, as an OOM killer or an operator would): Batch reports
//   the exit code (128 + 9) and a FailureExitCode failure, and retries the
//   task if it has retries left; no process of the task survives.
// - A node's agent dies (its `lapis agent` process is killed with SIGKILL,
//   so it stops heartbeating): Batch marks the node unknown, requeues its
//   running tasks onto other nodes without consuming a retry, and recovers
//   the node, whose restart ends what the dead agent's run left running.
//   The provider seam (NodeFaults around the real provider) only holds the
//   restart so the test sees the node `unknown`, and offers a stale report;
//   the server's own death (every agent at once) is reliability-crash.test.ts.
// - An agent that stays alive but never reports a run: the server ends the
//   task past its maxWallClockTime (plus the heartbeat timeout) with
//   TaskEnded.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TaskRun } from '../../src/core/ports.js';
import { addPoolAndWait, readStream, waitForTaskState } from '../../src/testkit/builders.js';
import { NodeFaults, type HeldCall } from '../../src/server/node-faults.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';
import { agentPidOf, isAlive, makeLedgerDirectory, reportFigures } from '../fixtures/reliability.js';

let server: TestServer;
let ledger: string;

// Fault injection through the provider seam: the real provider, decorated.
const faults = new NodeFaults();
// Short, so that detection takes seconds; the default is PT5S.
const HEARTBEAT_TIMEOUT_MS = 2_000;

before(async () => {
  server = await startTestServer({ config: { nodeHeartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS }, wrapProvider: faults.wrap });
  ledger = makeLedgerDirectory('lapis-rel-node-');
});

after(async () => {
  await server.stop();
  fs.rmSync(ledger, { recursive: true, force: true });
});

function readPid(file: string): number | undefined {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
  return text ? Number(text) : undefined;
}

test('a task whose whole process tree is killed from outside fails with exit code 137, is retried once, and leaves no process behind', async (t) => {
  const { batch } = server;
  await addPoolAndWait(batch, 'KillTreePool', { targetDedicatedNodes: 2 });
  await batch.job.add({ id: 'KillTreeJob', poolInfo: { poolId: 'KillTreePool' } });
  const dir = path.join(ledger, 'tree');
  fs.mkdirSync(dir, { mode: 0o777 });
  fs.chmodSync(dir, 0o777);
  // First run: a leader and a background child, both recorded; a retry prints and ends.
  const script = `if [ -e ${dir}/leader ]; then echo retry ran; else sleep 300 & echo $! > ${dir}/child; echo $$ > ${dir}/leader; wait; fi`;
  await batch.task.add('KillTreeJob', { id: 'Victim', commandLine: `/bin/sh -c '${script}'`, constraints: { maxTaskRetryCount: 1 } });
  await waitForTaskState(batch, 'KillTreeJob', 'Victim', 'running');
  const leader = await waitFor(() => readPid(path.join(dir, 'leader')), { what: 'the task to record its pid' });
  const child = await waitFor(() => readPid(path.join(dir, 'child')));
  assert.ok(isAlive(leader) && isAlive(child));

  const killedAt = performance.now();
  process.kill(-leader, 'SIGKILL');
  const task = await waitForTaskState(batch, 'KillTreeJob', 'Victim', 'completed', 20_000);
  const ms = performance.now() - killedAt;
  assert.equal(task.executionInfo?.result, 'success', 'the retry ran to success');
  assert.equal(task.executionInfo?.retryCount, 1, 'the killed run counted as a failure and consumed the one retry');
  assert.equal(task.executionInfo?.requeueCount, 0);
  const output = await readStream((await batch.file.getFromTask('KillTreeJob', 'Victim', 'stdout.txt')).readableStreamBody);
  assert.match(output, /retry ran/);
  await waitFor(() => (isAlive(child) ? undefined : true), { what: 'the background child to be gone' });
  reportFigures(t, 'node-process-tree-killed', { killToRetriedAndCompletedMs: Math.round(ms), retryCount: 1, orphans: 0 });
});

test('a task whose leader process alone is killed completes as failed (137, FailureExitCode) and its surviving child is ended', async (t) => {
  const { batch } = server;
  await addPoolAndWait(batch, 'KillLeaderPool', { targetDedicatedNodes: 1 });
  await batch.job.add({ id: 'KillLeaderJob', poolInfo: { poolId: 'KillLeaderPool' } });
  const dir = path.join(ledger, 'leader');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o777);
  const script = `sleep 300 & echo $! > ${dir}/child; echo $$ > ${dir}/leader; wait`;
  await batch.task.add('KillLeaderJob', { id: 'Victim', commandLine: `/bin/sh -c '${script}'` });
  await waitForTaskState(batch, 'KillLeaderJob', 'Victim', 'running');
  const leader = await waitFor(() => readPid(path.join(dir, 'leader')), { what: 'the task to record its pid' });
  const child = await waitFor(() => readPid(path.join(dir, 'child')));

  const killedAt = performance.now();
  process.kill(leader, 'SIGKILL');
  const task = await waitForTaskState(batch, 'KillLeaderJob', 'Victim', 'completed', 20_000);
  const ms = performance.now() - killedAt;
  assert.equal(task.executionInfo?.result, 'failure');
  assert.equal(task.executionInfo?.exitCode, 137);
  assert.equal(task.executionInfo?.failureInfo?.category, 'usererror');
  assert.equal(task.executionInfo?.failureInfo?.code, 'FailureExitCode');
  assert.equal(task.executionInfo?.retryCount, 0);
  await waitFor(() => (isAlive(child) ? undefined : true), { what: 'the orphaned child to be ended with its group' });
  // The node is usable afterwards.
  await batch.task.add('KillLeaderJob', { id: 'After', commandLine: '/bin/echo after' });
  assert.equal((await waitForTaskState(batch, 'KillLeaderJob', 'After', 'completed')).executionInfo?.exitCode, 0);
  reportFigures(t, 'node-leader-killed', { killToCompletedMs: Math.round(ms), exitCode: 137, orphans: 0 });
});

test('a node whose agent dies mid-task is marked unknown, its task requeued onto another node without consuming a retry, and the node restarted', { timeout: 60_000 }, async (t) => {
  const { batch } = server;
  await addPoolAndWait(batch, 'AgentDeathPool', { targetDedicatedNodes: 2 });
  await batch.job.add({ id: 'AgentDeathJob', poolInfo: { poolId: 'AgentDeathPool' } });
  const dir = path.join(ledger, 'agent');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o777);
  // The first run blocks; the rerun (on the other node) waits for `release`, then finishes.
  const script = `if [ -e ${dir}/started ]; then while [ ! -e ${dir}/release ]; do sleep 0.1; done; echo rerun; else echo $$ > ${dir}/started; exec sleep 300; fi`;
  await batch.task.add('AgentDeathJob', { id: 'Stranded', commandLine: `/bin/sh -c '${script}'`, constraints: { maxWallClockTime: 'PT1M' } });
  const running = await waitForTaskState(batch, 'AgentDeathJob', 'Stranded', 'running');
  const deadNode = running.nodeInfo?.nodeId as string;
  const pid = await waitFor(() => readPid(path.join(dir, 'started')));
  const staleRun = faults.lastRun(deadNode) as TaskRun;
  assert.equal(staleRun.taskId, 'Stranded');
  const bootedAt = (await batch.computeNode.get('AgentDeathPool', deadNode)).lastBootTime?.getTime() as number;

  // The dead node's restart waits until the test lets it go, so the test sees the node `unknown`.
  const restart: HeldCall = faults.hold('restartNode', deadNode);
  // The agent process dies; the run it started lives on until the node restarts.
  const agentPid = agentPidOf(deadNode);
  assert.ok(agentPid, 'the node has an agent process of its own');
  const diedAt = performance.now();
  process.kill(agentPid, 'SIGKILL');
  await waitFor(() => (isAlive(agentPid) ? undefined : true));

  try {
    const detectMs = 15_000;
    const nodeState = await waitFor(
      async () => {
        const state = (await batch.computeNode.get('AgentDeathPool', deadNode)).state;
        return state === 'idle' || state === 'running' ? undefined : state;
      },
      { timeoutMs: detectMs, intervalMs: 50, what: 'the node whose agent died to leave idle/running' },
    );
    assert.equal(nodeState, 'unknown', "Batch's state for a node it lost contact with");
    const detectedMs = performance.now() - diedAt;
    const rerun = await waitFor(
      async () => {
        const current = await batch.task.get('AgentDeathJob', 'Stranded');
        return current.state === 'running' && current.nodeInfo?.nodeId !== deadNode ? current : undefined;
      },
      { timeoutMs: detectMs, intervalMs: 50, what: 'the stranded task to be requeued onto the live node' },
    );
    const requeuedMs = performance.now() - diedAt;
    assert.equal(rerun.executionInfo?.requeueCount, 1);

    // The dead agent's late report of its run is fenced off by the attempt number.
    faults.serverEvents.taskFinished({ run: staleRun, outcome: { exitCode: 3, endTime: new Date().toISOString() } });
    const afterStale = await batch.task.get('AgentDeathJob', 'Stranded');
    assert.equal(afterStale.state, 'running', 'a stale report does not complete the rerun');
    assert.equal(afterStale.nodeInfo?.nodeId, rerun.nodeInfo?.nodeId);

    fs.writeFileSync(path.join(dir, 'release'), '');
    const task = await waitForTaskState(batch, 'AgentDeathJob', 'Stranded', 'completed', 20_000);
    assert.equal(task.executionInfo?.result, 'success');
    assert.equal(task.executionInfo?.exitCode, 0);
    assert.equal(task.executionInfo?.requeueCount, 1, 'requeued, as Batch does when it loses a node');
    assert.equal(task.executionInfo?.retryCount, 0, 'a requeue does not consume a retry');
    assert.notEqual(task.nodeInfo?.nodeId, deadNode, 'the rerun went to a live node');
    assert.match(await readStream((await batch.file.getFromTask('AgentDeathJob', 'Stranded', 'stdout.txt')).readableStreamBody), /rerun/);

    // The node is restarted (its agent comes back) and the pool is back at its target.
    faults.heal(deadNode);
    restart.release();
    const recovered = await waitFor(
      async () => {
        const node = await batch.computeNode.get('AgentDeathPool', deadNode);
        return node.state === 'idle' ? node : undefined;
      },
      { timeoutMs: detectMs, what: 'the lost node to be restarted' },
    );
    const recoveredMs = performance.now() - diedAt;
    assert.ok((recovered.lastBootTime?.getTime() ?? 0) > bootedAt, 'the node booted again');
    assert.notEqual(agentPidOf(deadNode), agentPid, 'a new agent serves the node');
    await waitFor(() => (isAlive(pid) ? undefined : true), { what: "the dead agent's run to be ended by the node's restart" });
    assert.equal((await batch.pool.get('AgentDeathPool')).currentDedicatedNodes, 2);
    reportFigures(t, 'node-agent-died', {
      heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
      nodeState,
      detectMs: Math.round(detectedMs),
      requeuedMs: Math.round(requeuedMs),
      recoveredMs: Math.round(recoveredMs),
    });
  } finally {
    faults.heal(deadNode);
    restart.release();
    await batch.task.terminate('AgentDeathJob', 'Stranded').catch(() => undefined);
  }
});

test('a task whose live agent never reports it is failed with TaskEnded (its maxWallClockTime) by the server, and its node stays in service', { timeout: 60_000 }, async (t) => {
  const { batch } = server;
  await addPoolAndWait(batch, 'DeafAgentPool', { targetDedicatedNodes: 1 });
  const [node] = await batch.computeNode.list('DeafAgentPool');
  const nodeId = node?.id as string;
  await batch.job.add({ id: 'DeafAgentJob', poolInfo: { poolId: 'DeafAgentPool' } });
  // The agent keeps heartbeating but drops its runs: only the server can end the task.
  faults.dropRuns(nodeId);
  try {
    await batch.task.add('DeafAgentJob', { id: 'Unreported', commandLine: '/bin/echo never runs', constraints: { maxWallClockTime: 'PT2S' } });
    await waitForTaskState(batch, 'DeafAgentJob', 'Unreported', 'running');
    const task = await waitForTaskState(batch, 'DeafAgentJob', 'Unreported', 'completed', 20_000);
    assert.equal(task.executionInfo?.result, 'failure');
    assert.equal(task.executionInfo?.failureInfo?.code, 'TaskEnded');
    assert.equal(task.executionInfo?.requeueCount, 0);
    const overrunMs = Date.parse(String(task.executionInfo?.endTime)) - Date.parse(String(task.executionInfo?.startTime));
    assert.ok(overrunMs >= 2_000, 'not before its maxWallClockTime');
    assert.equal((await batch.computeNode.get('DeafAgentPool', nodeId)).state, 'idle', 'a heartbeating node is not taken for lost');
    reportFigures(t, 'node-agent-silent-on-a-task', { maxWallClockTimeMs: 2_000, graceMs: HEARTBEAT_TIMEOUT_MS, startToFailedMs: overrunMs });
  } finally {
    faults.heal(nodeId);
  }
  await batch.task.add('DeafAgentJob', { id: 'After', commandLine: '/bin/echo after' });
  assert.equal((await waitForTaskState(batch, 'DeafAgentJob', 'After', 'completed')).executionInfo?.exitCode, 0);
});
