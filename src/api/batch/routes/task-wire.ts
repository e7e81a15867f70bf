// A task's wire form: its stored document with the server-only fields left
// out and its URL added after id and displayName. Lists build it straight
// from the stored JSON text when they can, since parsing every task of a page
// and serializing it again was most of Task_List's time.

import type { Task } from '../../../core/task.js';
import type { BatchRequest } from '../operation.js';
import { jobUrl } from './jobs.js';

export function taskUrl(request: BatchRequest, jobId: string, taskId: string): string {
  return `${jobUrl(request, jobId)}/tasks/${taskId}`;
}

export function taskToWire(request: BatchRequest, jobId: string, task: Task): object {
  const { id, displayName, dependencyAction: _action, filesCleanedUp: _cleaned, slotsHeld: _slots, instances: _instances, ...rest } = task;
  return { id, displayName, url: taskUrl(request, jobId, id), ...rest };
}

/**
 * The keys taskToWire drops or places itself. Inside JSON text, `"name":` can
 * only be a key (a quote within a string is escaped), so a document without
 * these needs no change but the URL; one with them, at any depth, takes the
 * parsing path.
 */
const REARRANGED_KEYS = ['dependencyAction', 'filesCleanedUp', 'slotsHeld', 'instances', 'url'].map((key) => `"${key}":`);
const JSON_STRING = String.raw`"(?:[^"\\]|\\.)*"`;
/** `{"id":…` and, when it comes next, `,"displayName":"…"`: what taskToWire puts before the URL. */
const LEADING_KEYS = new RegExp(`^\\{"id":(${JSON_STRING})(?:,"displayName":${JSON_STRING})?(?=,)`);

/** JSON.stringify(taskToWire(…)) of a stored task document, without parsing it when its keys allow. */
export function taskJsonToWire(request: BatchRequest, jobId: string, json: string): string {
  const leading = LEADING_KEYS.exec(json);
  const plain = leading && !REARRANGED_KEYS.some((key) => json.includes(key)) && !json.includes('"displayName":', leading[0].length);
  if (!leading || !plain) return JSON.stringify(taskToWire(request, jobId, JSON.parse(json) as Task));
  const id = JSON.parse(leading[1] as string) as string;
  return `${leading[0]},"url":${JSON.stringify(taskUrl(request, jobId, id))}${json.slice(leading[0].length)}`;
}
