// @azure/batch calls the sections share: pools of a given slot count, jobs,
// parallel addCollection, waiting on task counts, paging through a list.

import type { BatchServiceClient, BatchServiceModels } from '@azure/batch';
import { poolSpec } from '../src/testkit/builders.js';
import { inParallel, sleep } from './stats.js';

/** addCollection takes at most 100 tasks a request, as on Azure. */
export const COLLECTION_LIMIT = 100;

export async function waitUntil<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A pool of `nodes` nodes × `slotsPerNode` task slots, waited on until every node is idle. */
export async function addPool(batch: BatchServiceClient, id: string, nodes: number, slotsPerNode: number, timeoutMs = 120_000): Promise<void> {
  await batch.pool.add(poolSpec(id, { targetDedicatedNodes: nodes, taskSlotsPerNode: slotsPerNode }));
  if (nodes === 0) return;
  await waitUntil(
    async () => {
      const pool = await batch.pool.get(id);
      if (pool.allocationState !== 'steady') return undefined;
      const list = await batch.computeNode.list(id);
      return list.length === nodes && list.every((node) => node.state === 'idle') ? true : undefined;
    },
    `pool ${id} to have ${nodes} idle nodes`,
    timeoutMs,
    50,
  );
}

/** Splits S total slots into nodes × slots per node (at most 8 slots a node, nodes a power of two). */
export function slotLayout(totalSlots: number): { nodes: number; slotsPerNode: number } {
  if (totalSlots <= 2) return { nodes: 1, slotsPerNode: totalSlots };
  let nodes = 1;
  while (totalSlots / nodes > 8 && totalSlots % (nodes * 2) === 0) nodes *= 2;
  if (nodes === 1 && totalSlots % 2 === 0) nodes = 2;
  return { nodes, slotsPerNode: Math.ceil(totalSlots / nodes) };
}

export function trivialTasks(count: number, prefix = 't', commandLine = '/bin/true'): BatchServiceModels.TaskAddParameter[] {
  return Array.from({ length: count }, (_, index) => ({ id: `${prefix}${index}`, commandLine }));
}

/** Adds tasks with addCollection, `parallel` requests of up to 100 at once; throws on any task not added. */
export async function addTasks(batch: BatchServiceClient, jobId: string, tasks: BatchServiceModels.TaskAddParameter[], parallel: number): Promise<void> {
  const chunks: BatchServiceModels.TaskAddParameter[][] = [];
  for (let index = 0; index < tasks.length; index += COLLECTION_LIMIT) chunks.push(tasks.slice(index, index + COLLECTION_LIMIT));
  await inParallel(chunks, parallel, async (chunk) => {
    const result = await batch.task.addCollection(jobId, chunk);
    const failed = (result.value ?? []).filter((entry) => entry.status !== 'success');
    if (failed.length > 0) throw new Error(`${failed.length} tasks were not added: ${failed[0]?.error?.message?.value ?? failed[0]?.status}`);
  });
}

/** Polls getTaskCounts until `completed` reaches `total`; resolves with the counts. */
export async function waitForCompleted(batch: BatchServiceClient, jobId: string, total: number, timeoutMs: number, intervalMs = 20): Promise<BatchServiceModels.TaskCounts> {
  return waitUntil(
    async () => {
      const counts = (await batch.job.getTaskCounts(jobId)).taskCounts;
      return counts && counts.completed >= total ? counts : undefined;
    },
    `${total} tasks of job ${jobId} to complete`,
    timeoutMs,
    intervalMs,
  );
}

/** Lists every task of a job through its pages; resolves with how many were listed and the pages. */
export async function listAll(batch: BatchServiceClient, jobId: string, options: BatchServiceModels.TaskListOptions = {}): Promise<{ tasks: number; pages: number }> {
  let page = await batch.task.list(jobId, { taskListOptions: { maxResults: 1000, ...options } });
  let tasks = page.length;
  let pages = 1;
  while (page.odatanextLink) {
    page = await batch.task.listNext(page.odatanextLink);
    tasks += page.length;
    pages++;
  }
  return { tasks, pages };
}
