// Task operations: Task_Add, Task_AddCollection, Task_List, Task_Get, Task_Update,
// Task_Delete, Task_Terminate, Task_Reactivate, Task_ListSubtasks.

import type { TaskAddOutcome } from '../../../services/task-service.js';
import { errorBody } from '../errors.js';
import { operation, type BatchRequest, type Operation } from '../operation.js';
import { taskAddBody, taskCollectionBody, taskUpdateBody } from '../schemas/task.js';
import { parseBody } from '../schemas/validate.js';
import type { BatchServices } from '../services.js';
import { changedReply, createdReply, entityReply, listJsonReply, listReply, metadataUrl, pageQuery, parseSelect, project } from '../wire.js';
import { tasksJsonToWire, taskToWire, taskUrl } from './task-wire.js';

/** One entry of an addCollection answer; built by assignment, since conditional spreads cost more than the rest of the entry. */
function taskAddResult(request: BatchRequest, jobId: string, outcome: TaskAddOutcome): Record<string, unknown> {
  const entry: Record<string, unknown> = { status: outcome.status, taskId: outcome.taskId };
  if (outcome.task) {
    entry.eTag = outcome.task.eTag;
    entry.lastModified = outcome.task.lastModified;
    entry.location = taskUrl(request, jobId, outcome.task.id);
  }
  if (outcome.error) entry.error = errorBody(outcome.error, request.requestId);
  return entry;
}

export function taskOperations(services: BatchServices): Operation[] {
  return [
    operation({
      id: 'Task_Add',
      method: 'POST',
      path: '/jobs/:jobId/tasks',
      handler(request) {
        const spec = parseBody(taskAddBody, request.body);
        const jobId = request.params.jobId;
        const task = services.tasks.add(request.caller, jobId, spec);
        return createdReply(task, taskUrl(request, jobId, task.id));
      },
    }),
    operation({
      id: 'Task_AddCollection',
      method: 'POST',
      path: '/jobs/:jobId/addtaskcollection',
      handler(request) {
        const { value } = parseBody(taskCollectionBody, request.body);
        const jobId = request.params.jobId;
        const outcomes = services.tasks.addCollection(request.caller, jobId, value);
        return {
          status: 200,
          body: { 'odata.metadata': `${request.baseUrl}/$metadata#taskaddresult`, value: outcomes.map((outcome) => taskAddResult(request, jobId, outcome)) },
        };
      },
    }),
    operation({
      id: 'Task_List',
      method: 'GET',
      path: '/jobs/:jobId/tasks',
      handler(request) {
        const jobId = request.params.jobId;
        const query = pageQuery(request, 'tasks');
        if (parseSelect(request) === undefined) {
          const page = services.tasks.listJson(request.caller, jobId, query);
          return listJsonReply(request, 'tasks', tasksJsonToWire(request, jobId, page.items), page.continuation);
        }
        const page = services.tasks.list(request.caller, jobId, query);
        return listReply(request, 'tasks', page.items.map((task) => taskToWire(request, jobId, task)), page.continuation);
      },
    }),
    operation({
      id: 'Task_Get',
      method: 'GET',
      path: '/jobs/:jobId/tasks/:taskId',
      handler(request) {
        const jobId = request.params.jobId;
        const task = services.tasks.get(request.caller, jobId, request.params.taskId, request.conditions);
        return entityReply(request, 'tasks', task, taskToWire(request, jobId, task));
      },
    }),
    operation({
      id: 'Task_Delete',
      method: 'DELETE',
      path: '/jobs/:jobId/tasks/:taskId',
      handler(request) {
        services.tasks.delete(request.caller, request.params.jobId, request.params.taskId, request.conditions);
        return { status: 200 };
      },
    }),
    operation({
      id: 'Task_Update',
      method: 'PUT',
      path: '/jobs/:jobId/tasks/:taskId',
      handler(request) {
        const { constraints } = parseBody(taskUpdateBody, request.body);
        const jobId = request.params.jobId;
        const task = services.tasks.update(request.caller, jobId, request.params.taskId, constraints, request.conditions);
        return changedReply(200, task, taskUrl(request, jobId, task.id));
      },
    }),
    operation({
      id: 'Task_Terminate',
      method: 'POST',
      path: '/jobs/:jobId/tasks/:taskId/terminate',
      handler(request) {
        const jobId = request.params.jobId;
        const task = services.tasks.terminate(request.caller, jobId, request.params.taskId, request.conditions);
        return changedReply(204, task, taskUrl(request, jobId, task.id));
      },
    }),
    operation({
      id: 'Task_Reactivate',
      method: 'POST',
      path: '/jobs/:jobId/tasks/:taskId/reactivate',
      handler(request) {
        const jobId = request.params.jobId;
        const task = services.tasks.reactivate(request.caller, jobId, request.params.taskId, request.conditions);
        return changedReply(204, task, taskUrl(request, jobId, task.id));
      },
    }),
    operation({
      id: 'Task_ListSubtasks',
      method: 'GET',
      path: '/jobs/:jobId/tasks/:taskId/subtasksinfo',
      handler(request) {
        // The subtasks of a multi-instance task are its instances other than the primary.
        const value = services.tasks.subtasks(request.caller, request.params.jobId, request.params.taskId);
        return { status: 200, body: { 'odata.metadata': metadataUrl(request, 'subtaskinfo'), value: value.map((subtask) => project(subtask, parseSelect(request))) } };
      },
    }),
  ];
}
