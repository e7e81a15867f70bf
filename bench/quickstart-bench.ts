// 1. quickstart: the Azure Batch quickstart flow through @azure/batch and
// @azure/storage-blob (examples/quickstart: upload three files, pool of two
// nodes, job, three tasks, wait for completed, read each stdout, clean up),
// against an in-process Lapis, timed end to end, 10 runs. Beside it: Azure's
// own figure for the same flow, about 3 minutes (most of it pool allocation).

import fs from 'node:fs';
import { defaultConfig } from '../src/config/config.js';
import { startLapis } from '../src/server/lapis-server.js';
import { runQuickstart } from '../examples/quickstart/quickstart.js';
import { batchClient } from './server-process.js';
import type { BenchContext } from './context.js';
import { figure, type SectionResult } from './figures.js';
import { waitUntil } from './batch-helpers.js';
import { now, round, spread } from './stats.js';

/** Azure's figure for the quickstart: "about 3 minutes", most of it allocating the pool's VMs. */
export const AZURE_QUICKSTART_MS = 180_000;

/** The quickstart writes its progress dots straight to stdout; keep the bench's output readable. */
async function withoutStdout<T>(work: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await work();
  } finally {
    process.stdout.write = write;
  }
}

export async function quickstartSection(context: BenchContext): Promise<SectionResult> {
  const started = now();
  const dataDir = context.directory('quickstart');
  const config = { ...defaultConfig(), port: 0, blob: { ...defaultConfig().blob, port: 0 }, dataDir, logLevel: 'warn' };
  const lapis = await startLapis(config);
  const account = config.accounts[0]!;
  const settings = {
    batchUrl: lapis.batchUrl,
    batchAccount: account.name,
    batchKey: account.key,
    blobUrl: lapis.storageAccountUrl,
    storageAccount: config.blob.accountName,
    storageKey: config.blob.accountKey,
    log: () => undefined,
  };
  const batch = batchClient(lapis.batchUrl);
  const runs: number[] = [];
  try {
    for (let run = 0; run < context.options.quickstartRuns; run++) {
      const begin = now();
      const ok = await withoutStdout(() => runQuickstart(settings));
      const ms = now() - begin;
      if (!ok) throw new Error(`quickstart run ${run + 1} did not succeed`);
      runs.push(ms);
      // The flow deletes its pool and job at the end; the next run reuses their ids, so wait until they are gone (not timed).
      await waitUntil(
        async () => {
          const pools = await batch.pool.list();
          const jobs = await batch.job.list();
          return pools.length === 0 && jobs.length === 0 ? true : undefined;
        },
        'the quickstart pool and job to be deleted',
        60_000,
      );
    }
  } finally {
    await lapis.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const stats = spread(runs);
  context.log(`  quickstart: median ${round(stats.median)} ms (min ${round(stats.min)}, max ${round(stats.max)}) over ${stats.n} runs; Azure ≈ ${AZURE_QUICKSTART_MS / 1000} s`);
  return {
    section: 'quickstart',
    seconds: (now() - started) / 1000,
    figures: [
      figure({
        section: 'quickstart',
        id: 'quickstart.median',
        label: `quickstart end to end, median of ${stats.n} (min ${round(stats.min)}, max ${round(stats.max)} ms)`,
        unit: 'ms',
        lapis: stats.median,
        baseline: AZURE_QUICKSTART_MS,
        baselineLabel: 'Azure Batch (published, ~3 min)',
        better: 'lower',
        target: { text: '≤ 1 s', met: stats.median <= 1000 },
      }),
    ],
    details: { runsMs: runs, spread: stats, azureMs: AZURE_QUICKSTART_MS },
    notes: [
      'The quickstart polls the task list every 250 ms (as the Azure sample does), so a run is never shorter than one poll interval past the last task.',
    ],
  };
}
