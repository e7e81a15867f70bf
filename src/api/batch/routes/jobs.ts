// Job operations: Job_Add, Job_List, Job_Get, Job_Patch, Job_Update,
// Job_Disable, Job_Enable, Job_Delete, Job_Terminate, Job_GetTaskCounts,
// Job_ListPreparationAndReleaseTaskStatus.

import type { Job } from '../../../core/job.js';
import { operation, type BatchRequest, type Operation } from '../operation.js';
import { jobAddBody, jobDisableBody, jobPatchBody, jobTerminateBody, jobUpdateBody } from '../schemas/job.js';
import { jobSpecificationDefaults } from '../read-defaults/job-settings.js';
import { parseBody } from '../schemas/validate.js';
import type { BatchServices } from '../services.js';
import { changedReply, createdReply, entityReply, listReply, metadataUrl, pageQuery, parseBooleanQuery, parseExpand } from '../wire.js';

export function jobUrl(request: BatchRequest, jobId: string): string {
  return `${request.baseUrl}/jobs/${jobId}`;
}

export function jobToWire(request: BatchRequest, job: Job): object {
  const { id, displayName } = job;
  return jobSpecificationDefaults(Object.assign({ id, displayName, url: jobUrl(request, id) }, job));
}

export function jobOperations(services: BatchServices): Operation[] {
  const jobStats = (request: BatchRequest, jobId: string) => ({
    stats: { url: `${jobUrl(request, jobId)}/stats`, ...services.statistics.jobStatistics(request.caller, [jobId]) },
  });
  return [
    operation({
      id: 'Job_Add',
      method: 'POST',
      path: '/jobs',
      handler(request) {
        const spec = parseBody(jobAddBody, request.body);
        const job = services.jobs.add(request.caller, spec);
        return createdReply(job, jobUrl(request, job.id));
      },
    }),
    operation({
      id: 'Job_List',
      method: 'GET',
      path: '/jobs',
      handler(request) {
        const page = services.jobs.list(request.caller, pageQuery(request, 'jobs'));
        const withStats = parseExpand(request).has('stats');
        const items = page.items.map((job) => ({ ...jobToWire(request, job), ...(withStats ? jobStats(request, job.id) : {}) }));
        return listReply(request, 'jobs', items, page.continuation);
      },
    }),
    operation({
      id: 'Job_Get',
      method: 'GET',
      path: '/jobs/:jobId',
      handler(request) {
        const job = services.jobs.get(request.caller, request.params.jobId, request.conditions);
        const stats = parseExpand(request).has('stats') ? jobStats(request, job.id) : {};
        return entityReply(request, 'jobs', job, { ...jobToWire(request, job), ...stats });
      },
    }),
    operation({
      id: 'Job_Patch',
      method: 'PATCH',
      path: '/jobs/:jobId',
      handler(request) {
        const changes = parseBody(jobPatchBody, request.body);
        const job = services.jobs.patch(request.caller, request.params.jobId, changes, request.conditions);
        return changedReply(200, job, jobUrl(request, job.id));
      },
    }),
    operation({
      id: 'Job_Update',
      method: 'PUT',
      path: '/jobs/:jobId',
      handler(request) {
        const changes = parseBody(jobUpdateBody, request.body);
        const job = services.jobs.update(request.caller, request.params.jobId, changes, request.conditions);
        return changedReply(200, job, jobUrl(request, job.id));
      },
    }),
    operation({
      id: 'Job_Disable',
      method: 'POST',
      path: '/jobs/:jobId/disable',
      handler(request) {
        const { disableTasks } = parseBody(jobDisableBody, request.body);
        const job = services.jobs.disable(request.caller, request.params.jobId, disableTasks, request.conditions);
        return changedReply(202, job, jobUrl(request, job.id));
      },
    }),
    operation({
      id: 'Job_Enable',
      method: 'POST',
      path: '/jobs/:jobId/enable',
      handler(request) {
        const job = services.jobs.enable(request.caller, request.params.jobId, request.conditions);
        return changedReply(202, job, jobUrl(request, job.id));
      },
    }),
    operation({
      id: 'Job_GetTaskCounts',
      method: 'GET',
      path: '/jobs/:jobId/taskcounts',
      handler(request) {
        const counts = services.jobs.taskCounts(request.caller, request.params.jobId);
        return {
          status: 200,
          body: { 'odata.metadata': metadataUrl(request, 'taskcounts/@Element'), taskCounts: counts.tasks, taskSlotCounts: counts.slots },
        };
      },
    }),
    operation({
      id: 'Job_Delete',
      method: 'DELETE',
      path: '/jobs/:jobId',
      handler(request) {
        // `force` (2024-07-01.20.0) changes nothing here: local nodes always process a delete at once.
        parseBooleanQuery(request, 'force');
        services.jobs.delete(request.caller, request.params.jobId, request.conditions);
        return { status: 202 };
      },
    }),
    operation({
      id: 'Job_Terminate',
      method: 'POST',
      path: '/jobs/:jobId/terminate',
      handler(request) {
        parseBooleanQuery(request, 'force');
        const body = request.body === undefined ? {} : parseBody(jobTerminateBody, request.body);
        const job = services.jobs.terminate(request.caller, request.params.jobId, body.terminateReason, request.conditions);
        return changedReply(202, job, jobUrl(request, job.id));
      },
    }),
    operation({
      id: 'Job_ListPreparationAndReleaseTaskStatus',
      method: 'GET',
      path: '/jobs/:jobId/jobpreparationandreleasetaskstatus',
      handler(request) {
        const page = services.preparation.list(request.caller, request.params.jobId, pageQuery(request, undefined));
        return listReply(request, 'jobpreparationandreleasetaskstatuslist', page.items, page.continuation);
      },
    }),
  ];
}
