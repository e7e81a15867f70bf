// Batch's lookup order for a completed task's exit options, and the defaults.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveExitOptions, type ExitConditions } from '../../src/core/exit-conditions.js';

const conditions: ExitConditions = {
  exitCodes: [
    { code: 0, exitOptions: { jobAction: 'disable' } },
    { code: 5, exitOptions: { dependencyAction: 'satisfy' } },
  ],
  exitCodeRanges: [{ start: 4, end: 9, exitOptions: { jobAction: 'none' } }],
  preProcessingError: { jobAction: 'disable', dependencyAction: 'satisfy' },
  fileUploadError: { jobAction: 'none' },
  default: { jobAction: 'none', dependencyAction: 'satisfy' },
};

const failure = (code: string) => ({ category: 'usererror' as const, code, message: code });

test('without exit conditions: success satisfies and does nothing, failure blocks and terminates', () => {
  assert.deepEqual(resolveExitOptions(undefined, { exitCode: 0 }), { jobAction: 'none', dependencyAction: 'satisfy' });
  assert.deepEqual(resolveExitOptions(undefined, { exitCode: 2 }), { jobAction: 'terminate', dependencyAction: 'block' });
  assert.deepEqual(resolveExitOptions(undefined, { failureInfo: failure('BlobNotFound') }), { jobAction: 'terminate', dependencyAction: 'block' });
});

test('an exact exit code wins over a range, a range over default', () => {
  assert.deepEqual(resolveExitOptions(conditions, { exitCode: 5 }), { jobAction: 'terminate', dependencyAction: 'satisfy' });
  assert.deepEqual(resolveExitOptions(conditions, { exitCode: 6 }), { jobAction: 'none', dependencyAction: 'block' });
  assert.deepEqual(resolveExitOptions(conditions, { exitCode: 42 }), { jobAction: 'none', dependencyAction: 'satisfy' });
});

test('exit 0 matches only an explicit entry', () => {
  assert.deepEqual(resolveExitOptions(conditions, { exitCode: 0 }), { jobAction: 'disable', dependencyAction: 'satisfy' });
  assert.deepEqual(resolveExitOptions({ default: { jobAction: 'disable' } }, { exitCode: 0 }), { jobAction: 'none', dependencyAction: 'satisfy' });
});

test('pre-processing and upload failures use their own entries, then default', () => {
  assert.deepEqual(resolveExitOptions(conditions, { failureInfo: failure('ResourceContainerNotFound') }), { jobAction: 'disable', dependencyAction: 'satisfy' });
  assert.deepEqual(resolveExitOptions(conditions, { exitCode: 0, failureInfo: failure('FileUploadAccessDenied') }), { jobAction: 'disable', dependencyAction: 'satisfy' });
  assert.deepEqual(resolveExitOptions(conditions, { exitCode: 1, failureInfo: failure('FileUploadAccessDenied') }), { jobAction: 'none', dependencyAction: 'block' });
  assert.deepEqual(resolveExitOptions({ default: { dependencyAction: 'satisfy' } }, { failureInfo: failure('CommandProgramNotFound') }), {
    jobAction: 'terminate',
    dependencyAction: 'satisfy',
  });
});
