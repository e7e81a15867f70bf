// What the dashboard's handlers are given (mount.ts, dashboard-routes.ts).

import type { FaultInjection } from '../../core/faults.js';
import type { JobService } from '../../services/job-service.js';
import type { ServerInsight } from '../lapis/insight.js';
import type { DashboardSessions } from './sessions.js';

export interface DashboardOptions {
  sessions: DashboardSessions;
  /** For the overview's account summary (GET /ui/api/summary). */
  jobs: JobService;
  /** The event feed the dashboard's live updates stream. */
  insight: ServerInsight;
  /** The failure-injection faults (lapis serve --faults); without them the dashboard shows no fault buttons. */
  faults?: FaultInjection;
  /** Whether the endpoint is HTTPS: the cookie is then Secure. */
  secure: boolean;
}
