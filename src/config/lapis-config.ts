// The shape of Lapis's configuration, as the server takes it: every value
// already parsed and checked (durations in milliseconds, ports as numbers,
// accounts with their keys). Where each value comes from (its flag, its
// LAPIS_* variable, its default and its parser) is written once, in
// settings-table.ts.

export interface AccountConfig {
  name: string;
  /** Base64, as Batch account keys are. */
  key: string;
}

export type AdminTasksSetting = 'allow' | 'refuse';

export interface LapisConfig {
  host: string;
  port: number;
  blob: {
    /** Port of the embedded blob endpoint; ignored with an external endpoint. */
    port: number;
    /** Address the embedded blob endpoint listens on; absent: the Batch endpoint's (`host`). */
    host?: string;
    /** An external Azure-compatible blob endpoint instead of the embedded one. */
    externalEndpoint?: string;
    accountName: string;
    accountKey: string;
  };
  /** Data directory for the store, blobs and node directories; undefined with inMemory. */
  dataDir?: string;
  /** Where the compute nodes' directories go; absent: `<dataDir>/nodes`, or a directory of Lapis's own where tasks cannot reach that (server/nodes-directory.ts). */
  nodesDir?: string;
  inMemory: boolean;
  accounts: AccountConfig[];
  logLevel: string;
  /** The shortest autoscale evaluation interval accepted, in ms (Azure: 5 minutes). */
  autoScaleMinIntervalMs: number;
  /** How long a node's agent may stay silent before its node is marked unknown and restarted, in ms. */
  nodeHeartbeatTimeoutMs: number;
  /** How long a client has to send a whole request (headers and body), in ms; a stalled request is answered 408 and closed. */
  requestTimeoutMs: number;
  tls?: { certFile: string; keyFile: string };
  /**
   * Serve Azure's host names over HTTPS with the data directory's local CA:
   * the Batch endpoint for `<account>.<region>.batch.azure.com`, the blob
   * endpoint for `<storage>.blob.core.windows.net`.
   */
  azureHostnames: boolean;
  /** The region label of the Batch host names with azureHostnames. */
  azureRegion: string;
  /**
   * Whether requests may run code as admin (an autoUser or pool user with
   * elevationLevel admin), which on local process nodes is root on this host.
   * `refuse` answers such requests with InvalidPropertyValue.
   */
  adminTasks: AdminTasksSetting;
  /** Serve the failure-injection API (/lapis/faults, docs/testing-your-batch-app.md); off unless asked for. */
  faults: boolean;
  /** What a compute node is: agents on this host (`process`), or a container each (`container`, through Podman or Docker). */
  nodeRuntime: NodeRuntimeSetting;
  /** `PUBLISHER/OFFER/SKU=IMAGE` entries over the built-in image table, for container nodes. */
  nodeImages?: string[];
  /** The container engine for container nodes; absent: Podman if installed, else Docker. */
  containerEngine?: 'podman' | 'docker';
  /** Docker's daemon socket (`docker -H`) when it is not the default one; Podman ignores it. */
  dockerHost?: string;
  /** How container pools' tasks run: through the engine (`engine`), or directly on the node ignoring the image (`host`). */
  containers: 'engine' | 'host';
}

export type NodeRuntimeSetting = 'process' | 'container';

/** Settings of the `lapis serve` process itself, beside the server's configuration. */
export interface ProcessSettings {
  /** How far (%) V8's heap may grow past its live objects between full collections; 0 keeps V8's heuristics. */
  heapGrowingPercent: number;
  /** Print one JSON line when ready (every URL, account, key and the blob connection string), logs to stderr. */
  readyJson: boolean;
  /** Also write the log, as JSON lines, to this file. */
  logFile?: string;
}

/** The well-known development account, printed at start like Azurite's devstoreaccount1. */
export const DEV_ACCOUNT: AccountConfig = {
  name: 'lapis',
  key: 'C9WMEdF0k+FTrCkiGkIntEquano5g9OmrrkTiTWVamSJS8etrxIb9NbIpG+QoYEigw/5jYhVmvgHyAsOM2bueg==',
};

export const DEV_STORAGE = {
  accountName: 'devstoreaccount1',
  accountKey: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};
