import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeLiveness } from '../../src/scheduler/node-liveness.js';

const a = { nodeId: 'a' };
const b = { nodeId: 'b' };

test('a node heard within the timeout is live; one silent past it is reported once', () => {
  const liveness = new NodeLiveness(1000);
  liveness.heard('a', 0);
  liveness.heard('b', 0);
  assert.deepEqual(liveness.silent([a, b], 500), []);
  liveness.heard('a', 900);
  assert.deepEqual(liveness.silent([a, b], 1001), [b]);
  assert.deepEqual(liveness.silent([a, b], 1500), [], 'b was reported and starts a fresh grace');
  assert.deepEqual(liveness.silent([a, b], 2000), [a]);
});

test('a node never heard from gets a full timeout from when it is first watched', () => {
  const liveness = new NodeLiveness(1000);
  assert.deepEqual(liveness.silent([a], 5000), []);
  assert.deepEqual(liveness.silent([a], 5500), []);
  assert.deepEqual(liveness.silent([a], 6001), [a]);
});

test('a node no longer watched is forgotten, so watching it again starts a new grace', () => {
  const liveness = new NodeLiveness(1000);
  liveness.heard('a', 0);
  assert.deepEqual(liveness.silent([], 500), []);
  assert.deepEqual(liveness.silent([a], 1000), []);
  assert.deepEqual(liveness.silent([a], 1500), []);
  assert.deepEqual(liveness.silent([a], 2001), [a]);
});

test('a check that comes late (this process stalled) accuses no node and gives each a new grace', () => {
  const liveness = new NodeLiveness(1000);
  liveness.heard('a', 0);
  assert.deepEqual(liveness.silent([a], 500), []);
  assert.deepEqual(liveness.silent([a], 5000), [], 'heartbeats waited on the same stalled process');
  assert.deepEqual(liveness.silent([a], 5500), []);
  assert.deepEqual(liveness.silent([a], 6001), [a]);
});
