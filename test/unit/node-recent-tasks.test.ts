// A node's recentTasks list: newest first, one entry per task (or subtask),
// every running task kept and only the most recent ended ones beyond them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newNode, type TaskInformation } from '../../src/core/node.js';
import { forgetRecentTask, noteRecentTask, RECENT_ENDED_TASKS } from '../../src/core/node-recent-tasks.js';

const now = new Date('2026-12-05T02:00:00Z');
const node = newNode('tvm-1', { vmSize: 'standard_d1', isDedicated: true }, now);

function entry(taskId: string, taskState: string, subtaskId?: number): TaskInformation {
  return { jobId: 'job', taskId, taskState, ...(subtaskId === undefined ? {} : { subtaskId }), executionInfo: { retryCount: 0, requeueCount: 0 } };
}

test('a node no task ran on lists none', () => {
  assert.equal(node.recentTasks, undefined);
});

test("a task's later state replaces its entry and comes first", () => {
  let listed = noteRecentTask(node, entry('a', 'running'));
  listed = noteRecentTask(listed, entry('b', 'running'));
  listed = noteRecentTask(listed, entry('A', 'completed'));
  assert.deepEqual(
    listed.recentTasks?.map((item) => [item.taskId, item.taskState]),
    [
      ['A', 'completed'],
      ['b', 'running'],
    ],
  );
});

test('subtasks of a multi-instance task are entries of their own', () => {
  const listed = noteRecentTask(noteRecentTask(node, entry('mpi', 'running', 0)), entry('mpi', 'running', 1));
  assert.deepEqual(listed.recentTasks?.map((item) => item.subtaskId), [1, 0]);
});

test('ended entries beyond the bound go, oldest first; running ones stay', () => {
  let listed = noteRecentTask(node, entry('long', 'running'));
  for (let index = 0; index < RECENT_ENDED_TASKS + 5; index += 1) listed = noteRecentTask(listed, entry(`t${index}`, 'completed'));
  const ids = listed.recentTasks?.map((item) => item.taskId) ?? [];
  assert.equal(ids.length, RECENT_ENDED_TASKS + 1);
  assert.ok(ids.includes('long'), 'the running task is still listed');
  assert.equal(ids[0], `t${RECENT_ENDED_TASKS + 4}`);
  assert.ok(!ids.includes('t4'), 'the oldest ended entries were dropped');
});

test("a deleted task's entries leave the list", () => {
  const listed = noteRecentTask(noteRecentTask(node, entry('gone', 'running')), entry('kept', 'completed'));
  assert.deepEqual(forgetRecentTask(listed, 'job', 'GONE').recentTasks?.map((item) => item.taskId), ['kept']);
  assert.equal(forgetRecentTask(forgetRecentTask(listed, 'job', 'gone'), 'job', 'kept').recentTasks, undefined);
});
