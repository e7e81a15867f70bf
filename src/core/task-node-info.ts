// Where a task (or one instance of a multi-instance task) runs.

export interface TaskNodeInfo {
  affinityId: string;
  nodeUrl: string;
  poolId: string;
  nodeId: string;
  taskRootDirectory: string;
  taskRootDirectoryUrl: string;
}
