// Builders and waits shared by the integration tests.

import type { BatchServiceClient, BatchServiceModels } from '@azure/batch';
import { randomUUID } from 'node:crypto';
import { waitFor } from './test-server.js';

/** A unique id with a readable prefix, so tests never collide. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function poolSpec(id: string, overrides: Partial<BatchServiceModels.PoolAddParameter> = {}): BatchServiceModels.PoolAddParameter {
  return {
    id,
    vmSize: 'STANDARD_DS1_V2',
    virtualMachineConfiguration: {
      imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-focal', sku: '20_04-lts', version: 'latest' },
      nodeAgentSKUId: 'batch.node.ubuntu 20.04',
    },
    targetDedicatedNodes: 1,
    ...overrides,
  };
}

/** Adds a pool and waits until it is steady with every node idle. */
export async function addPoolAndWait(
  batch: BatchServiceClient,
  id: string,
  overrides: Partial<BatchServiceModels.PoolAddParameter> = {},
): Promise<BatchServiceModels.CloudPool> {
  await batch.pool.add(poolSpec(id, overrides));
  return waitForPoolSteady(batch, id);
}

export async function waitForPoolSteady(batch: BatchServiceClient, id: string, timeoutMs?: number): Promise<BatchServiceModels.CloudPool> {
  return waitFor(
    async () => {
      const pool = await batch.pool.get(id);
      if (pool.allocationState !== 'steady') return undefined;
      const nodes = await batch.computeNode.list(id);
      return nodes.every((node) => node.state === 'idle' || node.state === 'running') ? pool : undefined;
    },
    { what: `pool ${id} to be steady`, timeoutMs },
  );
}

export async function waitForTaskState(
  batch: BatchServiceClient,
  jobId: string,
  taskId: string,
  state: BatchServiceModels.TaskState,
  timeoutMs = 30_000,
): Promise<BatchServiceModels.CloudTask> {
  return waitFor(
    async () => {
      const task = await batch.task.get(jobId, taskId);
      return task.state === state ? task : undefined;
    },
    { what: `task ${taskId} to be ${state}`, timeoutMs },
  );
}

export async function readStream(body: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!body) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}

/** Asserts a rejected SDK call carries Batch's code and HTTP status. */
export function batchError(code: string, statusCode: number) {
  return (error: unknown): boolean => {
    const rest = error as { code?: string; statusCode?: number };
    if (rest.code !== code || rest.statusCode !== statusCode) {
      throw new Error(`expected ${statusCode} ${code}, got ${rest.statusCode} ${rest.code}: ${(error as Error).message}`);
    }
    return true;
  };
}

/** Asserts a rejected SDK call has this HTTP status; for HEAD and streamed reads, whose error bodies the SDK does not parse. */
export function httpError(statusCode: number) {
  return (error: unknown): boolean => {
    const rest = error as { statusCode?: number };
    if (rest.statusCode !== statusCode) throw new Error(`expected ${statusCode}, got ${rest.statusCode}: ${(error as Error).message}`);
    return true;
  };
}

/** Whether a process of this id exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
