// The embedded Azure Blob endpoint: Azurite's BlobServer, run in-process.
// This is the one module that knows Azurite. The package's main entry is its
// VS Code extension, so the server is deep-imported at an exact version pin.
// Azurite saves its metadata on an interval: a kill -9 may lose the last
// seconds of uploads (README, "Known limits").

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}

type BlobConfigurationConstructor = new (...args: unknown[]) => unknown;
type BlobServerConstructor = new (configuration: unknown) => AzuriteServer;

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
}

export class EmbeddedBlobServer {
  private server?: AzuriteServer;
  private url = '';

  constructor(private readonly options: EmbeddedBlobOptions) {}

  async start(): Promise<string> {
    const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration').default as BlobConfigurationConstructor;
    const BlobServer = require('azurite/dist/src/blob/BlobServer').default as BlobServerConstructor;
    const { directory } = this.options;
    if (directory) fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
    const configuration = new BlobConfiguration(
      this.options.host,
      this.options.port,
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
    this.server = new BlobServer(configuration);
    await this.server.start();
    this.url = this.server.getHttpServerAddress();
    return this.url;
  }

  get endpoint(): string {
    return this.url;
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}

/**
 * Whether an Azurite blob endpoint answers at `url` (its responses carry
 * `Server: Azurite-Blob/…`): start-up names `--blob-endpoint` when the blob
 * port is taken by one, as it is wherever Azurite already runs.
 */
export async function azuriteAnswersAt(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return /^Azurite-Blob\//i.test(response.headers.get('server') ?? '');
  } catch {
    return false;
  }
}
