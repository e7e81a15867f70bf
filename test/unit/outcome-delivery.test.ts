// Run outcomes recorded in batches, and the retry of those the store could not take (server/outcome-delivery.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskRunReport } from '../../src/core/ports.js';
import { OutcomeDelivery, outcomeRetryDelayMs } from '../../src/server/outcome-delivery.js';

const reportOf = (taskId: string) => ({ run: { taskId } }) as TaskRunReport;
const silent = { error: () => undefined };

test('the reports of one tick are recorded together, and each is taken once recorded', async () => {
  const batches: string[][] = [];
  const delivery = new OutcomeDelivery((reports) => batches.push(reports.map((report) => report.run.taskId)), silent);
  const taken = ['T1', 'T2', 'T3'].map((taskId) => delivery.deliver(reportOf(taskId)));
  assert.deepEqual(batches, [], 'nothing is recorded before the tick has read its input');
  await Promise.all(taken);
  assert.deepEqual(batches, [['T1', 'T2', 'T3']]);
  await delivery.deliver(reportOf('T4'));
  assert.deepEqual(batches, [['T1', 'T2', 'T3'], ['T4']]);
});

test('an outcome the store refuses is offered again alone until it is taken, with a capped backoff; the rest of its batch is recorded at once', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let refusals = 3;
  const recorded: string[] = [];
  const delivery = new OutcomeDelivery((reports) => {
    if (refusals > 0 && reports.some((report) => report.run.taskId === 'full')) {
      refusals -= 1;
      throw new Error('database or disk is full');
    }
    recorded.push(...reports.map((report) => report.run.taskId));
  }, silent);
  // Both are taken (the agent may forget them) once the server holds them, the refused one in memory.
  await Promise.all([delivery.deliver(reportOf('full')), delivery.deliver(reportOf('fine'))]);
  assert.deepEqual(recorded, ['fine']);
  t.mock.timers.tick(outcomeRetryDelayMs(0));
  assert.deepEqual(recorded, ['fine'], 'refused again');
  t.mock.timers.tick(outcomeRetryDelayMs(1));
  assert.deepEqual(recorded, ['fine', 'full']);
  assert.equal(outcomeRetryDelayMs(0), 250);
  assert.equal(outcomeRetryDelayMs(50), 4_000);
});

test('stopping cancels pending retries: nothing is offered after stop, and what comes then is never taken', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let offers = 0;
  const delivery = new OutcomeDelivery(() => {
    offers += 1;
    throw new Error('database or disk is full');
  }, silent);
  await delivery.deliver(reportOf('T1'));
  assert.equal(offers, 2, 'the batch, then the report alone');
  delivery.stop();
  t.mock.timers.tick(60_000);
  let taken = false;
  void delivery.deliver(reportOf('T2')).then(() => (taken = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(offers, 2);
  assert.equal(taken, false);
});
