// Application operations: Application_List and Application_Get, answering
// Batch's ApplicationSummary {id, displayName, versions}. The packages behind
// them are registered by the server's operator (`lapis app add`); Batch's
// data plane has no operation that adds one.

import type { ApplicationService } from '../../../services/application-service.js';
import { operation, type Operation } from '../operation.js';
import { entityReply, listReply, pageQuery } from '../wire.js';

export function applicationOperations(services: { applications: ApplicationService }): Operation[] {
  return [
    operation({
      id: 'Application_List',
      method: 'GET',
      path: '/applications',
      handler(request) {
        // Batch takes maxresults here, but no $filter.
        const page = services.applications.list(request.caller, pageQuery(request, undefined));
        return listReply(request, 'applications', page.items, page.continuation);
      },
    }),
    operation({
      id: 'Application_Get',
      method: 'GET',
      path: '/applications/:applicationId',
      handler(request) {
        const { application, summary } = services.applications.get(request.caller, request.params.applicationId);
        return entityReply(request, 'applications', application, summary);
      },
    }),
  ];
}
