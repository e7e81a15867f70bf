// Uploads a task's output files when its process has ended, as Batch does:
// the files each OutputFile's filePattern names (output-file-patterns.ts)
// go to the container URL (a SAS URL) under `path` when the uploadCondition
// holds:
//
//   no wildcard:   path is the blob name (default: the file's name)
//   wildcards:     path is a virtual directory; each file keeps its path
//                  relative to the pattern's base (the part before the first
//                  wildcard), so `../std*.txt` with path `t1` gives
//                  `t1/stdout.txt` and `t1/stderr.txt`
//
// Progress goes to fileuploadout.txt and errors to fileuploaderr.txt in the
// task directory. The first failure becomes the task's failureInfo with one
// of Batch's codes (FileUploadContainerNotFound, FileUploadAccessDenied,
// FileUploadTimedOut, FileUploadMiscError).
//
// The logs are appended through descriptors opened from the node root
// without following links (no-follow.ts): a link the task put in their place
// makes the upload fail, never writes elsewhere.
//
// The agent reads files with more rights than the task had: each file is
// opened without following a final symlink, checked to be a regular file
// and, where /proc exists, checked again through its open descriptor to
// still lie inside the task directory.

// Types only: the client is loaded when a task has output files, so an agent starts without it.
import type { BlobHTTPHeaders, BlockBlobUploadStreamOptions, ContainerClient } from '@azure/storage-blob';
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import type { OutputFile, TaskFailureInfo } from '../core/common.js';
import { OUTPUT_FILE_FAILURES, type OutputFileFailureCode } from '../core/faults.js';
import { componentsUnder, openForAppend, withDirectory, type DirectoryHandle } from './no-follow.js';
import { collectOutputFiles, inside, OutputPatternError, type Collection, type TaskPaths } from './output-file-patterns.js';
import { redactSas } from './resource-files.js';

export const FILE_UPLOAD_CODES = {
  containerNotFound: 'FileUploadContainerNotFound',
  accessDenied: 'FileUploadAccessDenied',
  timedOut: 'FileUploadTimedOut',
  misc: 'FileUploadMiscError',
} as const;

const MESSAGES: Record<string, string> = OUTPUT_FILE_FAILURES;

const UPLOAD_TIMEOUT_MS = 30 * 60_000;
const UPLOAD_BLOCK_SIZE = 4 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;

/** Put Blob request headers as the SDK takes them; the rest are reported as ignored. */
export function blobOptionsFromHeaders(headers: { name: string; value?: string }[] | undefined): {
  options: Pick<BlockBlobUploadStreamOptions, 'blobHTTPHeaders' | 'metadata' | 'tags' | 'tier'>;
  ignored: string[];
} {
  const http: BlobHTTPHeaders = {};
  const metadata: Record<string, string> = {};
  const tags: Record<string, string> = {};
  let tier: string | undefined;
  const ignored: string[] = [];
  for (const header of headers ?? []) {
    const name = header.name.trim().toLowerCase();
    const value = header.value ?? '';
    const bare = name.startsWith('x-ms-blob-') ? name.slice('x-ms-blob-'.length) : name;
    if (bare === 'content-type') http.blobContentType = value;
    else if (bare === 'content-encoding') http.blobContentEncoding = value;
    else if (bare === 'content-language') http.blobContentLanguage = value;
    else if (bare === 'content-disposition') http.blobContentDisposition = value;
    else if (bare === 'cache-control') http.blobCacheControl = value;
    else if (bare === 'content-md5') http.blobContentMD5 = Buffer.from(value, 'base64');
    else if (name.startsWith('x-ms-meta-') && name.length > 'x-ms-meta-'.length) metadata[header.name.trim().slice('x-ms-meta-'.length)] = value;
    else if (name === 'x-ms-tags') for (const [key, tagValue] of new URLSearchParams(value)) tags[key] = tagValue;
    else if (name === 'x-ms-access-tier') tier = value;
    else ignored.push(header.name);
  }
  const options: Pick<BlockBlobUploadStreamOptions, 'blobHTTPHeaders' | 'metadata' | 'tags' | 'tier'> = { blobHTTPHeaders: http };
  if (Object.keys(metadata).length > 0) options.metadata = metadata;
  if (Object.keys(tags).length > 0) options.tags = tags;
  if (tier) options.tier = tier;
  return { options, ignored };
}

/** Whether an OutputFile is uploaded for a process that ended this way. */
export function shouldUpload(condition: OutputFile['uploadOptions']['uploadCondition'], processFailed: boolean): boolean {
  const normalized = condition.toLowerCase();
  if (normalized === 'tasksuccess') return !processFailed;
  if (normalized === 'taskfailure') return processFailed;
  return true;
}

/** A URL fit for a log: no query string at all, so no SAS. */
function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

function timestamp(date: Date): string {
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())},${pad(date.getUTCMilliseconds(), 3)}`
  );
}

/** An upload log: appended through a descriptor opened without following links (or dropped when it could not be). */
class UploadLog {
  private chain: Promise<void> = Promise.resolve();
  private handle: FileHandle | undefined;

  constructor(private readonly clock: () => Date) {}

  /** Opens (creating) the log in the task directory, so an empty error log still tells that uploads ran. */
  async open(directory: DirectoryHandle, name: string): Promise<void> {
    this.handle = await openForAppend(directory, name, 0o644);
  }

  write(line: string): void {
    this.append(`${timestamp(this.clock())} ${line}\n`);
  }

  writeRaw(line: string): void {
    this.append(`${line}\n`);
  }

  private append(text: string): void {
    const handle = this.handle;
    if (!handle) return;
    this.chain = this.chain.then(() => handle.appendFile(text)).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.chain;
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }
}

interface UploadError {
  code: string;
  storageCode?: string;
  detail: string;
}

function classify(error: unknown, signal: AbortSignal): UploadError {
  const rest = error as { statusCode?: number; code?: string; details?: { errorCode?: string }; name?: string; message?: string };
  const storageCode = rest.details?.errorCode ?? (typeof rest.code === 'string' ? rest.code : undefined);
  const detail = rest.message ?? String(error);
  if (rest.name === 'AbortError' || signal.aborted) return { code: FILE_UPLOAD_CODES.timedOut, storageCode, detail };
  if (rest.statusCode === 404) return { code: FILE_UPLOAD_CODES.containerNotFound, storageCode, detail };
  if (rest.statusCode === 403 || rest.statusCode === 401) return { code: FILE_UPLOAD_CODES.accessDenied, storageCode, detail };
  return { code: FILE_UPLOAD_CODES.misc, storageCode, detail };
}

/** Opens a collected file for reading, refusing anything that changed into something else since it was checked. */
async function openConfined(source: string, realTaskDirectory: string): Promise<FileHandle> {
  // O_NOFOLLOW: a final symlink swapped in fails; O_NONBLOCK: a FIFO swapped in cannot hang the agent.
  const handle = await fs.open(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error(`'${source}' is no longer a regular file`);
    const opened = await fs.readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (opened !== undefined && !inside(realTaskDirectory, opened)) throw new Error(`'${source}' no longer lies inside the task directory`);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export interface UploadRequest extends TaskPaths {
  outputFiles: OutputFile[];
  /** True when the process exited non-zero or the run failed (e.g. maxWallClockTime). */
  processFailed: boolean;
  clock: () => Date;
  /** Aborts the uploads (the task was stopped). */
  signal?: AbortSignal;
  /** Per-file upload timeout; FileUploadTimedOut when it passes. */
  timeoutMs?: number;
  /**
   * A trusted directory above the task directory (the node root): the logs
   * are opened from it without following links. Default: the task directory.
   */
  nodeRoot?: string;
  /** lapis serve --faults: the first upload fails with this code, as a real failure of it does (logs, failure info). */
  injected?: OutputFileFailureCode;
}

/**
 * Uploads what the task's OutputFiles name, as their conditions say. Returns
 * the failureInfo of the first failure, or undefined when all went well.
 * Writes fileuploadout.txt and fileuploaderr.txt in the task directory.
 */
export async function uploadOutputFiles(request: UploadRequest): Promise<TaskFailureInfo | undefined> {
  if (request.outputFiles.length === 0) return undefined;
  const out = new UploadLog(request.clock);
  const err = new UploadLog(request.clock);
  try {
    const root = request.nodeRoot ?? request.taskDirectory;
    // The task may have left links in its directory: the logs are never written through one.
    await withDirectory(root, componentsUnder(root, request.taskDirectory), async (directory) => {
      await out.open(directory, 'fileuploadout.txt');
      await err.open(directory, 'fileuploaderr.txt');
    });
    return await uploadAll(request, out, err);
  } catch (error) {
    // Nothing unexpected (an unreadable task directory, a full disk) may lose the outcome.
    const message = (error as Error).message;
    err.writeRaw(JSON.stringify({ code: 'InternalError', user_error: false, message }));
    return { category: 'usererror', code: FILE_UPLOAD_CODES.misc, message: `${MESSAGES[FILE_UPLOAD_CODES.misc]}: ${message}` };
  } finally {
    await Promise.all([out.close(), err.close()]);
  }
}

async function uploadAll(request: UploadRequest, out: UploadLog, err: UploadLog): Promise<TaskFailureInfo | undefined> {
  let failure: TaskFailureInfo | undefined;
  const realTaskDirectory = await fs.realpath(request.taskDirectory);
  const fail = (code: string, spec: OutputFile, file: string | undefined, destination: string, problem: UploadError | string): void => {
    const detail = typeof problem === 'string' ? problem : problem.detail;
    err.writeRaw(
      JSON.stringify({
        code: typeof problem === 'string' ? code : (problem.storageCode ?? code),
        user_error: true,
        pattern: spec.filePattern,
        file,
        destination,
        message: detail.split('\n')[0],
      }),
    );
    out.write(`Failed: ${MESSAGES[code] ?? detail}: ${detail.split('\n')[0]}`);
    failure ??= {
      category: 'usererror',
      code,
      message: MESSAGES[code] ?? detail,
      details: [
        { name: 'FilePattern', value: spec.filePattern },
        { name: 'ContainerUrl', value: redactSas(spec.destination.container.containerUrl) },
      ],
    };
  };

  for (const spec of request.outputFiles) {
    if (request.signal?.aborted) break;
    const condition = spec.uploadOptions?.uploadCondition ?? 'taskcompletion';
    const containerUrl = spec.destination.container.containerUrl;
    const containerForLog = withoutQuery(containerUrl);
    if (!shouldUpload(condition, request.processFailed)) {
      out.write(`Skipping pattern ${spec.filePattern}: upload condition ${condition} not met (task ${request.processFailed ? 'failed' : 'succeeded'})`);
      continue;
    }
    let collection: Collection;
    try {
      collection = await collectOutputFiles({ filePattern: spec.filePattern, path: spec.destination.container.path }, request);
    } catch (error) {
      const detail = error instanceof OutputPatternError ? error.message : `Could not resolve the file pattern: ${(error as Error).message}`;
      fail(FILE_UPLOAD_CODES.misc, spec, undefined, containerForLog, detail);
      continue;
    }
    out.write(
      `Resolved mapping - base_path: ${collection.basePath}, full_pattern: ${collection.fullPattern}, original_pattern: ${spec.filePattern}, destination: ${containerForLog}${
        spec.destination.container.path ? ` path: ${spec.destination.container.path}` : ''
      }`,
    );
    for (const skipped of collection.skipped) out.write(`Not uploading ${skipped.file}: ${skipped.reason}`);
    if (collection.files.length === 0) {
      out.write(`No files matched pattern ${collection.fullPattern}`);
      continue;
    }
    const { options, ignored } = blobOptionsFromHeaders(spec.destination.container.uploadHeaders);
    for (const name of ignored) out.write(`Ignoring upload header ${name}: not a Put Blob header Lapis applies`);
    let container: ContainerClient;
    try {
      const { AnonymousCredential, ContainerClient } = await import('@azure/storage-blob');
      container = new ContainerClient(containerUrl, new AnonymousCredential(), { retryOptions: { maxTries: 3 } });
    } catch (error) {
      fail(FILE_UPLOAD_CODES.misc, spec, undefined, containerForLog, `The container URL is not valid: ${(error as Error).message}`);
      continue;
    }
    out.write(`Uploading ${collection.files.length} file(s) matching pattern ${collection.fullPattern}`);
    for (const file of collection.files) {
      if (request.signal?.aborted) break;
      const destination = `${containerForLog}/${file.blobName}`;
      const timeout = AbortSignal.timeout(request.timeoutMs ?? UPLOAD_TIMEOUT_MS);
      const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
      let handle: FileHandle;
      try {
        handle = await openConfined(file.source, realTaskDirectory);
      } catch (error) {
        out.write(`Not uploading ${file.source}: ${(error as Error).message}`);
        continue;
      }
      try {
        if (request.injected) {
          fail(request.injected, spec, file.source, destination, `${MESSAGES[request.injected]} (injected fault)`);
          break;
        }
        const size = (await handle.stat()).size;
        const started = Date.now();
        await container
          .getBlockBlobClient(file.blobName)
          .uploadStream(handle.createReadStream({ autoClose: false }), UPLOAD_BLOCK_SIZE, UPLOAD_CONCURRENCY, { ...options, abortSignal: signal });
        out.write(`Uploaded ${file.source} to ${destination} (${size} bytes in ${Date.now() - started} ms)`);
      } catch (error) {
        if (request.signal?.aborted) break;
        const problem = classify(error, timeout);
        fail(problem.code, spec, file.source, destination, problem);
        // The container is missing or refuses us: the other files of this pattern would fail alike.
        break;
      } finally {
        await handle.close().catch(() => undefined);
      }
    }
  }
  out.write(failure ? `Upload finished with an error: ${failure.code}` : 'Upload finished');
  return failure;
}
