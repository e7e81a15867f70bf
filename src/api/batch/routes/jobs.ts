// Job operations: Job_Add, Job_List, Job_Get, Job_Patch, Job_Update,
// Job_Disable, Job_Enable, Job_Delete, Job_Terminate, Job_GetTaskCounts,
// Job_ListPreparationAndReleaseTaskStatus.

import type { Job, JobChanges, JobSpec } from '../../../core/job.js';
import type { BatchRequest, Operation } from '../operation.js';
import { jobAddSchema, jobDisableSchema, jobPatchSchema, jobTerminateSchema, jobUpdateSchema } from '../schemas/job.js';
import { parseBody } from '../schemas/validate.js';
import type { BatchServices } from '../services.js';
import { changedReply, createdReply, entityReply, listReply, metadataUrl, pageQuery, parseBooleanQuery, parseExpand } from '../wire.js';

export function jobUrl(request: BatchRequest, jobId: string): string {
  return `${request.baseUrl}/jobs/${jobId}`;
}

export function jobToWire(request: BatchRequest, job: Job): object {
  const { id, displayName, disableTasks: _internal, ...rest } = job;
  return { id, displayName, url: jobUrl(request, id), ...rest };
}

export function jobOperations(services: BatchServices): Operation[] {
  const jobStats = (request: BatchRequest, jobId: string) => ({
    stats: { url: `${jobUrl(request, jobId)}/stats`, ...services.statistics.jobStatistics(request.caller, [jobId]) },
  });
  return [
    {
      id: 'Job_Add',
      method: 'POST',
      path: '/jobs',
      handler(request) {
        const spec = parseBody(jobAddSchema, request.body) as JobSpec;
        const job = services.jobs.add(request.caller, spec);
        return createdReply(job, jobUrl(request, job.id));
      },
    },
    {
      id: 'Job_List',
      method: 'GET',
      path: '/jobs',
      handler(request) {
        const page = services.jobs.list(request.caller, pageQuery(request, 'jobs'));
        const withStats = parseExpand(request).has('stats');
        const items = page.items.map((job) => ({ ...jobToWire(request, job), ...(withStats ? jobStats(request, job.id) : {}) }));
        return listReply(request, 'jobs', items, page.continuation);
      },
    },
    {
      id: 'Job_Get',
      method: 'GET',
      path: '/jobs/:jobId',
      handler(request) {
        const job = services.jobs.get(request.caller, request.params.jobId as string, request.conditions);
        const stats = parseExpand(request).has('stats') ? jobStats(request, job.id) : {};
        return entityReply(request, 'jobs', job, { ...jobToWire(request, job), ...stats });
      },
    },
    {
      id: 'Job_Patch',
      method: 'PATCH',
      path: '/jobs/:jobId',
      handler(request) {
        const changes = parseBody(jobPatchSchema, request.body) as JobChanges;
        const job = services.jobs.patch(request.caller, request.params.jobId as string, changes, request.conditions);
        return changedReply(200, job, jobUrl(request, job.id));
      },
    },
    {
      id: 'Job_Update',
      method: 'PUT',
      path: '/jobs/:jobId',
      handler(request) {
        const changes = parseBody(jobUpdateSchema, request.body) as JobChanges;
        const job = services.jobs.update(request.caller, request.params.jobId as string, changes, request.conditions);
        return changedReply(200, job, jobUrl(request, job.id));
      },
    },
    {
      id: 'Job_Disable',
      method: 'POST',
      path: '/jobs/:jobId/disable',
      handler(request) {
        const { disableTasks } = parseBody(jobDisableSchema, request.body);
        const job = services.jobs.disable(request.caller, request.params.jobId as string, disableTasks, request.conditions);
        return changedReply(202, job, jobUrl(request, job.id));
      },
    },
    {
      id: 'Job_Enable',
      method: 'POST',
      path: '/jobs/:jobId/enable',
      handler(request) {
        const job = services.jobs.enable(request.caller, request.params.jobId as string, request.conditions);
        return changedReply(202, job, jobUrl(request, job.id));
      },
    },
    {
      id: 'Job_GetTaskCounts',
      method: 'GET',
      path: '/jobs/:jobId/taskcounts',
      handler(request) {
        const counts = services.jobs.taskCounts(request.caller, request.params.jobId as string);
        return {
          status: 200,
          body: { 'odata.metadata': metadataUrl(request, 'taskcounts/@Element'), taskCounts: counts.tasks, taskSlotCounts: counts.slots },
        };
      },
    },
    {
      id: 'Job_Delete',
      method: 'DELETE',
      path: '/jobs/:jobId',
      handler(request) {
        // `force` (2024-07-01.20.0) changes nothing here: local nodes always process a delete at once.
        parseBooleanQuery(request, 'force');
        services.jobs.delete(request.caller, request.params.jobId as string, request.conditions);
        return { status: 202 };
      },
    },
    {
      id: 'Job_Terminate',
      method: 'POST',
      path: '/jobs/:jobId/terminate',
      handler(request) {
        parseBooleanQuery(request, 'force');
        const body = request.body === undefined ? {} : parseBody(jobTerminateSchema, request.body);
        const job = services.jobs.terminate(request.caller, request.params.jobId as string, body.terminateReason, request.conditions);
        return changedReply(202, job, jobUrl(request, job.id));
      },
    },
    {
      id: 'Job_ListPreparationAndReleaseTaskStatus',
      method: 'GET',
      path: '/jobs/:jobId/jobpreparationandreleasetaskstatus',
      handler(request) {
        const page = services.preparation.list(request.caller, request.params.jobId as string, pageQuery(request, undefined));
        const items = page.items.map(({ preparationAttempt: _prep, releaseAttempt: _release, ...status }) => status);
        return listReply(request, 'jobpreparationandreleasetaskstatuslist', items, page.continuation);
      },
    },
  ];
}
