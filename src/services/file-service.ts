// Task file use cases: read, properties, list and delete, on the node that
// ran the task. Paths are relative to the task directory and never leave it
// (the node's file system port enforces that).

import { batchErrors } from '../core/errors.js';
import type { ByteRange, NodeFileEntry, NodeFileSystem } from '../core/ports.js';
import type { Task } from '../core/task.js';
import type { Caller, ServiceContext } from './context.js';
import type { TaskService } from './task-service.js';

export interface TaskFileLocation {
  task: Task;
  files: NodeFileSystem;
  /** The task directory, relative to the node root. */
  root: string;
}

export class FileService {
  constructor(
    private readonly context: ServiceContext,
    private readonly tasks: TaskService,
  ) {}

  private locate(caller: Caller, jobId: string, taskId: string): TaskFileLocation {
    const { task } = this.tasks.findTask(caller, jobId, taskId);
    if (task.state === 'active' && !task.nodeInfo) throw batchErrors.taskFilesUnavailable();
    const nodeInfo = task.nodeInfo;
    if (!nodeInfo) throw batchErrors.taskNotScheduled();
    const files = this.context.deps.provider.nodeFiles({ account: caller.account, poolId: nodeInfo.poolId, nodeId: nodeInfo.nodeId });
    if (!files) throw batchErrors.nodeNotFound();
    return { task, files, root: nodeInfo.taskRootDirectory };
  }

  async properties(caller: Caller, jobId: string, taskId: string, path: string): Promise<NodeFileEntry> {
    const { files, root } = this.locate(caller, jobId, taskId);
    const entry = await files.stat(join(root, path));
    if (!entry) throw batchErrors.fileNotFound();
    return entry;
  }

  async read(caller: Caller, jobId: string, taskId: string, path: string, range?: ByteRange) {
    const { files, root } = this.locate(caller, jobId, taskId);
    return files.read(join(root, path), range);
  }

  async list(caller: Caller, jobId: string, taskId: string, recursive: boolean): Promise<NodeFileEntry[]> {
    const { files, root } = this.locate(caller, jobId, taskId);
    return files.list(root, recursive);
  }

  async delete(caller: Caller, jobId: string, taskId: string, path: string, recursive: boolean): Promise<void> {
    const { files, root } = this.locate(caller, jobId, taskId);
    await files.delete(join(root, path), recursive);
  }
}

function join(root: string, path: string): string {
  return `${root}/${path}`;
}
