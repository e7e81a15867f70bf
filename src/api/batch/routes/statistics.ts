// Usage and lifetime statistics: Pool_ListUsageMetrics, and, until
// 2023-05-01.17.0 removed them, Pool_GetAllLifetimeStatistics and
// Job_GetAllLifetimeStatistics.

import { batchErrors } from '../../../core/errors.js';
import { matchesFilter } from '../../../core/odata/filter-eval.js';
import { operation, type BatchRequest, type Operation } from '../operation.js';
import type { BatchServices } from '../services.js';
import { listReply, metadataUrl, pageQuery } from '../wire.js';

function timeQuery(request: BatchRequest, name: string): Date | undefined {
  const text = request.query[name];
  if (text === undefined) return undefined;
  const time = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(time.getTime())) {
    throw batchErrors.invalidQueryParameterValue(name, text, 'The value must be an ISO-8601 date-time.');
  }
  return time;
}

export function statisticsOperations(services: BatchServices): Operation[] {
  return [
    operation({
      id: 'Pool_ListUsageMetrics',
      method: 'GET',
      path: '/poolusagemetrics',
      handler(request) {
        const page = pageQuery(request, 'poolUsageMetrics');
        const metrics = services.statistics
          .poolUsageMetrics(request.caller, { startTime: timeQuery(request, 'starttime'), endTime: timeQuery(request, 'endtime') })
          .filter((entry) => !page.filter || matchesFilter(page.filter, entry));
        const offset = Number(page.continuation ?? 0) || 0;
        const next = offset + page.maxResults < metrics.length ? String(offset + page.maxResults) : undefined;
        return listReply(request, 'poolusagemetrics', metrics.slice(offset, offset + page.maxResults), next);
      },
    }),
    operation({
      id: 'Pool_GetAllLifetimeStatistics',
      method: 'GET',
      path: '/lifetimepoolstats',
      until: '2023-05-01.17.0',
      handler(request) {
        return {
          status: 200,
          body: { 'odata.metadata': metadataUrl(request, 'poolstats/@Element'), url: `${request.baseUrl}/lifetimepoolstats`, ...services.statistics.poolLifetime(request.caller) },
        };
      },
    }),
    operation({
      id: 'Job_GetAllLifetimeStatistics',
      method: 'GET',
      path: '/lifetimejobstats',
      until: '2023-05-01.17.0',
      handler(request) {
        return {
          status: 200,
          body: { 'odata.metadata': metadataUrl(request, 'jobstats/@Element'), url: `${request.baseUrl}/lifetimejobstats`, ...services.statistics.jobLifetime(request.caller) },
        };
      },
    }),
  ];
}
