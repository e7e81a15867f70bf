// The Batch wire shapes the dashboard reads (the fields it shows; the REST reference has the rest).

export interface FailureInfo {
  category?: string;
  code?: string;
  message?: string;
}

export interface Pool {
  id: string;
  state?: string;
  allocationState?: string;
  allocationStateTransitionTime?: string;
  vmSize?: string;
  currentDedicatedNodes?: number;
  currentLowPriorityNodes?: number;
  targetDedicatedNodes?: number;
  targetLowPriorityNodes?: number;
  enableAutoScale?: boolean;
  autoScaleFormula?: string;
  autoScaleRun?: { timestamp?: string; results?: string; error?: { code?: string; message?: string } };
  resizeErrors?: { code?: string; message?: string }[];
  taskSlotsPerNode?: number;
}

export interface ComputeNode {
  id: string;
  state?: string;
  schedulingState?: string;
  stateTransitionTime?: string;
  lastBootTime?: string;
  ipAddress?: string;
  isDedicated?: boolean;
  runningTasksCount?: number;
  totalTasksRun?: number;
  totalTasksSucceeded?: number;
  startTask?: { commandLine?: string };
  startTaskInfo?: { state?: string; startTime?: string; endTime?: string; exitCode?: number; retryCount?: number; failureInfo?: FailureInfo };
  errors?: { code?: string; message?: string }[];
  recentTasks?: RecentTask[];
}

/** A ComputeNode.recentTasks entry (Batch's TaskInformation). */
export interface RecentTask {
  jobId?: string;
  taskId?: string;
  subtaskId?: number;
  taskState?: string;
  executionInfo?: { startTime?: string; endTime?: string; exitCode?: number; result?: string; failureInfo?: FailureInfo };
}

export interface NodeCounts {
  poolId: string;
  dedicated?: Record<string, number>;
  lowPriority?: Record<string, number>;
}

export interface Job {
  id: string;
  state?: string;
  creationTime?: string;
  poolInfo?: { poolId?: string };
  executionInfo?: { startTime?: string; endTime?: string; terminateReason?: string };
}

export interface TaskCounts {
  taskCounts: TaskCountsByState;
}

export interface TaskCountsByState {
  active: number;
  running: number;
  completed: number;
  succeeded: number;
  failed: number;
}

/** GET /ui/api/summary: the account's jobs and tasks by state, over all its jobs. */
export interface AccountSummary {
  jobs: Record<string, number>;
  tasks: TaskCountsByState;
}

export interface ExecutionInfo {
  startTime?: string;
  endTime?: string;
  exitCode?: number;
  result?: string;
  retryCount?: number;
  requeueCount?: number;
  lastRetryTime?: string;
  lastRequeueTime?: string;
  failureInfo?: FailureInfo;
}

export interface Task {
  id: string;
  state?: string;
  creationTime?: string;
  stateTransitionTime?: string;
  commandLine?: string;
  environmentSettings?: { name: string; value?: string }[];
  resourceFiles?: { httpUrl?: string; storageContainerUrl?: string; autoStorageContainerName?: string; filePath?: string }[];
  outputFiles?: { filePattern: string; destination?: { container?: { containerUrl?: string; path?: string } }; uploadOptions?: { uploadCondition?: string } }[];
  constraints?: { maxTaskRetryCount?: number; maxWallClockTime?: string; retentionTime?: string };
  executionInfo?: ExecutionInfo;
  nodeInfo?: { poolId?: string; nodeId?: string };
}

export interface NodeFile {
  name: string;
  isDirectory?: boolean;
  properties?: { contentLength?: number; lastModified?: string };
}
