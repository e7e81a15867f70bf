// What Lapis tells about itself beside the Batch API, as the server provides
// it: state change events (GET /lapis/events), Prometheus metrics
// (GET /metrics) and the parts /health?detail=true lists.

import type { EventFeed } from '../../core/events.js';

export type PartStatus = 'up' | 'down';

export interface HealthDetail {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  store: { status: PartStatus; error?: string };
  blob: { status: PartStatus; endpoint: string; embedded: boolean; error?: string };
  /** `process` or `container` (--node-runtime), the engine when --container-engine names one, and every account's nodes by state. */
  nodeRuntime: { name: string; containerEngine?: string; nodes: Record<string, number> };
}

export interface ServerInsight {
  events: EventFeed;
  metrics(): Promise<{ contentType: string; text: string }>;
  health(): Promise<HealthDetail>;
  /** One API request answered: its Batch operation (or `Unmatched`), status and duration. */
  requestServed(operation: string, status: number, seconds: number): void;
}
