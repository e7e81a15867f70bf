// What a completed task's exit conditions say should happen next: to its job
// (jobAction) and to the tasks that depend on it (dependencyAction).
//
// Batch's lookup order: an exact exitCodes entry, then an exitCodeRanges
// entry, then preProcessingError for a failure before the process started,
// then fileUploadError for a failed output upload (unless the exit code
// matched an explicit entry), then `default`, which covers every failure
// without an entry of its own. Exit 0 matches only an explicit entry.

import type { TaskFailureInfo } from './common.js';

export type JobAction = 'none' | 'disable' | 'terminate';
export type DependencyAction = 'satisfy' | 'block';

export interface ExitOptions {
  jobAction?: JobAction;
  dependencyAction?: DependencyAction;
}

export interface ExitConditions {
  exitCodes?: { code: number; exitOptions: ExitOptions }[];
  exitCodeRanges?: { start: number; end: number; exitOptions: ExitOptions }[];
  preProcessingError?: ExitOptions;
  fileUploadError?: ExitOptions;
  default?: ExitOptions;
}

export interface ResolvedExitOptions {
  jobAction: JobAction;
  dependencyAction: DependencyAction;
}

/** Failure codes of the work before the process starts (downloads, launch). */
const PRE_PROCESSING_CODES = new Set([
  'BlobNotFound',
  'BlobAccessDenied',
  'BlobDownloadMiscError',
  'BlobDownloadTimedOut',
  'ResourceContainerNotFound',
  'ResourceContainerAccessDenied',
  'ResourceContainerListTimedOut',
  'ResourceContainerListMiscError',
  'ResourceDirectoryCreateFailed',
  'ResourceFileCreateFailed',
  'ResourceFileWriteFailed',
  'CommandProgramNotFound',
  'CommandLaunchFailed',
  'ApplicationPackageError',
]);

/** Failure codes of output file uploads (TaskFailureInformationCodes). */
export const FILE_UPLOAD_FAILURE_CODES = new Set(['FileUploadContainerNotFound', 'FileUploadAccessDenied', 'FileUploadTimedOut', 'FileUploadMiscError']);

/** Batch's defaults: none and satisfy for exit code 0, terminate and block for every other exit condition. */
function withDefaults(options: ExitOptions | undefined, exitedZero: boolean): ResolvedExitOptions {
  return {
    jobAction: options?.jobAction ?? (exitedZero ? 'none' : 'terminate'),
    dependencyAction: options?.dependencyAction ?? (exitedZero ? 'satisfy' : 'block'),
  };
}

export function resolveExitOptions(conditions: ExitConditions | undefined, outcome: { exitCode?: number; failureInfo?: TaskFailureInfo }): ResolvedExitOptions {
  const failed = outcome.failureInfo !== undefined || (outcome.exitCode ?? 0) !== 0;
  const code = outcome.exitCode;
  const explicit =
    code === undefined
      ? undefined
      : (conditions?.exitCodes?.find((entry) => entry.code === code)?.exitOptions ??
        conditions?.exitCodeRanges?.find((range) => code >= range.start && code <= range.end)?.exitOptions);
  // An entry matched by exit code takes the defaults of that code ("satisfy, none" for 0).
  if (explicit) return withDefaults(explicit, code === 0);
  const failureCode = outcome.failureInfo?.code;
  if (failureCode && PRE_PROCESSING_CODES.has(failureCode) && conditions?.preProcessingError) {
    return withDefaults(conditions.preProcessingError, false);
  }
  if (failureCode && FILE_UPLOAD_FAILURE_CODES.has(failureCode) && conditions?.fileUploadError) return withDefaults(conditions.fileUploadError, false);
  if (!failed) return withDefaults(undefined, true);
  return withDefaults(conditions?.default, false);
}
