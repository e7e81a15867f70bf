// Autoscale pools through @azure/batch: the formula is checked when set,
// evaluated at once and then every evaluation interval, and its targets
// really add and remove nodes; the resource variables read what the nodes
// measure of their tasks ($CPUPercent of a task that burns CPU). The server
// accepts a one-minute interval (--autoscale-min-interval) and runs on a
// ShiftedClock the test moves.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, poolSpec, uniqueId, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { errorDetail, signedRequest } from '../../src/testkit/signed-request.js';
import { ShiftedClock, startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';
import { DOCUMENTED_CPU_FORMULA } from '../fixtures/documented-cpu-formula.js';

let server: TestServer;
const clock = new ShiftedClock();

before(async () => {
  server = await startTestServer({ clock, config: { autoScaleMinIntervalMs: 60_000 } });
});

after(async () => {
  await server?.stop();
});

function autoscalePool(id: string, formula: string, interval = 'PT1M') {
  const { targetDedicatedNodes: _fixed, ...spec } = poolSpec(id);
  return { ...spec, enableAutoScale: true, autoScaleFormula: formula, autoScaleEvaluationInterval: interval };
}

async function nodeCount(poolId: string): Promise<number> {
  return (await server.batch.computeNode.list(poolId)).length;
}

/** A variable's value in an autoScaleRun's results (`a=1;b=[1,2]`). */
function resultOf(results: string | undefined, name: string): string | undefined {
  return (results ?? '').split(';').find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** The pool's $CPUPercent now (the average over its nodes of their latest measurement) and how many nodes it is of. */
async function currentCpuPercent(poolId: string): Promise<{ cpu: number; nodes: number }> {
  const run = await server.batch.pool.evaluateAutoScale(poolId, 'cpu = $CPUPercent; nodes = $SampleNodeCount;');
  return { cpu: Number(resultOf(run.results, 'cpu')), nodes: Number(resultOf(run.results, 'nodes')) };
}

describe('autoscale pools', () => {
  test('the formula is evaluated as the pool is created and its targets are applied', async () => {
    const poolId = uniqueId('Auto');
    await server.batch.pool.add(autoscalePool(poolId, '$TargetDedicatedNodes = 2; $NodeDeallocationOption = taskcompletion; spare = 1;'));
    const pool = await waitForPoolSteady(server.batch, poolId);
    assert.equal(pool.enableAutoScale, true);
    assert.equal(pool.targetDedicatedNodes, 2);
    assert.equal(pool.currentDedicatedNodes, 2);
    assert.equal(pool.autoScaleEvaluationInterval, 'PT1M');
    assert.match(pool.autoScaleRun?.results ?? '', /\$TargetDedicatedNodes=2;.*\$NodeDeallocationOption=taskcompletion;spare=1/);
    assert.equal(pool.autoScaleRun?.error, undefined);
    assert.ok(pool.autoScaleRun?.timestamp instanceof Date);
    await assert.rejects(server.batch.pool.resize(poolId, { targetDedicatedNodes: 1 }), batchError('OperationInvalidForCurrentState', 409));
  });

  test('every interval the formula runs again on the pool\'s task counts', async () => {
    const poolId = uniqueId('Grow');
    await server.batch.pool.add(autoscalePool(poolId, '$TargetDedicatedNodes = min(2, $PendingTasks);'));
    await waitForPoolSteady(server.batch, poolId);
    assert.equal(await nodeCount(poolId), 0);
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.addCollection(jobId, [
      { id: 'a', commandLine: '/bin/true' },
      { id: 'b', commandLine: '/bin/true' },
      { id: 'c', commandLine: '/bin/true' },
    ]);
    clock.advance(61_000);
    server.lapis.wake();
    const grown = await waitFor(async () => {
      const pool = await server.batch.pool.get(poolId);
      return pool.targetDedicatedNodes === 2 ? pool : undefined;
    }, { what: 'the next evaluation to grow the pool' });
    assert.match(grown.autoScaleRun?.results ?? '', /\$TargetDedicatedNodes=2/);
    for (const id of ['a', 'b', 'c']) await waitForTaskState(server.batch, jobId, id, 'completed');

    clock.advance(61_000);
    server.lapis.wake();
    await waitFor(async () => ((await server.batch.pool.get(poolId)).targetDedicatedNodes === 0 ? true : undefined), { what: 'the pool to shrink' });
    await waitForPoolSteady(server.batch, poolId);
    assert.equal(await nodeCount(poolId), 0);
  });

  test('evaluateAutoScale answers what a formula would do and changes nothing', async () => {
    const poolId = uniqueId('Eval');
    await server.batch.pool.add(autoscalePool(poolId, '$TargetDedicatedNodes = 1;'));
    await waitForPoolSteady(server.batch, poolId);
    const run = await server.batch.pool.evaluateAutoScale(poolId, '$TargetDedicatedNodes = 5; x = 2 * 3;');
    assert.match(run.results ?? '', /\$TargetDedicatedNodes=5;.*x=6/);
    assert.equal((await server.batch.pool.get(poolId)).targetDedicatedNodes, 1);
    const failing = await server.batch.pool.evaluateAutoScale(poolId, '$TargetDedicatedNodes = $RunningTasks.GetSample(TimeInterval_Minute * 10, 100);');
    assert.equal(failing.error?.code, 'InsufficientSampleData');
    await assert.rejects(server.batch.pool.evaluateAutoScale(poolId, '$TargetDedicatedNodes = ;'), batchError('AutoScalingFormulaSyntaxError', 400));

    const fixed = uniqueId('Fixed');
    await addPoolAndWait(server.batch, fixed, { targetDedicatedNodes: 0 });
    await assert.rejects(server.batch.pool.evaluateAutoScale(fixed, '$TargetDedicatedNodes = 1;'), batchError('OperationInvalidForCurrentState', 409));
  });

  test('enable on a fixed pool evaluates at once; disable keeps the targets and allows resizing', async () => {
    const poolId = uniqueId('Toggle');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 0 });
    await server.batch.pool.enableAutoScale(poolId, { autoScaleFormula: '$TargetDedicatedNodes = 1;', autoScaleEvaluationInterval: 'PT5M' });
    let pool = await waitForPoolSteady(server.batch, poolId);
    assert.equal(pool.enableAutoScale, true);
    assert.equal(pool.currentDedicatedNodes, 1);
    await server.batch.pool.disableAutoScale(poolId);
    pool = await server.batch.pool.get(poolId);
    assert.equal(pool.enableAutoScale, false);
    assert.equal(pool.autoScaleFormula, undefined);
    assert.equal(pool.targetDedicatedNodes, 1);
    await server.batch.pool.resize(poolId, { targetDedicatedNodes: 0 });
    pool = await waitForPoolSteady(server.batch, poolId);
    assert.equal(pool.currentDedicatedNodes, 0);
  });

  test('bad autoscale settings are refused with Batch\'s errors and create nothing', async () => {
    const withTargets = { ...autoscalePool(uniqueId('Bad'), '$TargetDedicatedNodes = 1;'), targetDedicatedNodes: 1 };
    await assert.rejects(server.batch.pool.add(withTargets), batchError('InvalidPropertyValue', 400));
    const badFormula = autoscalePool(uniqueId('Bad'), '$TargetDedicatedNodes = max(;');
    const response = await signedRequest(server, 'POST', '/pools', { body: JSON.stringify(badFormula) });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, 'AutoScalingFormulaSyntaxError');
    assert.match(errorDetail(response.body, 'Message') ?? '', /Line 1, Col \d+/);
    await assert.rejects(server.batch.pool.add(autoscalePool(uniqueId('Bad'), '$TargetDedicatedNodes = 1;', 'PT30S')), batchError('InvalidPropertyValue', 400));
    const { autoScaleFormula: _none, ...noFormula } = autoscalePool(uniqueId('Bad'), 'x');
    await assert.rejects(server.batch.pool.add(noFormula), batchError('MissingRequiredProperty', 400));
    const pools = (await server.batch.pool.list()).map((pool) => pool.id ?? '');
    assert.ok(!pools.some((id) => id.startsWith('Bad-')), pools.join(','));
  });

  test('the documentation\'s CPU formula grows a pool whose task burns CPU by 10 %', async () => {
    // 1.1 times the nodes adds one from 10 nodes on (targets are truncated); one busy node of ten is well over 0.7 %.
    const poolId = uniqueId('Cpu');
    await server.batch.pool.add(autoscalePool(poolId, '$TargetDedicatedNodes = 10;', 'PT5M'));
    await waitFor(async () => ((await waitForPoolSteady(server.batch, poolId)).currentDedicatedNodes === 10 ? true : undefined), { what: 'ten nodes' });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    // Its limit outlasts the clock's advance below: the server's own maxWallClockTime backstop reads the shifted clock.
    await server.batch.task.add(jobId, { id: 'burn', commandLine: `/bin/sh -c 'while :; do :; done'`, constraints: { maxWallClockTime: 'PT1H' } });
    await waitForTaskState(server.batch, jobId, 'burn', 'running');
    // Each node measures every 5 seconds, its first figures 5 seconds after it started.
    const busy = await waitFor(async () => {
      const { cpu, nodes } = await currentCpuPercent(poolId);
      return cpu > 1 && nodes === 10 ? cpu : undefined;
    }, { what: 'every node to report, one of them the burning task' });
    assert.ok(busy <= 100, `$CPUPercent ${busy}`);

    // Ten minutes on, the samples of the last ten minutes are all of the busy pool.
    clock.advance(10.5 * 60_000);
    const probe = await server.batch.pool.evaluateAutoScale(
      poolId,
      'cpu = $CPUPercent.GetSample(TimeInterval_Minute * 10); n = len(cpu); lowest = min(cpu); nodes = $SampleNodeCount.GetSample(1);',
    );
    assert.equal(probe.error, undefined, JSON.stringify(probe.error));
    assert.ok(Number(resultOf(probe.results, 'n')) >= 1, probe.results);
    assert.ok(Number(resultOf(probe.results, 'lowest')) > 0.7, probe.results);
    assert.equal(resultOf(probe.results, 'nodes'), '[10]', probe.results);
    const evaluated = await server.batch.pool.evaluateAutoScale(poolId, DOCUMENTED_CPU_FORMULA);
    assert.equal(evaluated.error, undefined, JSON.stringify(evaluated.error));
    assert.equal(resultOf(evaluated.results, '$TargetDedicatedNodes'), '11', evaluated.results);

    await server.batch.pool.enableAutoScale(poolId, { autoScaleFormula: DOCUMENTED_CPU_FORMULA, autoScaleEvaluationInterval: 'PT5M' });
    const grown = await waitFor(async () => {
      const pool = await waitForPoolSteady(server.batch, poolId);
      return pool.currentDedicatedNodes === 11 ? pool : undefined;
    }, { what: 'the pool to grow to 11 nodes', timeoutMs: 60_000 });
    assert.equal(resultOf(grown.autoScaleRun?.results, '$TargetDedicatedNodes'), '11', grown.autoScaleRun?.results);

    // The shrinking half (avg over the last hour < 0.2) needs the clock an hour on, beyond what request signatures allow: test/unit/autoscale.test.ts.
    await server.batch.task.terminate(jobId, 'burn');
  });
});
