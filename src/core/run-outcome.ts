// What the end of a run means, the same for a task, a start task and a job
// preparation or release task: whether it failed, the failureInfo Batch
// reports, and whether it earns another try.

import type { TaskFailureInfo } from './common.js';

export interface RunEnd {
  exitCode?: number;
  failureInfo?: TaskFailureInfo;
}

const FAILURE_EXIT_CODE: TaskFailureInfo = {
  category: 'usererror',
  code: 'FailureExitCode',
  message: 'The task exited with an exit code representing a failure',
};

/** A run failed with a failure of its own or a non-zero exit code, which Batch reports as FailureExitCode. */
export function runResult(outcome: RunEnd): { failed: boolean; failureInfo?: TaskFailureInfo } {
  const failed = outcome.failureInfo !== undefined || (outcome.exitCode ?? 0) !== 0;
  return { failed, failureInfo: outcome.failureInfo ?? (failed ? FAILURE_EXIT_CODE : undefined) };
}

/** Only a non-zero exit earns another try (never a pre-processing or upload error), while retries are left; -1 is unlimited. */
export function earnsRetry(outcome: RunEnd, retryCount: number, maxRetries: number): boolean {
  if (outcome.exitCode === undefined || outcome.exitCode === 0) return false;
  if (outcome.failureInfo && outcome.failureInfo.code !== FAILURE_EXIT_CODE.code) return false;
  return maxRetries === -1 || retryCount < maxRetries;
}
