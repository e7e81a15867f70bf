// The retry of run outcomes the store could not take (server/outcome-delivery.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskRunReport } from '../../src/core/ports.js';
import { OutcomeDelivery, outcomeRetryDelayMs } from '../../src/server/outcome-delivery.js';

const report = { run: { taskId: 'T1' } } as TaskRunReport;
const silent = { error: () => undefined };

test('an outcome the store refuses is offered again until it is taken, with a capped backoff', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let refusals = 3;
  const recorded: TaskRunReport[] = [];
  const delivery = new OutcomeDelivery((value) => {
    if (refusals > 0) {
      refusals -= 1;
      throw new Error('database or disk is full');
    }
    recorded.push(value);
  }, silent);
  delivery.deliver(report);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    assert.equal(recorded.length, 0);
    t.mock.timers.tick(outcomeRetryDelayMs(attempt));
  }
  assert.deepEqual(recorded, [report]);
  assert.equal(outcomeRetryDelayMs(0), 250);
  assert.equal(outcomeRetryDelayMs(50), 4_000);
});

test('stopping cancels pending retries: nothing is offered after stop', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let offers = 0;
  const delivery = new OutcomeDelivery(() => {
    offers += 1;
    throw new Error('database or disk is full');
  }, silent);
  delivery.deliver(report);
  delivery.stop();
  t.mock.timers.tick(60_000);
  delivery.deliver(report);
  assert.equal(offers, 1);
});
