// Task retention: a completed task's directory stays on its node for its
// constraints.retentionTime (7 days by default), then goes; its file APIs
// answer TaskFilesCleanedup from then on.

import { markFilesCleanedUp } from '../core/task.js';
import type { ServiceContext } from './context.js';
import { taskFilesOf, type TaskFiles } from './task-runs.js';

/** Task directories removed per sweep; the next sweep follows at once when more are due. */
const RETENTION_SWEEP_SIZE = 500;

export class TaskRetention {
  constructor(private readonly context: ServiceContext) {}

  /**
   * Removes the directories of completed tasks whose retention time ran out
   * (their file APIs then answer TaskFilesCleanedup). Returns the directories
   * to remove and when the next one is due (epoch ms).
   */
  cleanExpiredTasks(): { removeFiles: TaskFiles[]; nextWake?: number } {
    const { store } = this.context;
    const removeFiles: TaskFiles[] = [];
    store.transaction(() => {
      for (const record of store.tasks.listRetentionExpired(this.context.now().getTime(), RETENTION_SWEEP_SIZE)) {
        const files = taskFilesOf(record);
        if (files) removeFiles.push(files);
        store.tasks.update({ ...record, internal: markFilesCleanedUp(record.internal) });
      }
    });
    return { removeFiles, nextWake: store.tasks.nextRetentionTime() };
  }
}
