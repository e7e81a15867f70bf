// What starting and stopping did, in one log line each, with counts and ids:
// a restart's recovery (runs that ended while no server ran, tasks requeued
// because their runs were lost with the previous process, nodes started
// again) and a stop (the running tasks it ends, which the next start requeues).

import type { Logger } from 'pino';
import type { LapisEvent } from '../core/events.js';
import type { Store } from '../core/ports.js';
import type { EventLog } from './event-log.js';

/** At most this many ids in one line; the counts say how many there were. */
const IDS_SHOWN = 20;

function taskIds(events: LapisEvent[]): string[] {
  return events.slice(0, IDS_SHOWN).map((event) => `${event.account}/${event.jobId}/${event.taskId}`);
}

/** Runs `recover` (synchronous) and logs what its state changes were. */
export function recoverSaying(events: EventLog, logger: Logger, recover: () => void): void {
  const seen: LapisEvent[] = [];
  const listening = events.observe((event) => seen.push(event));
  try {
    recover();
  } finally {
    listening.close();
  }
  const requeued = seen.filter((event) => event.change === 'requeued');
  const completed = seen.filter((event) => event.resource === 'task' && event.state === 'completed');
  const nodes = new Set(seen.filter((event) => event.resource === 'node').map((event) => `${event.poolId}/${event.nodeId}`));
  if (requeued.length + completed.length + nodes.size === 0) return;
  logger.info(
    {
      requeuedTasks: requeued.length,
      requeued: taskIds(requeued),
      completedWhileStopped: completed.length,
      completed: taskIds(completed),
      nodesRestarted: nodes.size,
    },
    `recovered after restart: ${completed.length} task(s) completed while stopped, ${requeued.length} running task(s) requeued, ${nodes.size} node(s) starting again`,
  );
}

/** Logs, before a stop, the running tasks it ends with their nodes. */
export function sayWhatStopEnds(store: Store, logger: Logger): void {
  try {
    const running = store.tasks.listAllRunning();
    const nodes = new Set(running.map((record) => record.task.nodeInfo?.nodeId));
    logger.info(
      { runningTasks: running.length, tasks: running.slice(0, IDS_SHOWN).map((record) => `${record.account}/${record.jobId}/${record.task.id}`), nodes: store.nodes.listAll().length },
      running.length === 0
        ? 'stopping: no task is running'
        : `stopping: ${running.length} running task(s) on ${nodes.size} node(s) end now and are requeued at the next start`,
    );
  } catch (error) {
    logger.warn({ err: error }, 'stopping: the running tasks could not be read');
  }
}
