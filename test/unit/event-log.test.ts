// The event log behind GET /lapis/events (src/server/event-log.ts): ids
// increase across accounts, each account keeps its latest events in a
// bounded ring, a subscriber hears only its account, a failing listener
// never reaches the code that made the change, and each event is one log line.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { LapisEvent, StateChange } from '../../src/core/events.js';
import { describe as describeEvent, EventLog } from '../../src/server/event-log.js';
import { createLogger } from '../../src/server/logger.js';

function taskChange(account: string, taskId: string): StateChange {
  return { account, resource: 'task', change: 'state', time: '2026-01-01T00:00:00.000Z', jobId: 'job', taskId, state: 'completed', previousState: 'running', detail: { result: 'failure', exitCode: 2 } };
}

function collectingLogger(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', sink) };
}

test('each account keeps its latest events in a ring; ids increase across accounts', () => {
  const log = new EventLog(createLogger('silent'), 3);
  for (let n = 1; n <= 5; n++) log.record(taskChange('Alpha', `t${n}`));
  log.record(taskChange('beta', 'b1'));
  assert.deepEqual(log.recent('alpha', 0).map((e) => e.id), [3, 4, 5], 'the oldest fell out; accounts match without regard to case');
  assert.deepEqual(log.recent('ALPHA', 4).map((e) => e.taskId), ['t5']);
  assert.equal(log.oldestId('alpha'), 3);
  assert.deepEqual(log.recent('beta', 0).map((e) => e.id), [6]);
  assert.equal(log.latestId(), 6);
  assert.deepEqual(log.recent('gamma', 0), []);
});

test("a subscriber hears its own account only, and a listener's failure reaches no one", () => {
  const { logger, lines } = collectingLogger();
  const log = new EventLog(logger);
  const heard: LapisEvent[] = [];
  log.subscribe('alpha', () => {
    throw new Error('a broken client');
  });
  const subscription = log.subscribe('alpha', (event) => heard.push(event));
  log.record(taskChange('alpha', 'mine'));
  log.record(taskChange('beta', 'theirs'));
  subscription.close();
  log.record(taskChange('alpha', 'after'));
  assert.deepEqual(heard.map((e) => e.taskId), ['mine']);
  assert.ok(lines.some((line) => line.msg === 'an event listener failed'));
  const told = lines.filter((line) => line.event !== undefined);
  assert.equal(told.length, 3, 'each failed task is a log line at info');
  assert.equal(told[0]?.msg, 'task job/mine running → completed (exit 2, failure)');
  assert.equal(describeEvent({ ...taskChange('a', 't'), id: 1, change: 'requeued', state: 'active', detail: { requeueCount: 2 } }), 'task job/t requeued (requeue 2)');
});
