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
  const { id, displayName } = task;
  return Object.assign({ id, displayName, url: taskUrl(request, jobId, id) }, task);
}

/**
 * The keys taskToWire drops or places itself, and a second displayName.
 * Inside JSON text, `"name":` can only be a key (a quote within a string is
 * escaped), so a document without these after its leading id and
 * displayName needs no change but the URL; one with them, at any depth,
 * takes the parsing path. One regular expression, since a search per key
 * cost half a list's time per task.
 */
const REARRANGED_KEYS = /"(?:url|displayName)":/g;
const JSON_STRING = String.raw`"(?:[^"\\]|\\.)*"`;
/** `{"id":…` and, when it comes next, `,"displayName":"…"`: what taskToWire puts before the URL. */
const LEADING_KEYS = new RegExp(`^\\{"id":(${JSON_STRING})(?:,"displayName":${JSON_STRING})?(?=,)`);

/**
 * JSON.stringify(taskToWire(…)) of each stored task document of a page,
 * without parsing those whose keys allow; the URL's common part is
 * serialized once.
 */
export function tasksJsonToWire(request: BatchRequest, jobId: string, docs: string[]): string[] {
  // A stored document is JSON.stringify's output, so its id's JSON text is JSON.stringify(id), and the URL's text is the prefix's with it appended.
  const urlPrefix = JSON.stringify(taskUrl(request, jobId, '')).slice(0, -1);
  return docs.map((json) => {
    const leading = LEADING_KEYS.exec(json);
    if (leading) REARRANGED_KEYS.lastIndex = leading[0].length;
    if (!leading || REARRANGED_KEYS.test(json)) return JSON.stringify(taskToWire(request, jobId, JSON.parse(json) as Task));
    return `${leading[0]},"url":${urlPrefix}${(leading[1] as string).slice(1)}${json.slice(leading[0].length)}`;
  });
}
