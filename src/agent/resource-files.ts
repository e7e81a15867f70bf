// Downloads a task's resource files into its working directory: a single
// blob or web file (httpUrl), or every blob of a container (containerUrl,
// optionally under blobPrefix). A failure becomes the pre-processing
// failureInfo Batch reports (BlobNotFound, BlobAccessDenied, …).

import path from 'node:path';
import { Readable } from 'node:stream';
import type { TaskFailureInfo } from '../core/common.js';
import { RESOURCE_FILE_FAILURES, type ResourceFileFailureCode } from '../core/faults.js';
import type { ResolvedResourceFile } from '../core/ports.js';
import { componentsUnder, withDirectory, writeFileReplacing } from './no-follow.js';

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

/**
 * Writes one file under the trusted `root` (the node root): every directory
 * on the way is opened without following links (missing ones are made and
 * given to the owner), and the file is written under a fresh name, given its
 * mode and owner through its descriptor, and renamed over the target, so a
 * link the task left in its place is replaced, never written through.
 */
async function save(body: ReadableStream<Uint8Array> | NodeJS.ReadableStream, target: string, mode: number, owner: Owner | undefined, root: string): Promise<void> {
  const components = componentsUnder(root, target);
  const name = components.pop();
  if (name === undefined) throw new Error(`'${target}' names no file`);
  const source = body instanceof ReadableStream ? Readable.fromWeb(body as import('node:stream/web').ReadableStream) : body;
  await withDirectory(root, components, (directory) => writeFileReplacing(directory, name, source, { mode, owner }), { owner });
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

async function downloadHttp(file: ResolvedResourceFile & { httpUrl: string }, workingDirectory: string, owner: Owner | undefined, root: string): Promise<void> {
  const target = targetPath(workingDirectory, file.filePath ?? '', file);
  let response: Response;
  try {
    response = await fetch(file.httpUrl, { redirect: 'follow', signal: AbortSignal.timeout(15 * 60_000) });
  } catch (error) {
    throw failure('BlobDownloadMiscError', `Failed to download the resource file: ${(error as Error).message}`, file);
  }
  if (response.status === 404) throw failure('BlobNotFound', RESOURCE_FILE_FAILURES.BlobNotFound, file);
  if (response.status === 403 || response.status === 401) {
    throw failure('BlobAccessDenied', RESOURCE_FILE_FAILURES.BlobAccessDenied, file);
  }
  if (!response.ok || !response.body) throw failure('BlobDownloadMiscError', `The download failed with HTTP status ${response.status}.`, file);
  try {
    await save(response.body, target, modeOf(file), owner, root);
  } catch (error) {
    throw failure('ResourceFileWriteFailed', `Failed to write the resource file: ${(error as Error).message}`, file);
  }
}

async function downloadContainer(file: ResolvedResourceFile & { containerUrl: string }, workingDirectory: string, owner: Owner | undefined, root: string): Promise<void> {
  const directory = file.filePath ? targetPath(workingDirectory, file.filePath, file) : workingDirectory;
  // Loaded when needed: an agent starts without the storage client.
  const { ContainerClient } = await import('@azure/storage-blob');
  const container = new ContainerClient(file.containerUrl);
  try {
    for await (const blob of container.listBlobsFlat({ prefix: file.blobPrefix })) {
      const target = targetPath(directory, blob.name, file);
      const download = await container.getBlobClient(blob.name).download();
      if (!download.readableStreamBody) continue;
      await save(download.readableStreamBody, target, modeOf(file), owner, root);
    }
  } catch (error) {
    if (error instanceof ResourceFileError) throw error;
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) throw failure('ResourceContainerNotFound', RESOURCE_FILE_FAILURES.ResourceContainerNotFound, file);
    if (status === 403 || status === 401) throw failure('ResourceContainerAccessDenied', RESOURCE_FILE_FAILURES.ResourceContainerAccessDenied, file);
    throw failure('ResourceContainerListMiscError', `Failed to download the container's blobs: ${(error as Error).message}`, file);
  }
}

/**
 * Downloads the files into `workingDirectory`. `root` is a trusted directory
 * above it (the node root; by default the working directory itself) from
 * which every directory on the way is opened without following links.
 * `injected` (lapis serve --faults) fails the first file's download with that code, as a real failure of it.
 */
export async function downloadResourceFiles(
  files: ResolvedResourceFile[],
  workingDirectory: string,
  owner?: Owner,
  root: string = workingDirectory,
  injected?: ResourceFileFailureCode,
): Promise<void> {
  for (const file of files) {
    if (injected) throw failure(injected, RESOURCE_FILE_FAILURES[injected], file);
    // A multi-instance task's commonResourceFiles go to the task directory, the parent of wd/.
    const directory = file.inTaskDirectory ? path.dirname(workingDirectory) : workingDirectory;
    if (file.httpUrl) await downloadHttp({ ...file, httpUrl: file.httpUrl }, directory, owner, root);
    else if (file.containerUrl) await downloadContainer({ ...file, containerUrl: file.containerUrl }, directory, owner, root);
  }
}
