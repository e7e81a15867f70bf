// The composition root: wires config, store, blob endpoint, services,
// scheduler, node provider and the Batch API, and starts and stops them in
// order. `lapis serve`, the quickstart and the tests all start Lapis here.

import { containerTaskSupport } from '../providers/container/container-tasks.js';
import { nodeContainerImages } from '../core/container-settings.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { findCgroupRoot } from '../agent/cgroups.js';
import { removePath } from '../agent/no-follow.js';
import { buildBatchApi } from '../api/batch/app.js';
import type { AccountKeys } from '../api/batch/auth/shared-key.js';
import type { ServerInsight } from '../api/lapis/insight.js';
import { TaskTokens } from '../api/batch/auth/task-token.js';
import { SasBlobUploader } from '../blob/blob-uploader.js';
import { accountUrl, BlobAutoStorage } from '../blob/auto-storage.js';
import { EmbeddedBlobServer } from '../blob/embedded-blob-server.js';
import type { NodeEvents, NodeProvider, NodeProviderWrapper, TaskRunReport } from '../core/ports.js';
import type { NodeUsageSample } from '../core/node-usage.js';
import type { Clock } from '../core/time.js';
import { isRoot, type LapisConfig } from '../config/config.js';
import { nodeImageTable } from '../providers/container/node-images.js';
import { nodeProviders } from '../providers/registry.js';
import { mappedImages, PROCESS_NODE_IMAGES, supportedImages } from '../core/supported-images.js';
import { NodeExecutor } from '../scheduler/node-executor.js';
import { heartbeatIntervalFor } from '../scheduler/node-liveness.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { ServiceContext } from '../services/context.js';
import { RunBuilder } from '../services/run-builder.js';
import { RunOutcomeService } from '../services/run-outcome-service.js';
import { SchedulingService } from '../services/scheduling-service.js';
import { TaskRetention } from '../services/task-retention.js';
import { NodeUsageService } from '../services/node-usage-service.js';
import { ApplicationService } from '../services/application-service.js';
import { CertificateService } from '../services/certificate-service.js';
import { FileService } from '../services/file-service.js';
import { JobPreparationService } from '../services/job-preparation-service.js';
import { NodeSetup } from '../services/node-setup.js';
import { StatisticsService } from '../services/statistics-service.js';
import { JobScheduleService } from '../services/job-schedule-service.js';
import { JobService } from '../services/job-service.js';
import { NodeService } from '../services/node-service.js';
import { PoolService } from '../services/pool-service.js';
import { TaskService } from '../services/task-service.js';
import { LocalApplicationPackageFiles } from '../store/packages/local-application-packages.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { azureEndpoints, type AzureEndpoints } from './azure-endpoints.js';
import { readdressBlobUrl } from '../core/azure-hostnames.js';
import { abandonDataDirectory, dataDirectoryError, prepareDataDirectory } from './data-directory.js';
import { checkEndpointsCanListen, type Endpoint } from './endpoint-ports.js';
import { EventLog } from './event-log.js';
import { nodesByState, probeBlob, probeStore } from './health.js';
import { createLogger } from './logger.js';
import { recoverSaying, sayWhatStopEnds } from './lifecycle-log.js';
import { LapisMetrics } from './metrics.js';
import { observeStateChanges } from './observed-store.js';
import { lapisVersion } from './version.js';
import { OutcomeDelivery } from './outcome-delivery.js';
import { prepareNodesDirectory, type NodesDirectory } from './nodes-directory.js';
import { OsUserAccounts } from './os-users.js';
import { InjectedFaults } from './injected-faults.js';
import { NodeFaults } from './node-faults.js';
import { DashboardSessions } from '../api/dashboard/sessions.js';

/** Removes a directory and everything in it without following a link anywhere below its parent. */
async function removeDirectoryTree(directory: string): Promise<void> {
  await removePath(path.dirname(directory), [path.basename(directory)], true).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

export interface RunningLapis {
  config: LapisConfig;
  batchUrl: string;
  blobUrl: string;
  /** The blob account URL, e.g. http://127.0.0.1:10000/devstoreaccount1 (with --azure-hostnames, https://devstoreaccount1.blob.core.windows.net:10000). */
  storageAccountUrl: string;
  /** With --azure-hostnames: the local CA's certificate file, which clients trust. */
  certificateAuthority?: string;
  /** Where the compute nodes' directories are (nodes-directory.ts). */
  nodesDirectory: string;
  logger: Logger;
  /** Every state change of pools, nodes, jobs and tasks, as GET /lapis/events streams them. */
  events: EventLog;
  /** A one-time sign-in link to the web dashboard for a configured account (docs/dashboard.md), or undefined for another name. */
  dashboardSignInLink(account: string): string | undefined;
  /** Asks the scheduler for a pass now, e.g. after a test moved its clock. */
  wake(): void;
  stop(): Promise<void>;
}


export interface StartLapisOptions {
  logger?: Logger;
  clock?: Clock;
  /** Decorates the node provider (tests only). */
  wrapProvider?: NodeProviderWrapper;
}

export const systemClock: Clock = { now: () => new Date() };

/** The addresses startLapis will listen on, with the flags that move them. */
function endpointsOf(config: LapisConfig): Endpoint[] {
  const batch: Endpoint = { name: 'the Batch endpoint', host: config.host, port: config.port, flag: '--port' };
  if (config.blob.externalEndpoint) return [batch];
  return [batch, { name: 'the embedded blob endpoint', host: config.blob.host ?? config.host, port: config.blob.port, flag: '--blob-port', blob: true }];
}

export async function startLapis(config: LapisConfig, options: StartLapisOptions = {}): Promise<RunningLapis> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  // Ports first: a start that cannot listen touches no data directory.
  await checkEndpointsCanListen(endpointsOf(config));
  const directory = prepareDataDirectory(config.dataDir, config.inMemory);
  const { path: dataDir, temporary } = directory;
  let nodes: NodesDirectory;
  let store: ReturnType<typeof openSqliteStore>;
  const stateEvents = new EventLog(logger);
  try {
    nodes = prepareNodesDirectory(dataDir, config.nodesDir, isRoot());
    store = observeStateChanges(openSqliteStore({ path: config.inMemory ? undefined : path.join(dataDir, 'lapis.db') }), clock, (change) => stateEvents.record(change));
  } catch (error) {
    abandonDataDirectory(directory);
    throw dataDirectoryError(dataDir, error);
  }
  const nodesDirectory = nodes.path;
  if (nodes.outside) logger.info({ dataDir, nodesDirectory }, 'tasks run as users who cannot pass through a directory above the data directory: the nodes live in a directory of Lapis\'s own (--nodes-dir moves them)');
  let azure: AzureEndpoints | undefined;
  try {
    azure = config.azureHostnames ? azureEndpoints(config, dataDir, new Date()) : undefined;
  } catch (error) {
    store.close();
    abandonDataDirectory(directory);
    throw error;
  }
  const tls = azure?.tls ?? config.tls;
  const embeddedBlob = config.blob.externalEndpoint
    ? undefined
    : new EmbeddedBlobServer({
        host: config.blob.host ?? config.host,
        port: config.blob.port,
        directory: config.inMemory ? undefined : path.join(dataDir, 'blob'),
        tls,
        onError: (error) => logger.error({ err: error }, 'the embedded blob endpoint could not start'),
      });
  let stopped = false;
  let ready = false;
  try {
    const blobUrl = embeddedBlob ? await embeddedBlob.start() : (config.blob.externalEndpoint as string);
    const storage = { endpoint: blobUrl, accountName: config.blob.accountName, accountKey: config.blob.accountKey };


    let batchUrl = '';
    let batchPort = 0;
    let taskService: TaskService | undefined;
    let runOutcomes: RunOutcomeService | undefined;
    let nodeService: NodeService | undefined;
    let preparationService: JobPreparationService | undefined;
    const route = (reports: TaskRunReport[]) => {
      const tasks = reports.filter((report) => report.run.kind === 'task');
      if (tasks.length > 0) runOutcomes?.recordRunOutcomes(tasks);
      for (const report of reports) {
        if (report.run.kind === 'startTask') nodeService?.recordStartTaskOutcome(report);
        else if (report.run.kind !== 'task') preparationService?.recordOutcome(report);
      }
    };
    // Outcomes of one tick are recorded together; one the store cannot take now (a full disk) is kept and offered again.
    const outcomes = new OutcomeDelivery(route, logger);
    let scheduler: Scheduler | undefined;
    let nodeUsage: NodeUsageService | undefined;
    const accounts = new Map<string, AccountKeys>(
      config.accounts.map((account) => [account.name.toLowerCase(), { name: account.name, keys: [Buffer.from(account.key, 'base64')] }]),
    );
    const taskTokens = new TaskTokens(accounts);
    const events: NodeEvents = {
      taskFinished: (report: TaskRunReport) => outcomes.deliver(report),
      nodeHeartbeat: (nodeId: string, sample?: NodeUsageSample) => {
        scheduler?.heartbeat(nodeId);
        if (sample) nodeUsage?.record(nodeId, sample);
      },
    };
    const heartbeatTimeoutMs = config.nodeHeartbeatTimeoutMs;
    const userAccounts = isRoot() ? new OsUserAccounts(nodesDirectory) : undefined;
    await userAccounts?.removeLeftovers();
    if (config.dockerHost && config.containerEngine === 'podman') logger.warn({ dockerHost: config.dockerHost }, '--docker-host is for Docker only: ignored with --container-engine podman');
    const containerTasks = containerTaskSupport({ containers: config.containers, engine: config.containerEngine, dockerHost: config.dockerHost });
    const buildProvider = (providerEvents: NodeEvents): NodeProvider =>
      nodeProviders[config.nodeRuntime](providerEvents, {
        nodesDirectory,
        clock: () => clock.now(),
        userAccounts,
        cgroupRoot: findCgroupRoot(nodesDirectory),
        trustedCaFile: azure?.certificateAuthority,
        ...(azure ? { azureNames: azure.forTasks } : {}),
        heartbeatIntervalMs: heartbeatIntervalFor(heartbeatTimeoutMs),
        containers: {
          imagesOf: (placement) => nodeContainerImages(store.pools.get(placement.account, placement.poolId)?.pool.virtualMachineConfiguration?.containerConfiguration),
          runtime: () => containerTasks.runtime(),
        },
        container: {
          imageReferenceOf: (placement) => store.pools.get(placement.account, placement.poolId)?.pool.virtualMachineConfiguration?.imageReference,
          vmSizeOf: (placement) => store.pools.get(placement.account, placement.poolId)?.pool.vmSize,
          nodeImages: config.nodeImages ?? [],
          engine: config.containerEngine,
          dockerHost: config.dockerHost,
          log: (level, message) => logger[level](message),
        },
      });
    // With --faults the provider sits inside the fault layer; a test's own wrapper (wrapProvider) goes around both.
    const nodeFaults = config.faults ? new NodeFaults(() => clock.now()) : undefined;
    const buildServed = nodeFaults ? (providerEvents: NodeEvents) => nodeFaults.wrap(buildProvider, providerEvents) : buildProvider;
    const provider = options.wrapProvider ? options.wrapProvider(buildServed, events) : buildServed(events);
    const injectedFaults = nodeFaults
      ? new InjectedFaults(
          nodeFaults,
          {
            nodeExists: (account, poolId, nodeId) => (!store.pools.get(account, poolId) ? 'no pool' : store.nodes.get(account, poolId, nodeId) ? 'yes' : 'no node'),
            // Faults are added through the API, which listens only once the scheduler exists.
            preempt: (account, poolId, nodeId) => scheduler?.preemptNodes(account, poolId, nodeId) ?? [],
            restorePreempted: (placement) => scheduler?.restorePreempted(placement),
            record: (change) => stateEvents.record(change),
          },
          store.faults,
          () => clock.now(),
          logger,
        )
      : undefined;
    const nodeWork = new NodeExecutor(provider, logger);
    const context = new ServiceContext({
      store,
      clock,
      signal: { wake: () => scheduler?.wake(), slotsFreed: () => scheduler?.slotsFreed(), tasksAdded: () => scheduler?.tasksAdded(), dispatchWithin: () => scheduler?.dispatchWithin() },
      provider,
      nodeWork,
      autoStorage: new BlobAutoStorage(storage, () => clock.now()),
      blobUploader: new SasBlobUploader(),
      logger,
      publicUrl: (account) => (azure ? azure.accountUrl(account, batchPort) : batchUrl),
      minAutoScaleIntervalMs: config.autoScaleMinIntervalMs,
      taskTokens,
      adminTasks: config.adminTasks,
      containerPoolRefusal: () => containerTasks.refusal(),
      ...(azure ? { nodeBlobUrl: (url: string) => readdressBlobUrl(url, config.blob.accountName, blobUrl) } : {}),
    });
    const certificates = new CertificateService(context, store);
    const applications = new ApplicationService(context, store, new LocalApplicationPackageFiles(path.join(dataDir, 'applications')));
    const setup = new NodeSetup(applications, certificates);
    const runs = new RunBuilder(context, setup);
    preparationService = new JobPreparationService(context, runs);
    taskService = new TaskService(context);
    runOutcomes = new RunOutcomeService(context, runs);
    nodeService = new NodeService(context, preparationService, runs);
    nodeUsage = new NodeUsageService(context);
    const pools = new PoolService(context, nodeUsage);
    const nodeImages = config.nodeRuntime === 'container' ? mappedImages(nodeImageTable(config.nodeImages ?? []).keys()) : PROCESS_NODE_IMAGES;
    const services = {
      pools,
      jobs: new JobService(context, preparationService, pools),
      preparation: preparationService,
      jobSchedules: new JobScheduleService(context, pools),
      tasks: taskService,
      nodes: nodeService,
      files: new FileService(context, taskService),
      certificates,
      applications,
      statistics: new StatisticsService(context),
      supportedImages: () => supportedImages(nodeImages, containerTasks.runtime()),
    };
    scheduler = new Scheduler({
      nodes: services.nodes,
      jobs: services.jobs,
      jobSchedules: services.jobSchedules,
      certificates: services.certificates,
      pools: services.pools,
      scheduling: new SchedulingService(context, runs, preparationService),
      runOutcomes,
      retention: new TaskRetention(context),
      nodeWork,
      logger,
      clock,
      nodeHeartbeatTimeoutMs: heartbeatTimeoutMs,
    });

    const https = tls ? { key: fs.readFileSync(tls.keyFile), cert: fs.readFileSync(tls.certFile) } : undefined;
    const metrics = new LapisMetrics(store, blobUrl);
    stateEvents.observe((event) => metrics.eventRecorded(event));
    const version = lapisVersion();
    const startedAt = performance.now();
    const insight: ServerInsight = {
      events: stateEvents,
      metrics: () => metrics.text(),
      requestServed: (operation, status, seconds) => metrics.requestServed(operation, status, seconds),
      async health() {
        const storeHealth = probeStore(store);
        const blobHealth = await probeBlob(blobUrl);
        return {
          status: storeHealth.status === 'up' && blobHealth.status === 'up' ? 'ok' : 'degraded',
          version,
          uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
          store: storeHealth,
          blob: { ...blobHealth, endpoint: blobUrl, embedded: embeddedBlob !== undefined },
          nodeRuntime: { name: config.nodeRuntime, ...(config.containerEngine ? { containerEngine: config.containerEngine } : {}), nodes: nodesByState(store) },
        };
      },
    };
    const dashboardSessions = new DashboardSessions(accounts, () => clock.now().getTime());
    const app = buildBatchApi({
      services,
      accounts,
      taskTokens,
      logger,
      now: () => clock.now(),
      isReady: () => ready,
      https,
      requestTimeoutMs: config.requestTimeoutMs,
      insight,
      faults: injectedFaults,
      dashboardSessions,
    });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    batchPort = port;
    batchUrl = `${https ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    const blobPort = new URL(blobUrl).port;

    // Before the nodes start again: their first runs meet the faults a previous server had.
    injectedFaults?.restore();
    recoverSaying(stateEvents, logger, () => scheduler?.recover());
    ready = true;

    return {
      config,
      batchUrl: azure ? azure.batchUrl(port) : batchUrl,
      blobUrl,
      storageAccountUrl: azure && embeddedBlob ? azure.blobUrl(Number(blobPort || 443)) : accountUrl(storage),
      ...(azure ? { certificateAuthority: azure.certificateAuthority } : {}),
      nodesDirectory,
      logger,
      events: stateEvents,
      dashboardSignInLink(account) {
        const token = dashboardSessions.createSignInLink(account);
        return token === undefined ? undefined : `${azure ? azure.batchUrl(port) : batchUrl}/ui/sign-in-link?token=${token}`;
      },
      wake: () => scheduler?.wake(),
      async stop() {
        if (stopped) return;
        stopped = true;
        ready = false;
        const stopping = performance.now();
        sayWhatStopEnds(store, logger);
        outcomes.stop();
        await app.close();
        // A provisioning delayed or a recovery restart held by a fault would hold the scheduler's stop until the fault's end.
        injectedFaults?.endAll();
        await scheduler?.stop();
        await provider.close();
        await embeddedBlob?.stop();
        store.close();
        directory.lock?.release();
        // Through directory descriptors: tasks wrote in the nodes' directories and may have left links there.
        if (temporary) await removeDirectoryTree(dataDir);
        if (temporary && nodes.outside) await removeDirectoryTree(nodesDirectory);
        logger.info({ ms: Math.round(performance.now() - stopping) }, 'stopped');
      },
    };
  } catch (error) {
    await embeddedBlob?.stop().catch(() => undefined);
    store.close();
    abandonDataDirectory(directory);
    throw error;
  }
}
