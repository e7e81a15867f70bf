// File use cases: read, properties, list and delete, in a task's directory
// on the node that ran it, or anywhere in a node's directory. Paths never
// leave the node's directory (the node's file system port enforces that).

import { batchErrors } from '../core/errors.js';
import type { ByteRange, NodeFileEntry, NodeFileSystem } from '../core/ports.js';
import type { TaskWithInternal } from '../core/task.js';
import type { Caller, ServiceContext } from './context.js';
import type { TaskService } from './task-service.js';

/** Where file paths of a request are resolved: a task's directory, or a node's root. */
export type FileScope = { kind: 'task'; jobId: string; taskId: string } | { kind: 'node'; poolId: string; nodeId: string };

interface FileLocation {
  files: NodeFileSystem;
  /** The directory paths are relative to, itself relative to the node root. */
  root: string;
}

export class FileService {
  constructor(
    private readonly context: ServiceContext,
    private readonly tasks: TaskService,
  ) {}

  private locate(caller: Caller, scope: FileScope): FileLocation {
    if (scope.kind === 'node') {
      const { store } = this.context;
      if (!store.pools.get(caller.account, scope.poolId)) throw batchErrors.poolNotFound();
      const record = store.nodes.get(caller.account, scope.poolId, scope.nodeId);
      if (!record) throw batchErrors.nodeNotFound();
      const files = this.context.deps.provider.nodeFiles({ account: caller.account, poolId: record.poolId, nodeId: record.node.id });
      if (!files) throw batchErrors.nodeNotFound();
      return { files, root: '' };
    }
    return this.taskLocation(caller, this.tasks.findTask(caller, scope.jobId, scope.taskId));
  }

  private taskLocation(caller: Caller, { task, internal }: TaskWithInternal): FileLocation {
    if (task.state === 'active' && !task.nodeInfo) throw batchErrors.taskFilesUnavailable();
    if (internal.filesCleanedUp) throw batchErrors.taskFilesCleanedup();
    const nodeInfo = task.nodeInfo;
    if (!nodeInfo) throw batchErrors.taskNotScheduled();
    const files = this.context.deps.provider.nodeFiles({ account: caller.account, poolId: nodeInfo.poolId, nodeId: nodeInfo.nodeId });
    if (!files) throw batchErrors.nodeNotFound();
    return { files, root: nodeInfo.taskRootDirectory };
  }

  async properties(caller: Caller, scope: FileScope, path: string): Promise<NodeFileEntry> {
    const { files, root } = this.locate(caller, scope);
    const entry = await files.stat(join(root, path));
    if (!entry) throw batchErrors.fileNotFound();
    return entry;
  }

  async read(caller: Caller, scope: FileScope, path: string, range?: ByteRange) {
    const { files, root } = this.locate(caller, scope);
    return files.read(join(root, path), range);
  }

  async list(caller: Caller, scope: FileScope, recursive: boolean): Promise<NodeFileEntry[]> {
    const { files, root } = this.locate(caller, scope);
    return files.list(root, recursive);
  }

  async delete(caller: Caller, scope: FileScope, path: string, recursive: boolean): Promise<void> {
    const { files, root } = this.locate(caller, scope);
    await files.delete(join(root, path), recursive);
  }
}

function join(root: string, path: string): string {
  return root ? `${root}/${path}` : path;
}
