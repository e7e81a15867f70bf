// A task's wire form: its stored document with its URL added after id and
// displayName. Lists build it straight from the stored JSON text, since
// parsing every task of a page and serializing it again was most of
// Task_List's time: a stored document starts with its id and displayName and
// has no url (core/task.ts createTask), so the URL goes in right after them.

import { registryWithoutSecret, type TaskContainerSettings } from '../../../core/container-settings.js';
import type { Task } from '../../../core/task.js';
import type { BatchRequest } from '../operation.js';
import { jobUrl } from './jobs.js';

export function taskUrl(request: BatchRequest, jobId: string, taskId: string): string {
  return `${jobUrl(request, jobId)}/tasks/${taskId}`;
}

export function taskToWire(request: BatchRequest, jobId: string, task: Task): object {
  const { id, displayName } = task;
  const wire = Object.assign({ id, displayName, url: taskUrl(request, jobId, id) }, task);
  // A container registry's password is never answered.
  const settings = task.containerSettings as TaskContainerSettings | undefined;
  if (settings?.registry) wire.containerSettings = { ...settings, registry: registryWithoutSecret(settings.registry) };
  return wire;
}

const JSON_STRING = String.raw`"(?:[^"\\]|\\.)*"`;
/** `{"id":…` and, when it comes next, `,"displayName":"…"`: what taskToWire puts before the URL. Only the document's start is read. */
const LEADING_KEYS = new RegExp(`^\\{"id":(${JSON_STRING})(?:,"displayName":${JSON_STRING})?(?=[,}])`);

/**
 * JSON.stringify(taskToWire(…)) of each stored task document of a page,
 * without parsing them; the URL's common part is serialized once. A document
 * that does not start with its id (none that Lapis stores), or that names a
 * container registry (whose password is taken out), is parsed.
 */
export function tasksJsonToWire(request: BatchRequest, jobId: string, docs: string[]): string[] {
  // A stored document is JSON.stringify's output, so its id's JSON text is JSON.stringify(id), and the URL's text is the prefix's with it appended.
  const urlPrefix = JSON.stringify(taskUrl(request, jobId, '')).slice(0, -1);
  return docs.map((json) => {
    const leading = LEADING_KEYS.exec(json);
    if (!leading || json.includes('"registry":')) return JSON.stringify(taskToWire(request, jobId, JSON.parse(json) as Task));
    return `${leading[0]},"url":${urlPrefix}${(leading[1] as string).slice(1)}${json.slice(leading[0].length)}`;
  });
}
