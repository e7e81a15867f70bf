// Downloads a task's resource files into its working directory: a single
// blob or web file (httpUrl), or every blob of a container (containerUrl,
// optionally under blobPrefix). A failure becomes the pre-processing
// failureInfo Batch reports (BlobNotFound, BlobAccessDenied, …).

import { ContainerClient } from '@azure/storage-blob';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TaskFailureInfo } from '../core/common.js';
import type { ResolvedResourceFile } from '../core/ports.js';

export class ResourceFileError extends Error {
  constructor(readonly failureInfo: TaskFailureInfo) {
    super(failureInfo.message);
  }
}

const DEFAULT_FILE_MODE = 0o770;

function failure(code: string, message: string, file: ResolvedResourceFile): ResourceFileError {
  const details = [{ name: 'FilePath', value: file.filePath ?? '' }];
  const source = file.httpUrl ?? file.containerUrl;
  if (source) details.push({ name: 'ResourceUrl', value: redactSas(source) });
  return new ResourceFileError({ category: 'usererror', code, message, details });
}

/** SAS signatures are secrets: never put them in a failure message. */
export function redactSas(url: string): string {
  return url.replace(/([?&]sig=)[^&]*/i, '$1REDACTED');
}

/** Resolves `filePath` inside `workingDirectory`, refusing anything that would escape it. */
function targetPath(workingDirectory: string, relative: string, file: ResolvedResourceFile): string {
  const target = path.resolve(workingDirectory, relative);
  const inside = path.relative(workingDirectory, target);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    throw failure('ResourceFileCreateFailed', `The resource file path '${relative}' is outside the task working directory.`, file);
  }
  return target;
}

async function save(body: ReadableStream<Uint8Array> | NodeJS.ReadableStream, target: string, mode: number, owner?: Owner): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const source = body instanceof ReadableStream ? Readable.fromWeb(body as import('node:stream/web').ReadableStream) : body;
  await pipeline(source, createWriteStream(target, { mode }));
  await fs.chmod(target, mode);
  if (owner) await fs.chown(target, owner.uid, owner.gid);
}

export interface Owner {
  uid: number;
  gid: number;
}

function modeOf(file: ResolvedResourceFile): number {
  if (!file.fileMode) return DEFAULT_FILE_MODE;
  const parsed = Number.parseInt(file.fileMode, 8);
  return Number.isNaN(parsed) ? DEFAULT_FILE_MODE : parsed & 0o7777;
}

async function downloadHttp(file: ResolvedResourceFile & { httpUrl: string }, workingDirectory: string, owner?: Owner): Promise<void> {
  const target = targetPath(workingDirectory, file.filePath ?? '', file);
  let response: Response;
  try {
    response = await fetch(file.httpUrl, { redirect: 'follow', signal: AbortSignal.timeout(15 * 60_000) });
  } catch (error) {
    throw failure('BlobDownloadMiscError', `Failed to download the resource file: ${(error as Error).message}`, file);
  }
  if (response.status === 404) throw failure('BlobNotFound', 'The specified blob does not exist.', file);
  if (response.status === 403 || response.status === 401) {
    throw failure('BlobAccessDenied', 'Access for one of the specified Azure Blob(s) is denied', file);
  }
  if (!response.ok || !response.body) throw failure('BlobDownloadMiscError', `The download failed with HTTP status ${response.status}.`, file);
  try {
    await save(response.body, target, modeOf(file), owner);
  } catch (error) {
    throw failure('ResourceFileWriteFailed', `Failed to write the resource file: ${(error as Error).message}`, file);
  }
}

async function downloadContainer(file: ResolvedResourceFile & { containerUrl: string }, workingDirectory: string, owner?: Owner): Promise<void> {
  const directory = file.filePath ? targetPath(workingDirectory, file.filePath, file) : workingDirectory;
  const container = new ContainerClient(file.containerUrl);
  try {
    for await (const blob of container.listBlobsFlat({ prefix: file.blobPrefix })) {
      const target = targetPath(directory, blob.name, file);
      const download = await container.getBlobClient(blob.name).download();
      if (!download.readableStreamBody) continue;
      await save(download.readableStreamBody, target, modeOf(file), owner);
    }
  } catch (error) {
    if (error instanceof ResourceFileError) throw error;
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) throw failure('ResourceContainerNotFound', 'The specified container does not exist.', file);
    if (status === 403 || status === 401) throw failure('ResourceContainerAccessDenied', 'Access to the specified container is denied.', file);
    throw failure('ResourceContainerListMiscError', `Failed to download the container's blobs: ${(error as Error).message}`, file);
  }
}

export async function downloadResourceFiles(files: ResolvedResourceFile[], workingDirectory: string, owner?: Owner): Promise<void> {
  for (const file of files) {
    if (file.httpUrl) await downloadHttp({ ...file, httpUrl: file.httpUrl }, workingDirectory, owner);
    else if (file.containerUrl) await downloadContainer({ ...file, containerUrl: file.containerUrl }, workingDirectory, owner);
  }
}
