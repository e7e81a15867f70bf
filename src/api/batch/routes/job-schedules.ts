// Job schedule operations: JobSchedule_Add, JobSchedule_List, JobSchedule_Get,
// JobSchedule_Exists, JobSchedule_Patch, JobSchedule_Update, JobSchedule_Disable,
// JobSchedule_Enable, JobSchedule_Terminate, JobSchedule_Delete, and
// Job_ListFromJobSchedule.

import { isBatchError } from '../../../core/errors.js';
import type { JobSchedule } from '../../../core/job-schedule.js';
import { operation, type BatchRequest, type Operation } from '../operation.js';
import { jobScheduleAddBody, jobSchedulePatchBody, jobScheduleUpdateBody } from '../schemas/job.js';
import { jobScheduleDefaults } from '../read-defaults/job-settings.js';
import { parseBody } from '../schemas/validate.js';
import type { BatchServices } from '../services.js';
import { changedReply, createdReply, entityReply, listReply, pageQuery, parseBooleanQuery, parseExpand } from '../wire.js';
import { jobToWire } from './jobs.js';

function scheduleUrl(request: BatchRequest, scheduleId: string): string {
  return `${request.baseUrl}/jobschedules/${scheduleId}`;
}

function scheduleToWire(request: BatchRequest, schedule: JobSchedule): object {
  const { id, displayName } = schedule;
  return jobScheduleDefaults(Object.assign({ id, displayName, url: scheduleUrl(request, id) }, schedule));
}

export function jobScheduleOperations(services: BatchServices): Operation[] {
  const id = (request: BatchRequest<{ jobScheduleId: string }>) => request.params.jobScheduleId;
  const scheduleStats = (request: BatchRequest, scheduleId: string) => {
    const jobIds = services.jobSchedules.listJobs(request.caller, scheduleId, { maxResults: 1000 }).items.map((job) => job.id);
    return { stats: { url: `${scheduleUrl(request, scheduleId)}/stats`, ...services.statistics.jobStatistics(request.caller, jobIds) } };
  };
  const changed = (status: number) => (request: BatchRequest, schedule: JobSchedule) => changedReply(status, schedule, scheduleUrl(request, schedule.id));
  return [
    operation({
      id: 'JobSchedule_Add',
      method: 'POST',
      path: '/jobschedules',
      handler(request) {
        const spec = parseBody(jobScheduleAddBody, request.body);
        const schedule = services.jobSchedules.add(request.caller, spec);
        return createdReply(schedule, scheduleUrl(request, schedule.id));
      },
    }),
    operation({
      id: 'JobSchedule_List',
      method: 'GET',
      path: '/jobschedules',
      handler(request) {
        const page = services.jobSchedules.list(request.caller, pageQuery(request, 'jobSchedules'));
        const withStats = parseExpand(request).has('stats');
        const items = page.items.map((schedule) => ({ ...scheduleToWire(request, schedule), ...(withStats ? scheduleStats(request, schedule.id) : {}) }));
        return listReply(request, 'jobschedules', items, page.continuation);
      },
    }),
    operation({
      id: 'JobSchedule_Get',
      method: 'GET',
      path: '/jobschedules/:jobScheduleId',
      handler(request) {
        const schedule = services.jobSchedules.get(request.caller, id(request), request.conditions);
        const stats = parseExpand(request).has('stats') ? scheduleStats(request, schedule.id) : {};
        return entityReply(request, 'jobschedules', schedule, { ...scheduleToWire(request, schedule), ...stats });
      },
    }),
    operation({
      id: 'JobSchedule_Exists',
      method: 'HEAD',
      path: '/jobschedules/:jobScheduleId',
      handler(request) {
        try {
          return changed(200)(request, services.jobSchedules.get(request.caller, id(request), request.conditions));
        } catch (error) {
          if (isBatchError(error) && error.kind === 'notFound') return { status: 404 };
          throw error;
        }
      },
    }),
    operation({
      id: 'JobSchedule_Patch',
      method: 'PATCH',
      path: '/jobschedules/:jobScheduleId',
      handler(request) {
        const changes = parseBody(jobSchedulePatchBody, request.body);
        return changed(200)(request, services.jobSchedules.change(request.caller, id(request), changes, 'patch', request.conditions));
      },
    }),
    operation({
      id: 'JobSchedule_Update',
      method: 'PUT',
      path: '/jobschedules/:jobScheduleId',
      handler(request) {
        const changes = parseBody(jobScheduleUpdateBody, request.body);
        return changed(200)(request, services.jobSchedules.change(request.caller, id(request), changes, 'update', request.conditions));
      },
    }),
    operation({
      id: 'JobSchedule_Disable',
      method: 'POST',
      path: '/jobschedules/:jobScheduleId/disable',
      handler(request) {
        return changed(204)(request, services.jobSchedules.disable(request.caller, id(request), request.conditions));
      },
    }),
    operation({
      id: 'JobSchedule_Enable',
      method: 'POST',
      path: '/jobschedules/:jobScheduleId/enable',
      handler(request) {
        return changed(204)(request, services.jobSchedules.enable(request.caller, id(request), request.conditions));
      },
    }),
    operation({
      id: 'JobSchedule_Terminate',
      method: 'POST',
      path: '/jobschedules/:jobScheduleId/terminate',
      handler(request) {
        parseBooleanQuery(request, 'force');
        return changed(202)(request, services.jobSchedules.terminate(request.caller, id(request), request.conditions));
      },
    }),
    operation({
      id: 'JobSchedule_Delete',
      method: 'DELETE',
      path: '/jobschedules/:jobScheduleId',
      handler(request) {
        // `force` (2024-07-01.20.0) changes nothing here: local nodes always process a delete at once.
        parseBooleanQuery(request, 'force');
        services.jobSchedules.delete(request.caller, id(request), request.conditions);
        return { status: 202 };
      },
    }),
    operation({
      id: 'Job_ListFromJobSchedule',
      method: 'GET',
      path: '/jobschedules/:jobScheduleId/jobs',
      handler(request) {
        const page = services.jobSchedules.listJobs(request.caller, id(request), pageQuery(request, 'jobs'));
        return listReply(request, 'jobs', page.items.map((job) => jobToWire(request, job)), page.continuation);
      },
    }),
  ];
}
