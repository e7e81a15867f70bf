// The ports the outer rooms implement: the store (store/), node providers
// (providers/), the blob endpoint (blob/), and the scheduler's wake-up signal.
// Plain TypeScript only: no SQL, HTTP or process types cross this line.

import type { ContainerRun } from './container-settings.js';
import type { Application, ApplicationPackage, ApplicationPackageFormat, NodeApplicationPackage } from './application.js';
import type { Certificate, CertificateInternal, CertificateSecrets, CertificateState } from './certificate.js';
import type { ComputeNode, NodeInternal, TaskInformation } from './node.js';
import type { Job, JobInternal, JobState } from './job.js';
import type { JobSchedule, JobScheduleInternal, JobScheduleState } from './job-schedule.js';
import type { JobNodeStatus, JobNodeStatusInternal } from './job-preparation.js';
import type { Pool, PoolInternal } from './pool.js';
import type { NodeUsageSample } from './node-usage.js';
import type { Task, TaskInternal, TaskRunOutcome, TaskState } from './task.js';
import type { AutoUserScope, ElevationLevel, OutputFile, TaskFailureInfo } from './common.js';
import type { FilterNode } from './odata/filter-ast.js';
import type { InjectedFault, InjectedTransferFailure } from './faults.js';

/** Defined beside the rule that makes it (core/application.ts); a port of the runs nodes are sent. */
export type { NodeApplicationPackage } from './application.js';

export interface PoolRecord {
  account: string;
  pool: Pool;
  /** Lapis's own, beside the wire document. */
  internal: PoolInternal;
}

export interface NodeRecord {
  account: string;
  poolId: string;
  node: ComputeNode;
  /** Lapis's own, beside the wire document. */
  internal: NodeInternal;
}

export interface JobRecord {
  account: string;
  job: Job;
  /** Lapis's own, beside the wire document. */
  internal: JobInternal;
}

export interface JobScheduleRecord {
  account: string;
  schedule: JobSchedule;
  /** Lapis's own, beside the wire document. */
  internal: JobScheduleInternal;
}

export interface TaskRecord {
  account: string;
  jobId: string;
  /** Submission order within the account; the scheduler's tie-breaker. */
  seq: number;
  /** Incremented on every assignment; fences reports from stale runs. */
  attempt: number;
  task: Task;
  /** Lapis's own, beside the wire document. */
  internal: TaskInternal;
}

export interface PageQuery {
  maxResults: number;
  /** Opaque position from the previous page's continuation. */
  continuation?: string;
  /** A checked `$filter`; only matching items are listed. */
  filter?: FilterNode;
}

export interface Page<T> {
  items: T[];
  continuation?: string;
}

export interface PoolRepository {
  get(account: string, poolId: string): PoolRecord | undefined;
  insert(record: PoolRecord): boolean;
  update(record: PoolRecord): void;
  delete(account: string, poolId: string): void;
  list(account: string, page: PageQuery): Page<PoolRecord>;
  listAll(): PoolRecord[];
}

export interface NodeRepository {
  get(account: string, poolId: string, nodeId: string): NodeRecord | undefined;
  insert(record: NodeRecord): void;
  update(record: NodeRecord): void;
  delete(account: string, poolId: string, nodeId: string): void;
  listByPool(account: string, poolId: string): NodeRecord[];
  list(account: string, poolId: string, page: PageQuery): Page<NodeRecord>;
  listAll(): NodeRecord[];
}

/**
 * Each node's recentTasks (core/node-recent-tasks.ts), kept apart from its
 * document; a node's entries go when the node is deleted.
 */
export interface NodeRecentTaskRepository {
  /**
   * Makes `entry` the node's latest change, replacing the entry of the same
   * job, task and subtask (ids without regard to case), then drops the oldest
   * entries that are not running beyond `keepEnded`. Reads nothing back.
   */
  note(account: string, nodeId: string, entry: TaskInformation, keepEnded: number): void;
  /** Drops the task's entries (all its subtasks') on the node. */
  forget(account: string, nodeId: string, jobId: string, taskId: string): void;
  /** Newest change first. */
  list(account: string, nodeId: string): TaskInformation[];
}

export interface JobRepository {
  get(account: string, jobId: string): JobRecord | undefined;
  insert(record: JobRecord): boolean;
  update(record: JobRecord): void;
  delete(account: string, jobId: string): void;
  list(account: string, page: PageQuery): Page<JobRecord>;
  listByPool(account: string, poolId: string, states: JobState[]): JobRecord[];
  listByState(states: JobState[]): JobRecord[];
  /** How many of the account's jobs are in each state (states with none are left out). */
  countByState(account: string): Partial<Record<JobState, number>>;
  /** The jobs a schedule created (ids `{scheduleId}:job-{n}`). */
  listFromSchedule(account: string, scheduleId: string, page: PageQuery): Page<JobRecord>;
}

export interface JobScheduleRepository {
  get(account: string, scheduleId: string): JobScheduleRecord | undefined;
  insert(record: JobScheduleRecord): boolean;
  update(record: JobScheduleRecord): void;
  delete(account: string, scheduleId: string): void;
  list(account: string, page: PageQuery): Page<JobScheduleRecord>;
  listByState(states: JobScheduleState[]): JobScheduleRecord[];
}

export interface TaskCounts {
  active: number;
  running: number;
  completed: number;
  succeeded: number;
  failed: number;
}

/** A job's task totals, for its $expand=stats. */
export interface TaskStatistics {
  succeeded: number;
  failed: number;
  retries: number;
  wallMs: number;
  waitMs: number;
}

export interface TaskRepository {
  get(account: string, jobId: string, taskId: string): TaskRecord | undefined;
  /** Inserts unless a task with the same id (any case) exists; false when it does. */
  insert(record: Omit<TaskRecord, 'seq'>): boolean;
  update(record: TaskRecord): void;
  delete(account: string, jobId: string, taskId: string): void;
  deleteByJob(account: string, jobId: string): void;
  list(account: string, jobId: string, page: PageQuery): Page<TaskRecord>;
  /** The same page as list, each task as its stored JSON text (JSON.stringify of the Task), for answers that pass it on unparsed. */
  listJson(account: string, jobId: string, page: PageQuery): Page<string>;
  /** Active tasks of the given jobs, in submission order. */
  listRunnable(account: string, jobIds: string[], limit: number): TaskRecord[];
  listByState(account: string, jobId: string, state: TaskState): TaskRecord[];
  listRunningOnNode(account: string, nodeId: string): TaskRecord[];
  listAllRunning(): TaskRecord[];
  statistics(account: string, jobId: string): TaskStatistics;
  /** Completed tasks whose retention time ran out by `now`, their directories still on the node. */
  listRetentionExpired(now: number, limit: number): TaskRecord[];
  /** The earliest retention deadline of any task, epoch ms. */
  nextRetentionTime(): number | undefined;
  /** The latest retention deadline of the tasks whose directories are still on the node, epoch ms. */
  lastRetentionOnNode(account: string, nodeId: string): number | undefined;
  /** Tasks, and the slots they need, by state. */
  counts(account: string, jobId: string): { tasks: TaskCounts; slots: TaskCounts };
  /** The tasks of all the account's jobs by state, as counts() counts them, from the same kept counts. */
  accountCounts(account: string): TaskCounts;
}

/** A node's status for a job: the wire document and, beside it, Lapis's own part. */
export interface JobNodeStatusRecord {
  status: JobNodeStatus;
  internal: JobNodeStatusInternal;
}

export interface JobNodeStatusRepository {
  get(account: string, jobId: string, nodeId: string): JobNodeStatusRecord | undefined;
  put(account: string, jobId: string, record: JobNodeStatusRecord): void;
  listByJob(account: string, jobId: string): JobNodeStatusRecord[];
  /** The wire documents only, a page at a time. */
  page(account: string, jobId: string, page: PageQuery): Page<JobNodeStatus>;
  /** The jobs (by lower-cased id) with a status on the node. */
  listByNode(account: string, nodeId: string): { jobKey: string; status: JobNodeStatus }[];
  deleteByJob(account: string, jobId: string): void;
  delete(account: string, jobKey: string, nodeId: string): void;
}

export interface NodeUsageInterval {
  poolId: string;
  nodeId: string;
  vmSize: string;
  dedicated: boolean;
  startMs: number;
  /** Undefined while the node is in its pool. */
  endMs?: number;
}

export interface TaskCompletionUsage {
  succeeded: boolean;
  retries: number;
  /** Time the task's runs took. */
  wallMs: number;
  /** Time from its creation to its first run. */
  waitMs: number;
}

export interface AccountTaskTotals {
  succeeded: number;
  failed: number;
  retries: number;
  wallMs: number;
  waitMs: number;
  firstMs: number;
  lastMs: number;
}

export interface UsageRepository {
  nodeStarted(account: string, poolId: string, nodeId: string, vmSize: string, dedicated: boolean, startMs: number): void;
  nodeEnded(account: string, nodeId: string, endMs: number): void;
  /** Node lifetimes that overlap [fromMs, toMs). */
  overlapping(account: string, fromMs: number, toMs: number): NodeUsageInterval[];
  taskCompleted(account: string, usage: TaskCompletionUsage, nowMs: number): void;
  taskTotals(account: string): AccountTaskTotals | undefined;
  /** Adds one node usage sample to its pool's resource totals. */
  resourcesSampled(account: string, poolId: string, sample: NodeUsageSample, nowMs: number): void;
  /** The resource totals of one pool, or of all the account's pools; undefined before any sample. */
  resourceTotals(account: string, poolId?: string): PoolResourceTotals | undefined;
}

/** A pool's node usage samples, summed: time-weighted sums (figure × ms) give averages over `sampledMs`. */
export interface PoolResourceTotals {
  sampledMs: number;
  cpuPercentMs: number;
  memoryByteMs: number;
  peakMemoryBytes: number;
  diskByteMs: number;
  peakDiskBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  diskReadOps: number;
  diskWriteOps: number;
  networkInBytes: number;
  networkOutBytes: number;
  firstMs: number;
  lastMs: number;
}

export interface CertificateRecord {
  account: string;
  certificate: Certificate;
  /** Lapis's own, beside the wire document: its ETag, Last-Modified and format. */
  internal: CertificateInternal;
}

export interface CertificateRepository {
  get(account: string, thumbprintAlgorithm: string, thumbprint: string): CertificateRecord | undefined;
  /** The data and password, only for installing the certificate on nodes. */
  getSecrets(account: string, thumbprintAlgorithm: string, thumbprint: string): CertificateSecrets | undefined;
  /** Inserts unless the account has the certificate (same algorithm and thumbprint, any case); false when it does. */
  insert(record: CertificateRecord, secrets: CertificateSecrets): boolean;
  update(record: CertificateRecord): void;
  delete(account: string, thumbprintAlgorithm: string, thumbprint: string): void;
  list(account: string, page: PageQuery): Page<CertificateRecord>;
  listByState(states: CertificateState[]): CertificateRecord[];
}

export interface ApplicationRecord {
  account: string;
  application: Application;
  packages: ApplicationPackage[];
}

export interface ApplicationRepository {
  get(account: string, applicationId: string): ApplicationRecord | undefined;
  list(account: string, page: PageQuery): Page<ApplicationRecord>;
  /** Creates or replaces the application row (its id, display name and default version); its packages stay. */
  saveApplication(account: string, application: Application): void;
  /** Inserts unless the version (any case) is registered; false when it is. */
  insertPackage(account: string, entry: ApplicationPackage): boolean;
  deletePackage(account: string, applicationId: string, version: string): void;
  /** Removes the application and every package version of it. */
  deleteApplication(account: string, applicationId: string): void;
}

/**
 * The store: every resource's state, and the rules that must hold at every
 * commit whichever code path wrote it. A second store (PostgreSQL) implements
 * this interface and passes the same conformance suite
 * (test/store/conformance.ts); the SQLite store is store/sqlite/.
 *
 * What it owns:
 *
 * - Transactions. `transaction(work)` runs `work` (synchronous) as one
 *   transaction: all of its writes are stored or none; a call inside
 *   another joins the outer one. Services open them; repositories never do.
 * - Identity. Pools, jobs, job schedules, tasks and applications are found by
 *   id without regard to case (Batch ids are case-insensitive) and keep the
 *   case they were created with; certificates by algorithm and thumbprint,
 *   without regard to case; nodes by their exact id within their pool.
 *   `insert` answers false, and changes nothing, when the id is taken.
 * - Documents. A record is stored and returned whole, as written (as JSON
 *   keeps it: a field that is undefined is left out): `update` replaces it
 *   (the ETag and Last-Modified inside it are the service's: it checks
 *   If-Match before it writes, in the same transaction).
 * - Paging. `list` answers at most `maxResults` items in a stable order
 *   (pools, jobs, schedules, certificates, applications by lower-cased id;
 *   tasks in submission order; nodes by id) with the `$filter` applied before
 *   the page is cut, and a continuation only when more items follow. A
 *   continuation is opaque and names the last item's position, so a page
 *   never repeats or skips an item that existed throughout.
 * - Submission order. A task's `seq` increases with every insert and is never
 *   reused, even after deletes; the scheduler breaks ties by it.
 * - Task counts. `tasks.counts(account, job)` is exact at every commit:
 *   tasks and their `requiredSlots` by state (`preparing` counts as running)
 *   and, for completed ones, by result (success, else failure). They change in
 *   the same transaction as the task they count, on insert, update and
 *   delete, so they commit, roll back and survive a crash with the tasks; the
 *   SQLite store keeps them by triggers on its tasks table (migration 0010).
 *   Job_GetTaskCounts reads them without reading the tasks;
 *   `tasks.accountCounts` sums them over an account's jobs.
 * - Nodes' recent tasks (`nodeRecentTasks`) are kept apart from the node
 *   documents and go when their node is deleted (a trigger in SQLite).
 * - Dependency waits. A task with `dependsOn` waits while any of its parents
 *   (each id of `taskIds`, each id within `taskIdRanges`, a task never counting
 *   as its own parent) does not exist, or is not completed with
 *   internal `dependencyAction` `satisfy` (core sets it when the task completes).
 *   `listRunnable` answers only active tasks that do not wait, in submission
 *   order. The wait is re-evaluated for the active tasks that name a task
 *   when that task is inserted, deleted, or updated into or out of
 *   `completed`, in the same transaction.
 * - Retention. A task updated into `completed` with files on a node is due
 *   for cleanup at `retentionDeadline(task, internal)` (core/task.ts):
 *   `listRetentionExpired`, `nextRetentionTime` and `lastRetentionOnNode` read
 *   that deadline.
 * - Deleting a job's tasks (`tasks.deleteByJob`) removes their counts and
 *   dependency records with them. Deleting a pool, job or schedule removes
 *   that document only: the services delete what hangs off it.
 * - Secrets. A certificate's data and password are read only by
 *   `certificates.getSecrets`; no record, list or page carries them.
 */
export interface Store {
  /** Runs `work` in one transaction: all of it is stored or none of it. */
  transaction<T>(work: () => T): T;
  readonly pools: PoolRepository;
  readonly nodes: NodeRepository;
  readonly nodeRecentTasks: NodeRecentTaskRepository;
  readonly jobs: JobRepository;
  readonly jobSchedules: JobScheduleRepository;
  readonly jobNodeStatus: JobNodeStatusRepository;
  readonly usage: UsageRepository;
  readonly tasks: TaskRepository;
  readonly certificates: CertificateRepository;
  readonly applications: ApplicationRepository;
  readonly faults: FaultRepository;
  close(): void;
}

/** Faults injected through /lapis/faults (lapis serve --faults) that a restarted server takes up again. */
export interface FaultRepository {
  /** Oldest first. */
  listAll(): { account: string; fault: InjectedFault }[];
  put(account: string, fault: InjectedFault): void;
  delete(account: string, id: string): void;
}

/** Where package files live on the server: `<dataDir>/applications/<id>/<version>/` (store/packages/). */
export interface ApplicationPackageFiles {
  /**
   * Copies a package from a zip file (unpacked) or a directory (copied) into
   * its own directory, which must not exist yet; returns what it made.
   */
  importPackage(source: string, applicationId: string, version: string): Promise<{ format: ApplicationPackageFormat; path: string }>;
  /** Removes a package's directory; nothing when it is already gone. */
  removePackage(path: string): Promise<void>;
}

/** A resource file whose source the server has already resolved to a URL. */
export interface ResolvedResourceFile {
  httpUrl?: string;
  containerUrl?: string;
  blobPrefix?: string;
  filePath?: string;
  fileMode?: string;
  /** filePath is under the task directory, not its working directory: a multi-instance task's commonResourceFiles ($AZ_BATCH_TASK_SHARED_DIR). */
  inTaskDirectory?: boolean;
}

export interface TaskRunRef {
  /** A job's task, a node's start task, or a job's preparation or release task on a node. */
  kind: 'task' | 'startTask' | 'jobPreparation' | 'jobRelease';
  account: string;
  poolId: string;
  nodeId: string;
  jobId: string;
  taskId: string;
  attempt: number;
}

/** A file of the task's certificates directory. */
export interface NodeCertificateFile {
  name: string;
  encoding: 'base64' | 'utf8';
  content: string;
  mode: number;
}

/** One of a pool's userAccounts, as a node needs it to make the account (the password is a secret: never log it). */
export interface NodeUserAccount {
  name: string;
  password?: string;
  elevationLevel: ElevationLevel;
  /** linuxUserConfiguration: given together or not at all. */
  uid?: number;
  gid?: number;
  sshPrivateKey?: string;
}

/** The OS account a run's process runs as on a node. */
export interface OsAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** Groups beyond `gid` the process must hold (the pool's group, for a user with a gid of its own). */
  groups?: number[];
}

/**
 * Makes the OS accounts a node's runs use on the machine that hosts it: the
 * pool's named users, and the node's auto users (one for pool scope, one per
 * concurrent task for task scope). Every account of a pool shares the pool's
 * group, the only group let into its nodes' directories, so tasks of another
 * pool or account never share a uid or a way in. Accounts are removed when
 * no node there needs them any more.
 */
export interface NodeUserAccounts {
  ensure(placement: NodePlacement, user: NodeUserAccount): Promise<OsAccount>;
  /** The node's auto user of that slot (`pool`, `start`, `task1`…), made on first use. */
  autoUser(placement: NodePlacement, slot: string): Promise<OsAccount>;
  /** The pool's group id, made on first use. */
  poolGroup(placement: NodePlacement): Promise<number>;
  /** The node is gone: its auto users, and accounts and groups only it used, are removed. */
  releaseNode(nodeId: string): Promise<void>;
}

/** Everything a node needs to run one attempt of a task, or of its pool's start task. */
export interface TaskRun extends TaskRunRef {
  commandLine: string;
  taskDirectory: string;
  resourceFiles: ResolvedResourceFile[];
  /** The run's environmentSettings (a job's common settings under a task's own); batch-environment.ts adds Batch's variables. */
  environment: Record<string, string>;
  /** The Batch endpoint the run sees as AZ_BATCH_ACCOUNT_URL. */
  accountUrl: string;
  /** AZ_BATCH_TASK_ID when it is not `taskId` (a preparation or release task's own id). */
  visibleTaskId?: string;
  /** AZ_BATCH_AUTHENTICATION_TOKEN (authenticationTokenSettings): a secret, never logged. */
  authenticationToken?: string;
  elevationLevel: ElevationLevel;
  /** Without a named user: the node's pool-wide auto user, or one unique to the task. */
  autoUserScope?: AutoUserScope;
  /** The pool's named user the run is for (userIdentity.userName); its elevationLevel is the run's. */
  user?: NodeUserAccount;
  /** Undefined when unlimited. */
  maxWallClockTimeMs?: number;
  /** A retry reuses the working directory: resource files are not downloaded again. */
  isRetry: boolean;
  /** Uploaded when the process ends, as each file's uploadCondition says. */
  outputFiles: OutputFile[];
  /** The job's preparation task directory (relative to the node root), for AZ_BATCH_JOB_PREP_DIR. */
  jobPreparationDirectory?: string;
  applicationPackages?: NodeApplicationPackage[];
  certificates?: NodeCertificateFile[];
  /** A failure found before the run could start (e.g. a package that does not exist): the node reports it without running anything. */
  preProcessingFailure?: TaskFailureInfo;
  /** One instance of a multi-instance task: its coordination command, or (on the primary) its application command. */
  instance?: { id: number; phase: 'coordination' | 'application'; hostList: string[]; masterNode: string };
  /** Where the run's output goes, in its task directory; stdout.txt and stderr.txt unless told. */
  outputNames?: { stdout: string; stderr: string };
  /** Runs in a container of this image (containerSettings on a container pool); its registry password is a secret. */
  container?: ContainerRun;
  /** Set only by `lapis serve --faults` (core/faults.ts): the node fails these transfers as it fails real ones, with the code given. */
  injectedFailure?: InjectedTransferFailure;
}

/** Which run a report is about: its reference, and for one instance of a multi-instance task, which instance and phase. Never the run's settings or secrets: a remote agent sends it as it is. */
export interface ReportedRun extends TaskRunRef {
  instance?: { id: number; phase: 'coordination' | 'application' };
}

export interface TaskRunReport {
  run: ReportedRun;
  outcome: TaskRunOutcome;
}

/** The part of a run its report names. */
export function reportedRunOf(run: TaskRun): ReportedRun {
  const { kind, account, poolId, nodeId, jobId, taskId, attempt } = run;
  return { kind, account, poolId, nodeId, jobId, taskId, attempt, ...(run.instance ? { instance: { id: run.instance.id, phase: run.instance.phase } } : {}) };
}

/** What a node tells the server; providers call it, services implement it. */
export interface NodeEvents {
  /**
   * A run ended. The node may forget the report once this returns, or, when
   * it returns a promise, once that resolves: the server holds it then.
   */
  taskFinished(report: TaskRunReport): void | Promise<void>;
  /**
   * The node's agent is alive. Every agent sends it at the heartbeat interval
   * it is given, from the moment its node is prepared until it is shut down;
   * a node silent for longer than the server's timeout is taken for lost.
   * Every few seconds a heartbeat carries the node's latest usage sample.
   */
  nodeHeartbeat(nodeId: string, sample?: NodeUsageSample): void;
}

export interface NodePlacement {
  account: string;
  poolId: string;
  nodeId: string;
}

export interface NodeFileEntry {
  /** Forward-slash path relative to the directory the request named. */
  name: string;
  isDirectory: boolean;
  creationTime: Date;
  lastModified: Date;
  contentLength: number;
  /** Octal mode as Batch writes it on Linux, e.g. `0100644`. */
  fileMode: string;
}

export interface ByteRange {
  start: number;
  end?: number;
}

/** A node's files, confined to one directory: no path may escape it. */
export interface NodeFileSystem {
  stat(path: string): Promise<NodeFileEntry | undefined>;
  list(path: string, recursive: boolean): Promise<NodeFileEntry[]>;
  read(path: string, range?: ByteRange): Promise<{ entry: NodeFileEntry; content: AsyncIterable<Uint8Array>; length: number }>;
  delete(path: string, recursive: boolean): Promise<void>;
}

/** Where compute nodes come from: this machine, remote agents, a cluster. */
export interface NodeProvider {
  readonly name: string;
  provisionNode(placement: NodePlacement): Promise<void>;
  /** Ends every process of the node and removes its files. */
  releaseNode(placement: NodePlacement): Promise<void>;
  /**
   * Ends every process of the node and starts it again; `wipe` (a reimage)
   * removes its files first. Also how a lost node (silent agent) is
   * recovered: a provider that cannot restart it in place replaces it, or throws.
   */
  restartNode(placement: NodePlacement, options: { wipe: boolean }): Promise<void>;
  runTask(run: TaskRun): void;
  /** Ends the run's process tree; the run reports no outcome afterwards. */
  stopTask(run: TaskRunRef): Promise<void>;
  nodeFiles(placement: NodePlacement): NodeFileSystem | undefined;
  /**
   * At server start, before any node is provisioned: how runs that a previous
   * server process started ended while no server was there to hear it, as
   * far as the nodes recorded it. Read once; a provider that cannot know omits it.
   */
  outcomesRecordedBeforeRestart?(): TaskRunReport[];
  close(): Promise<void>;
}

/**
 * A seam for tests that inject node faults without patching classes: given
 * `build` (makes the configured provider, reporting through the events it is
 * handed) and the server's own events, answers the provider the server uses.
 * A decorator may wrap the events before building (faults in what nodes
 * report: a dropped heartbeat, a swallowed outcome) and the provider it builds
 * (faults in calls into it: a failed provisioning, a held restart). The plain
 * server is `(build, events) => build(events)`. server/node-faults.ts
 * builds one (lapis serve --faults uses it too).
 */
export type NodeProviderWrapper = (build: (events: NodeEvents) => NodeProvider, serverEvents: NodeEvents) => NodeProvider;

/**
 * Every side effect on a node goes through here (scheduler/node-executor.ts):
 * a node's lifecycle operations (provision, start, restart, release) run one
 * after another, a run starts only once the node's pending operation is done,
 * and shutdown waits for all of it. Services and the scheduler never call a
 * NodeProvider's side effects themselves.
 */
export interface NodeWork {
  /** Provisioning (a new node, or a deallocated one started again); `then` records the outcome, `failed` a node that could not start. */
  provision(placement: NodePlacement, then: () => void, failed?: (failure: unknown) => void): void;
  release(placement: NodePlacement, then: () => void): void;
  /** A reboot or reimage (`wipe`), or the recovery of a lost node (`recover`); `failed` when the provider cannot. */
  restart(placement: NodePlacement, options: { wipe: boolean; recover?: boolean }, then: () => void, failed?: (failure: unknown) => void): void;
  startRuns(runs: readonly TaskRun[]): void;
  /** Ends runs (their processes); their nodes report no outcome for them afterwards. */
  stopRuns(runs: readonly TaskRunRef[]): void;
  /** Removes a path under the node's root (a task's directory), after the node's earlier work. */
  removeFiles(placement: NodePlacement, path: string): void;
}

/** The blob endpoint as Batch's auto-storage account. */
export interface AutoStorage {
  /** A container URL with a read+list SAS, for resource files. */
  containerSasUrl(batchAccount: string, containerName: string): string;
}

/** Writes blobs into a container a client names by URL (with its SAS). */
export interface BlobUploader {
  upload(containerUrl: string, blobName: string, content: Buffer): Promise<void>;
}

/** What a task authentication token grants: the operations on one job of one account. */
export interface TaskTokenScope {
  account: string;
  jobId: string;
  /** The job's creationTime: a job deleted and added again with the same id is another job, which refuses the old job's tokens. */
  jobCreationTime: string;
}

/** Issues the tokens tasks with authenticationTokenSettings get as AZ_BATCH_AUTHENTICATION_TOKEN. */
export interface TaskTokenIssuer {
  issue(scope: TaskTokenScope, expiresAt: Date): string;
}

/** Wakes the scheduler: something it may act on has changed. */
export interface SchedulerSignal {
  wake(): void;
  /**
   * A task's run ended and freed its slots: they are filled at once, and the
   * rest of what a pass does (ending jobs, node removals, timers) follows
   * shortly, once for a burst of completions.
   */
  slotsFreed(): void;
  /**
   * Tasks were added: they are placed at once, without the rest of a pass
   * (which follows shortly, as after slotsFreed) ahead of them, so that a task
   * added to an idle node starts within milliseconds.
   */
  tasksAdded(): void;
  /**
   * Called inside the transaction that freed slots: fills them in that same
   * transaction (one commit for both, where each took one), and arms the
   * rest as slotsFreed does. Returns what to do once it has committed
   * (start and stop runs), or undefined when it does not (a stopped
   * scheduler): then slotsFreed is called after the commit, as before.
   */
  dispatchWithin?(): (() => void) | undefined;
}
