// The Azure Batch Python quickstart, ported to TypeScript with only the
// official SDKs (@azure/batch and @azure/storage-blob). It runs unchanged
// against Azure Batch or Lapis: only the endpoints and keys differ.

import { BatchServiceClient, BatchSharedKeyCredentials, type BatchServiceModels } from '@azure/batch';
import { BlobSASPermissions, BlobServiceClient, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';

export interface QuickstartSettings {
  batchUrl: string;
  batchAccount: string;
  batchKey: string;
  /** The storage account URL, e.g. https://<account>.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1. */
  blobUrl: string;
  storageAccount: string;
  storageKey: string;
  log?: (line: string) => void;
}

const POOL_ID = 'QuickstartPool';
const JOB_ID = 'QuickstartJob';
const CONTAINER = 'input';
const POOL_NODE_COUNT = 2;
const POOL_VM_SIZE = 'STANDARD_DS1_V2';
const TIMEOUT_MS = 30 * 60_000;

export const INPUT_FILES: Record<string, string> = {
  'taskdata0.txt': 'The first input file: a small pool of two nodes reads three files.\n',
  'taskdata1.txt': 'The second input file: each task runs /bin/bash -c "cat <file>".\n',
  'taskdata2.txt': 'The third input file: every task prints its file to stdout.txt.\n',
};

function formatElapsed(ms: number): string {
  const total = ms / 1000;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = (total % 60).toFixed(6).padStart(9, '0');
  return `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`;
}

async function streamToString(body: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!body) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs the quickstart; resolves true only if every task succeeded and printed its file. */
export async function runQuickstart(settings: QuickstartSettings): Promise<boolean> {
  const log = settings.log ?? ((line: string) => console.log(line));
  const started = new Date();
  log(`Sample start: ${started.toISOString().replace('T', ' ').replace('Z', '')}`);
  log('');

  const storageCredential = new StorageSharedKeyCredential(settings.storageAccount, settings.storageKey);
  const blobService = new BlobServiceClient(settings.blobUrl, storageCredential);
  const container = blobService.getContainerClient(CONTAINER);
  await container.createIfNotExists();

  const inputFiles: BatchServiceModels.ResourceFile[] = [];
  for (const [name, text] of Object.entries(INPUT_FILES)) {
    log(`Uploading file ${name} to container [${CONTAINER}]...`);
    await container.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
    const sas = generateBlobSASQueryParameters(
      { containerName: CONTAINER, blobName: name, permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 2 * 3_600_000) },
      storageCredential,
    ).toString();
    inputFiles.push({ httpUrl: `${container.getBlockBlobClient(name).url}?${sas}`, filePath: name });
  }

  const batch = new BatchServiceClient(new BatchSharedKeyCredentials(settings.batchAccount, settings.batchKey), settings.batchUrl);
  let succeeded = true;
  try {
    log(`Creating pool [${POOL_ID}]...`);
    await batch.pool.add({
      id: POOL_ID,
      virtualMachineConfiguration: {
        imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-focal', sku: '20_04-lts', version: 'latest' },
        nodeAgentSKUId: 'batch.node.ubuntu 20.04',
      },
      vmSize: POOL_VM_SIZE,
      targetDedicatedNodes: POOL_NODE_COUNT,
    });

    log(`Creating job [${JOB_ID}]...`);
    await batch.job.add({ id: JOB_ID, poolInfo: { poolId: POOL_ID } });

    log(`Adding ${inputFiles.length} tasks to job [${JOB_ID}]...`);
    const tasks: BatchServiceModels.TaskAddParameter[] = inputFiles.map((file, index) => ({
      id: `Task${index}`,
      commandLine: `/bin/bash -c "cat ${file.filePath}"`,
      resourceFiles: [file],
    }));
    const added = await batch.task.addCollection(JOB_ID, tasks);
    for (const result of added.value ?? []) {
      if (result.status !== 'success') throw new Error(`Task ${result.taskId} was not added: ${result.error?.message?.value}`);
    }

    const deadline = Date.now() + TIMEOUT_MS;
    process.stdout.write("Monitoring all tasks for 'Completed' state, timeout in 00:30:00...");
    for (;;) {
      const listed = await batch.task.list(JOB_ID);
      if (listed.every((task) => task.state === 'completed')) break;
      if (Date.now() > deadline) throw new Error('ERROR: Tasks did not reach \'Completed\' state within timeout period of 00:30:00');
      process.stdout.write('.');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    log('');
    log("  Success! All tasks reached the 'Completed' state within the specified timeout period.");

    log('Printing task output...');
    for (const task of await batch.task.list(JOB_ID)) {
      const nodeId = task.nodeInfo?.nodeId;
      log(`Task: ${task.id}`);
      log(`Node: ${nodeId}`);
      const output = await streamToString((await batch.file.getFromTask(JOB_ID, task.id as string, 'stdout.txt')).readableStreamBody);
      log('Standard output:');
      log(output);
      const expected = INPUT_FILES[tasks.find((candidate) => candidate.id === task.id)?.resourceFiles?.[0]?.filePath ?? ''];
      if (task.executionInfo?.result !== 'success' || output !== expected) succeeded = false;
    }
  } finally {
    const ended = new Date();
    log(`Sample end: ${ended.toISOString().replace('T', ' ').replace('Z', '')}`);
    log(`Elapsed time: ${formatElapsed(ended.getTime() - started.getTime())}`);
    log('');
    await batch.job.deleteMethod(JOB_ID).catch(() => undefined);
    await batch.pool.deleteMethod(POOL_ID).catch(() => undefined);
    await container.deleteIfExists();
  }
  return succeeded;
}
