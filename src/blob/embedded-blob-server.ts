// The embedded Azure Blob endpoint: Azurite's BlobServer, run in-process.
// This is the one module that knows Azurite. The package's main entry is its
// VS Code extension, so the server is deep-imported at an exact version pin.
// Azurite saves its metadata on an interval: a kill -9 may lose the last
// seconds of uploads (README, "Known limits").

import { createRequire, Module } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/**
 * Azurite's blob server as `npm run build` bundles it, beside this module's
 * compiled copy in dist/ (scripts/build.mjs): one file for the some 600
 * modules Azurite's package loads (about half the CPU of loading them).
 * Absent when the sources run, which load Azurite's package itself.
 */
const BUNDLED_AZURITE = fileURLToPath(new URL('./azurite-blob-server.cjs', import.meta.url));

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Azurite's request middleware loads its telemetry client, which requires
 * `applicationinsights` as it loads: that package, with the OpenTelemetry and
 * diagnostic-channel modules it brings, hooks `require` for every module
 * loaded after it (about half of Azurite's loading, and 10 MiB;
 * bench/README.md, "Start-up"). Only Azurite's own command line turns that
 * telemetry on (`AzuriteTelemetryClient.init`), never Lapis, and every use of
 * it is guarded by a client only `init` makes; so an empty module stands in
 * for `applicationinsights` in Node's module cache before Azurite loads.
 */
function leaveOutAzuriteTelemetry(): void {
  const appInsights = createRequire(require.resolve('azurite/dist/src/common/Telemetry')).resolve('applicationinsights');
  if (require.cache[appInsights]) return;
  const inert = new Module(appInsights);
  inert.filename = appInsights;
  inert.loaded = true;
  require.cache[appInsights] = inert;
}

type BlobConfigurationConstructor = new (...args: unknown[]) => unknown;
type BlobServerConstructor = new (configuration: unknown) => AzuriteServer;

function loadAzurite(): { BlobConfiguration: BlobConfigurationConstructor; BlobServer: BlobServerConstructor } {
  // The bundle leaves applicationinsights out by itself.
  if (fs.existsSync(BUNDLED_AZURITE)) return require(BUNDLED_AZURITE) as ReturnType<typeof loadAzurite>;
  leaveOutAzuriteTelemetry();
  return {
    BlobConfiguration: (require('azurite/dist/src/blob/BlobConfiguration') as { default: BlobConfigurationConstructor }).default,
    BlobServer: (require('azurite/dist/src/blob/BlobServer') as { default: BlobServerConstructor }).default,
  };
}

/** Azurite's well-known development storage account. */
export const DEV_STORAGE_ACCOUNT = 'devstoreaccount1';
export const DEV_STORAGE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface EmbeddedBlobOptions {
  host: string;
  port: number;
  /** Where blobs and metadata live; undefined keeps them in memory. */
  directory?: string;
  /** PEM certificate and key files: serve HTTPS. */
  tls?: { certFile: string; keyFile: string };
  /** Azurite could not start (at the first connection); the connection is closed. */
  onError?: (error: unknown) => void;
}

export class EmbeddedBlobServer {
  private listener?: net.Server;
  /** Azurite, loaded and started at the first connection. */
  private azurite?: Promise<AzuriteServer>;
  private url = '';

  constructor(private readonly options: EmbeddedBlobOptions) {}

  /**
   * Listens on the endpoint's address at once, and answers its URL. Azurite
   * (some 0.3 s of loading and 20 MiB) is loaded at the first connection,
   * which waits for it, and is handed every connection (bench/README.md,
   * "Start-up"). Azurite itself listens on a port of its own on the loopback
   * address, which nothing uses.
   */
  async start(): Promise<string> {
    const listener = net.createServer({ pauseOnConnect: true }, (socket) => this.handOver(socket));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.options.port, this.options.host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    this.listener = listener;
    const address = listener.address() as net.AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http${this.options.tls ? 's' : ''}://${host}:${address.port}`;
    return this.url;
  }

  get endpoint(): string {
    return this.url;
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    // The listener counts the connections it handed over: it is closed once Azurite has ended them (idle keep-alive ones at once).
    const closed = listener && new Promise((resolve) => listener.close(resolve));
    const azurite = this.azurite;
    this.azurite = undefined;
    await (await azurite?.catch(() => undefined))?.close();
    await closed;
  }

  private handOver(socket: net.Socket): void {
    const started = (this.azurite ??= this.startAzurite());
    started.then(
      (azurite) => {
        if (socket.destroyed) return;
        (azurite as unknown as { httpServer: net.Server }).httpServer.emit('connection', socket);
        socket.resume();
      },
      (error: unknown) => {
        // The next connection tries again; this one learns nothing but that it failed.
        if (this.azurite === started) this.azurite = undefined;
        this.options.onError?.(error);
        socket.destroy();
      },
    );
  }

  private async startAzurite(): Promise<AzuriteServer> {
    const { BlobConfiguration, BlobServer } = loadAzurite();
    const { directory } = this.options;
    if (directory) fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
    const configuration = new BlobConfiguration(
      '127.0.0.1',
      0,
      undefined, // keep-alive timeout: Azurite's default
      directory ? path.join(directory, '__azurite_db_blob__.json') : undefined,
      directory ? path.join(directory, '__azurite_db_blob_extent__.json') : undefined,
      directory ? [{ locationId: 'Default', locationPath: path.join(directory, '__blobstorage__'), maxConcurrency: 1 }] : [],
      false, // access log
      undefined,
      false, // debug log: it would record request headers and SAS signatures
      undefined,
      true, // loose: accept headers and parameters Azurite does not know
      true, // skip the API version check: newer SDKs send newer versions
      this.options.tls?.certFile ?? '',
      this.options.tls?.keyFile ?? '',
      '',
      undefined,
      false,
      directory === undefined,
    );
    const server = new BlobServer(configuration);
    await server.start();
    return server;
  }
}

/**
 * Whether an Azurite blob endpoint answers at `url` (its responses carry
 * `Server: Azurite-Blob/…`): start-up names `--blob-endpoint` when the blob
 * port is taken by one, as it is wherever Azurite already runs.
 */
export async function azuriteAnswersAt(url: string): Promise<boolean> {
  try {
    // Generous: only a start that already failed waits for it, and another Lapis's endpoint loads Azurite at its first connection.
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return /^Azurite-Blob\//i.test(response.headers.get('server') ?? '');
  } catch {
    return false;
  }
}
