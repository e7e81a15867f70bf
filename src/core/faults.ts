// Faults a user injects through `POST /lapis/faults` (lapis serve --faults,
// docs/testing-your-batch-app.md): what each one is and how its request body
// is read. Each acts through the code path of the real failure it stands for
// (server/injected-faults.ts), so states, codes and events are Batch's own.

import { batchErrors } from './errors.js';
import { parseDuration } from './time.js';

/**
 * Each kind of fault, with what it does in a sentence (a dashboard's buttons, `GET /lapis/faults/kinds`),
 * whether a restarted server still has it (a fault aimed at runs or allocations is stored; one aimed at a
 * node's present state is not, since a restart starts every node again: server/injected-faults.ts), and
 * the fields its body may have besides `type` (parseFaultSpec refuses any other) and must have.
 */
export const FAULT_KINDS = [
  {
    type: 'nodeUnusable',
    description: 'The node stops heartbeating and cannot be restarted: unknown, then unusable, its tasks requeued.',
    survivesRestart: false,
    fields: ['poolId', 'nodeId'],
    required: ['poolId', 'nodeId'],
  },
  {
    type: 'heartbeatLoss',
    description: "The node's heartbeats stop for a while: unknown, its tasks requeued; heard again, it is back in service.",
    survivesRestart: false,
    fields: ['poolId', 'nodeId', 'duration'],
    required: ['poolId', 'nodeId', 'duration'],
  },
  {
    type: 'startTaskFailure',
    description: "The next start tasks on the pool's nodes fail with an exit code or a failure code.",
    survivesRestart: true,
    fields: ['poolId', 'count', 'exitCode', 'failureInfo'],
    required: ['poolId'],
  },
  {
    type: 'startTaskHang',
    description: "The next start tasks on the pool's nodes never finish: with waitForSuccess the node stays waitingForStartTask.",
    survivesRestart: true,
    fields: ['poolId', 'count'],
    required: ['poolId'],
  },
  {
    type: 'preemption',
    description: "The pool's Spot/low-priority nodes are preempted: their tasks requeued, restored when the capacity returns.",
    survivesRestart: false,
    fields: ['poolId', 'nodeId', 'duration'],
    required: ['poolId'],
  },
  {
    type: 'taskFailure',
    description: 'The next task launches fail before their command starts, with the failure code given.',
    survivesRestart: true,
    fields: ['poolId', 'jobId', 'count', 'failureInfo'],
    required: ['failureInfo'],
  },
  {
    type: 'resourceFileFailure',
    description: "The next tasks' resource file downloads fail (BlobNotFound by default), as a missing blob does.",
    survivesRestart: true,
    fields: ['poolId', 'jobId', 'count', 'code'],
    required: [],
  },
  {
    type: 'outputFileFailure',
    description: "The next tasks' output file uploads fail (FileUploadContainerNotFound by default), as a missing container does.",
    survivesRestart: true,
    fields: ['poolId', 'jobId', 'count', 'code'],
    required: [],
  },
  {
    type: 'allocationDelay',
    description: "The pool's nodes take longer to allocate while the fault lasts.",
    survivesRestart: true,
    fields: ['poolId', 'duration'],
    required: ['poolId', 'duration'],
  },
] as const;
export type FaultType = (typeof FAULT_KINDS)[number]['type'];
export const FAULT_TYPES: readonly FaultType[] = FAULT_KINDS.map((kind) => kind.type);

function fieldsOf(type: FaultType): readonly string[] {
  return ['type', ...(FAULT_KINDS.find((kind) => kind.type === type)?.fields ?? [])];
}

/** The codes a resource file download fails with in a real node (agent/resource-files.ts), and their messages. */
export const RESOURCE_FILE_FAILURES = {
  BlobNotFound: 'The specified blob does not exist.',
  BlobAccessDenied: 'Access for one of the specified Azure Blob(s) is denied',
  BlobDownloadMiscError: 'Failed to download the resource file.',
  ResourceContainerNotFound: 'The specified container does not exist.',
  ResourceContainerAccessDenied: 'Access to the specified container is denied.',
} as const;
export type ResourceFileFailureCode = keyof typeof RESOURCE_FILE_FAILURES;

/** The codes an output file upload fails with in a real node (agent/output-files.ts), and their messages. */
export const OUTPUT_FILE_FAILURES = {
  FileUploadContainerNotFound: 'One of the specified Azure container(s) was not found while attempting to upload an output file',
  FileUploadAccessDenied: 'Access to one of the specified Azure container(s) was denied while attempting to upload an output file',
  FileUploadTimedOut: 'A timeout occurred while attempting to upload an output file',
  FileUploadMiscError: 'An unexpected error occurred while attempting to upload an output file',
} as const;
export type OutputFileFailureCode = keyof typeof OUTPUT_FILE_FAILURES;

/** What a run carries to its node when a fault makes its transfers fail there (TaskRun.injectedFailure): the node fails them as it fails real ones. */
export interface InjectedTransferFailure {
  resourceFiles?: ResourceFileFailureCode;
  outputFiles?: OutputFileFailureCode;
}

/** A node's agent falls silent and the node cannot be restarted: `unknown`, then `unusable`, its tasks requeued. */
export interface NodeUnusableFault {
  type: 'nodeUnusable';
  poolId: string;
  nodeId: string;
}

/** The node's agent is silent for `duration`: `unknown` past the heartbeat timeout, its tasks requeued, and restarted; once heard again, back in service. */
export interface HeartbeatLossFault {
  type: 'heartbeatLoss';
  poolId: string;
  nodeId: string;
  duration: string;
  durationMs: number;
}

/** The next `count` start task runs on the pool's nodes end with `exitCode`, or fail with `failureInfo`, without running. */
export interface StartTaskFailureFault {
  type: 'startTaskFailure';
  poolId: string;
  count: number;
  exitCode?: number;
  failureInfo?: InjectedFailureInfo;
}

/** The next `count` start task runs on the pool's nodes never end (their node's agent is never given them) until the fault is removed, when they run; a node rebooted, reimaged or removed meanwhile drops its run. */
export interface StartTaskHangFault {
  type: 'startTaskHang';
  poolId: string;
  count: number;
}

/**
 * The pool's Spot/low-priority nodes (or the one named) are preempted: `preempted`, their running tasks
 * requeued; after `duration` (or when the fault is removed) the capacity returns and each is restored
 * (starting, its start task, idle). Without a duration they stay preempted until the fault is removed.
 */
export interface PreemptionFault {
  type: 'preemption';
  poolId: string;
  nodeId?: string;
  duration?: string;
  durationMs?: number;
}

/** The next `count` runs (on the pool, or of the job, when named) that download resource files fail on their first file with `code`. */
export interface ResourceFileFailureFault {
  type: 'resourceFileFailure';
  poolId?: string;
  jobId?: string;
  count: number;
  code: ResourceFileFailureCode;
}

/** The next `count` task runs (on the pool, or of the job, when named) that upload output files fail their first upload with `code`. */
export interface OutputFileFailureFault {
  type: 'outputFileFailure';
  poolId?: string;
  jobId?: string;
  count: number;
  code: OutputFileFailureCode;
}

/** The next `count` task launches (on the pool, or of the job, when named) fail before their command starts. */
export interface TaskFailureFault {
  type: 'taskFailure';
  poolId?: string;
  jobId?: string;
  count: number;
  failureInfo: InjectedFailureInfo;
}

/** Nodes of the pool take `duration` longer to allocate, while the fault lasts. */
export interface AllocationDelayFault {
  type: 'allocationDelay';
  poolId: string;
  /** ISO-8601, as Batch writes durations. */
  duration: string;
  durationMs: number;
}

export interface InjectedFailureInfo {
  category: 'usererror' | 'servererror';
  code: string;
  message: string;
  /** Given by the server (not the request): those the real failure of the code carries, e.g. a resource file's FilePath and ResourceUrl. */
  details?: { name: string; value: string }[];
}

export type FaultSpec =
  | NodeUnusableFault
  | HeartbeatLossFault
  | StartTaskFailureFault
  | StartTaskHangFault
  | PreemptionFault
  | TaskFailureFault
  | ResourceFileFailureFault
  | OutputFileFailureFault
  | AllocationDelayFault;

/** A fault as the API answers it: its spec, its id, and how many runs it has left to take (for counted faults). */
export type InjectedFault = FaultSpec & { id: string; created: string; remaining?: number };

/** The faults of each account (server/injected-faults.ts): what /lapis/faults serves. */
export interface FaultInjection {
  add(account: string, spec: FaultSpec): InjectedFault;
  list(account: string): InjectedFault[];
  /** A fault of another account, or none, is ResourceNotFound. */
  remove(account: string, id: string): void;
}

type Body = Record<string, unknown>;

const MAX_COUNT = 10_000;

function text(body: Body, name: string, required: true): string;
function text(body: Body, name: string, required: false): string | undefined;
function text(body: Body, name: string, required: boolean): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw batchErrors.missingRequiredProperty(name);
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) throw batchErrors.invalidPropertyValue(name, 'The value must be a non-empty string.');
  return value;
}

function whole(body: Body, name: string, fallback: number, min: number, max: number): number {
  const value = body[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw batchErrors.invalidPropertyValue(name, `The value must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

function failureInfoOf(body: Body, name: string, defaultMessage: string): InjectedFailureInfo {
  const value = body[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw value === undefined ? batchErrors.missingRequiredProperty(name) : batchErrors.invalidPropertyValue(name, 'The value must be an object with category, code and message.');
  }
  const info = value as Body;
  const category = info.category ?? 'usererror';
  if (category !== 'usererror' && category !== 'servererror') throw batchErrors.invalidPropertyValue(`${name}.category`, 'The value must be usererror or servererror.');
  const code = text(info, 'code', false);
  if (code === undefined) throw batchErrors.missingRequiredProperty(`${name}.code`);
  return { category, code, message: text(info, 'message', false) ?? knownMessage(code) ?? defaultMessage };
}

/** The message a node gives with a failure code it produces itself. */
function knownMessage(code: string): string | undefined {
  if (Object.hasOwn(RESOURCE_FILE_FAILURES, code)) return RESOURCE_FILE_FAILURES[code as ResourceFileFailureCode];
  if (Object.hasOwn(OUTPUT_FILE_FAILURES, code)) return OUTPUT_FILE_FAILURES[code as OutputFileFailureCode];
  return undefined;
}

function refuseOthers(body: Body, allowed: readonly string[]): void {
  const unknown = Object.keys(body).find((name) => !allowed.includes(name));
  if (unknown !== undefined) throw batchErrors.invalidPropertyValue(unknown, `The property is not one of a ${String(body.type)} fault's: ${allowed.join(', ')}.`);
}

function durationOf(body: Body): { duration: string; durationMs: number } {
  const duration = text(body, 'duration', true);
  return { duration, durationMs: durationMsOf(duration) };
}

function durationMsOf(duration: string): number {
  const durationMs = parseDuration(duration);
  // setTimeout's limit: about 24.8 days.
  if (durationMs === undefined || durationMs > 2_147_483_647) throw batchErrors.invalidPropertyValue('duration', 'The value must be an ISO-8601 duration of at most 24 days, such as PT30S.');
  return durationMs;
}

function codeOf<C extends string>(body: Body, codes: Record<C, string>, fallback: C): C {
  const code = text(body, 'code', false) ?? fallback;
  if (!Object.hasOwn(codes, code)) throw batchErrors.invalidPropertyValue('code', `The value must be one of ${Object.keys(codes).join(', ')}.`);
  return code as C;
}

/** The optional pool and job a counted fault is limited to. */
function runFilters(body: Body): { poolId?: string; jobId?: string } {
  return {
    ...(body.poolId !== undefined ? { poolId: text(body, 'poolId', true) } : {}),
    ...(body.jobId !== undefined ? { jobId: text(body, 'jobId', true) } : {}),
  };
}

/** Reads a POST /lapis/faults body; a bad one is refused with the Batch error that names its field. */
export function parseFaultSpec(raw: unknown): FaultSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw batchErrors.invalidRequestBody('The body must be a JSON object describing one fault.');
  const body = raw as Body;
  const type = text(body, 'type', true);
  switch (type) {
    case 'nodeUnusable':
      refuseOthers(body, fieldsOf(type));
      return { type, poolId: text(body, 'poolId', true), nodeId: text(body, 'nodeId', true) };
    case 'heartbeatLoss':
      refuseOthers(body, fieldsOf(type));
      return { type, poolId: text(body, 'poolId', true), nodeId: text(body, 'nodeId', true), ...durationOf(body) };
    case 'startTaskFailure': {
      refuseOthers(body, fieldsOf(type));
      const poolId = text(body, 'poolId', true);
      const count = whole(body, 'count', 1, 1, MAX_COUNT);
      if (body.failureInfo !== undefined) {
        if (body.exitCode !== undefined) throw batchErrors.invalidPropertyValue('exitCode', 'Give exitCode or failureInfo, not both.');
        return { type, poolId, count, failureInfo: failureInfoOf(body, 'failureInfo', 'The start task failed (injected).') };
      }
      const exitCode = whole(body, 'exitCode', 1, -2147483648, 2147483647);
      if (exitCode === 0) throw batchErrors.invalidPropertyValue('exitCode', 'A failed start task exits with a code other than 0.');
      return { type, poolId, count, exitCode };
    }
    case 'startTaskHang':
      refuseOthers(body, fieldsOf(type));
      return { type, poolId: text(body, 'poolId', true), count: whole(body, 'count', 1, 1, MAX_COUNT) };
    case 'preemption': {
      refuseOthers(body, fieldsOf(type));
      const nodeId = text(body, 'nodeId', false);
      return { type, poolId: text(body, 'poolId', true), ...(nodeId ? { nodeId } : {}), ...(body.duration !== undefined ? durationOf(body) : {}) };
    }
    case 'taskFailure':
      refuseOthers(body, fieldsOf(type));
      return { type, ...runFilters(body), count: whole(body, 'count', 1, 1, MAX_COUNT), failureInfo: failureInfoOf(body, 'failureInfo', 'The task could not be started (injected).') };
    case 'resourceFileFailure':
      refuseOthers(body, fieldsOf(type));
      return { type, ...runFilters(body), count: whole(body, 'count', 1, 1, MAX_COUNT), code: codeOf(body, RESOURCE_FILE_FAILURES, 'BlobNotFound') };
    case 'outputFileFailure':
      refuseOthers(body, fieldsOf(type));
      return { type, ...runFilters(body), count: whole(body, 'count', 1, 1, MAX_COUNT), code: codeOf(body, OUTPUT_FILE_FAILURES, 'FileUploadContainerNotFound') };
    case 'allocationDelay':
      refuseOthers(body, fieldsOf(type));
      return { type, poolId: text(body, 'poolId', true), ...durationOf(body) };
    default:
      throw batchErrors.invalidPropertyValue('type', `The value must be one of ${FAULT_TYPES.join(', ')}.`);
  }
}
