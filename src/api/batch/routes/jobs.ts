// Job operations: Job_Add, Job_List, Job_Get, Job_Delete, Job_Terminate.

import type { Job, JobSpec } from '../../../core/job.js';
import type { BatchRequest, Operation } from '../operation.js';
import { jobAddSchema, jobTerminateSchema } from '../schemas/job.js';
import { parseBody } from '../schemas/validate.js';
import type { BatchServices } from '../services.js';
import { changedReply, createdReply, entityReply, listReply, pageQuery } from '../wire.js';

export function jobUrl(request: BatchRequest, jobId: string): string {
  return `${request.baseUrl}/jobs/${jobId}`;
}

function jobToWire(request: BatchRequest, job: Job): object {
  const { id, displayName, ...rest } = job;
  return { id, displayName, url: jobUrl(request, id), ...rest };
}

export function jobOperations(services: BatchServices): Operation[] {
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
        const page = services.jobs.list(request.caller, pageQuery(request));
        return listReply(request, 'jobs', page.items.map((job) => jobToWire(request, job)), page.continuation);
      },
    },
    {
      id: 'Job_Get',
      method: 'GET',
      path: '/jobs/:jobId',
      handler(request) {
        const job = services.jobs.get(request.caller, request.params.jobId as string, request.conditions);
        return entityReply(request, 'jobs', job, jobToWire(request, job));
      },
    },
    {
      id: 'Job_Delete',
      method: 'DELETE',
      path: '/jobs/:jobId',
      handler(request) {
        services.jobs.delete(request.caller, request.params.jobId as string, request.conditions);
        return { status: 202 };
      },
    },
    {
      id: 'Job_Terminate',
      method: 'POST',
      path: '/jobs/:jobId/terminate',
      handler(request) {
        const body = request.body === undefined ? {} : parseBody(jobTerminateSchema, request.body);
        const job = services.jobs.terminate(request.caller, request.params.jobId as string, body.terminateReason, request.conditions);
        return changedReply(202, job, jobUrl(request, job.id));
      },
    },
  ];
}
