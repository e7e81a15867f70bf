// `lapis logs JOB TASK [--follow]`: a task's stdout.txt (or stderr.txt) through
// the Batch file API. With --follow it keeps reading what the task appends
// while it runs (File_GetPropertiesFromTask for the length, then
// File_GetFromTask with an ocp-range for the new bytes only) until the task
// has completed and every byte is out.

import type { BatchServiceClient } from '@azure/batch';
import type { Command } from 'commander';
import { addConnectionOptions, asClientCommand, batchClient, type ConnectionOptions } from './batch-connection.js';

const POLL_MS = 250;

export function addLogsCommand(program: Command): void {
  addConnectionOptions(
    program
      .command('logs')
      .description("Print a task's stdout (or --stderr); --follow streams it while the task runs, until it completes.")
      .argument('<jobId>', 'the job')
      .argument('<taskId>', 'the task')
      .option('-f, --follow', 'keep printing what the task writes until it completes')
      .option('--stderr', 'stderr.txt instead of stdout.txt'),
  ).action(async (jobId: string, taskId: string, options: ConnectionOptions & { follow?: boolean; stderr?: boolean }) => {
    await asClientCommand(async () => printTaskOutput(await batchClient(options), jobId, taskId, options.stderr ? 'stderr.txt' : 'stdout.txt', options.follow === true, process.stdout));
  });
}

/** The file's length, or undefined while it does not exist (the task has not started). */
async function lengthOf(batch: BatchServiceClient, jobId: string, taskId: string, file: string): Promise<number | undefined> {
  try {
    return (await batch.file.getPropertiesFromTask(jobId, taskId, file)).contentLength;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

async function printTaskOutput(batch: BatchServiceClient, jobId: string, taskId: string, file: string, follow: boolean, out: NodeJS.WritableStream): Promise<void> {
  let offset = 0;
  for (;;) {
    // The state before the length: a task completed then has written all it will.
    const completed = (await batch.task.get(jobId, taskId)).state === 'completed';
    const length = await lengthOf(batch, jobId, taskId, file);
    if (length === undefined && !follow) throw new Error(`task ${taskId} has no ${file} yet (it has not started).`);
    if (length !== undefined && length > offset) {
      const response = await batch.file.getFromTask(jobId, taskId, file, { fileGetFromTaskOptions: { ocpRange: `bytes=${offset}-${length - 1}` } });
      for await (const chunk of response.readableStreamBody ?? []) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        offset += bytes.length;
        out.write(bytes);
      }
    }
    if (!follow || (completed && (length ?? 0) <= offset)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
