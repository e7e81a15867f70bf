// A Lapis server whose nodes finish every run at once, for measuring the
// server alone: no agent, launcher or process, so what it spends per task is
// its own (REST, scheduler, store, recording outcomes), and its throughput is
// the ceiling the nodes' side can never raise. The nodes answer a run on a
// later turn of the event loop, all runs of a turn together, as agents'
// reports arrive. Prints the Batch URL and `ready`, as `lapis serve` does.
//
//   npx tsx bench/instant-nodes-server.ts --data DIR

import path from 'node:path';
import { parseArgs } from 'node:util';
import type { NodeEvents, NodeProvider, TaskRun } from '../src/core/ports.js';
import { reportedRunOf } from '../src/core/ports.js';
import { formatTimestamp } from '../src/core/time.js';
import { startTestServer } from '../src/testkit/test-server.js';

class InstantNodes implements NodeProvider {
  readonly name = 'instant';
  private pending: TaskRun[] = [];

  constructor(private readonly events: NodeEvents) {}

  async provisionNode(): Promise<void> {}
  async releaseNode(): Promise<void> {}
  async restartNode(): Promise<void> {}
  async stopTask(): Promise<void> {}
  nodeFiles(): undefined {
    return undefined;
  }
  async close(): Promise<void> {}

  runTask(run: TaskRun): void {
    this.pending.push(run);
    if (this.pending.length > 1) return;
    setImmediate(() => {
      const runs = this.pending;
      this.pending = [];
      const time = formatTimestamp(new Date());
      for (const ended of runs) void this.events.taskFinished({ run: reportedRunOf(ended), outcome: { exitCode: 0, startTime: time, endTime: time } });
    });
  }
}

const { values } = parseArgs({ options: { data: { type: 'string' } } });
const server = await startTestServer({
  dataDir: values.data ? path.resolve(values.data) : undefined,
  config: { logLevel: 'warn' },
  wrapProvider: (_build, events) => new InstantNodes(events),
});
console.log(`Batch URL: ${server.lapis.batchUrl}`);
console.log('ready');
const stop = () => void server.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
