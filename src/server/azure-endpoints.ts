// --azure-hostnames: the names the Batch and blob endpoints answer for
// (`<account>.<region>.batch.azure.com`, `<storage>.blob.core.windows.net`),
// the certificate they serve for them, signed by the data directory's local
// CA, and the URLs clients use. The names resolve to Lapis through the
// `/etc/hosts` lines `lapis hosts` prints; the addresses it listens on are in
// the certificate too, for nodes, which reach the endpoints by address.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { BATCH_HOST_SUFFIX, BLOB_HOST_SUFFIX, batchHostName, blobHostName } from '../core/azure-hostnames.js';
import type { LapisConfig } from '../config/config.js';
import type { AzureNamesForTasks } from '../agent/azure-names-in-tasks.js';
import { ensureCertificateAuthority, isLoopbackAddress, issueServerCertificate } from './local-certificate-authority.js';

export interface AzureEndpoints {
  tls: { certFile: string; keyFile: string };
  certificateAuthority: string;
  /** The first account's Batch URL: the one clients are shown. */
  batchUrl(port: number): string;
  /** An account's Batch URL, as its tasks see it in AZ_BATCH_ACCOUNT_URL and answers name it. */
  accountUrl(account: string, port: number): string;
  blobUrl(port: number): string;
  /** What runs on nodes need to reach the endpoints on these names. */
  forTasks: AzureNamesForTasks;
}

/** `https://name`, with the port unless it is 443. */
export function httpsUrl(host: string, port: number): string {
  return port === 443 ? `https://${host}` : `https://${host}:${port}`;
}

/** The names the endpoints answer for, as hosts lines and the certificate list them. */
export function azureHostNames(config: Pick<LapisConfig, 'accounts' | 'azureRegion' | 'blob'>): { batch: string[]; blob: string[] } {
  return {
    batch: config.accounts.map((account) => batchHostName(account.name, config.azureRegion)),
    blob: config.blob.externalEndpoint ? [] : [blobHostName(config.blob.accountName)],
  };
}

export function azureEndpoints(config: LapisConfig, dataDir: string, now: Date): AzureEndpoints {
  const ca = ensureCertificateAuthority(dataDir, now);
  const names = azureHostNames(config);
  const addresses = [...new Set(['127.0.0.1', '::1', config.host, config.blob.host ?? config.host].filter((address) => isIP(address) !== 0 && isLoopbackAddress(address)))];
  const tls = issueServerCertificate(
    ca,
    [...names.batch, ...names.blob, `*.${config.azureRegion}${BATCH_HOST_SUFFIX}`, `*${BLOB_HOST_SUFFIX}`, 'localhost'],
    addresses,
    now,
  );
  const firstAccount = config.accounts[0]?.name ?? 'lapis';
  return {
    tls,
    certificateAuthority: ca.caCertFile,
    batchUrl: (port) => httpsUrl(batchHostName(firstAccount, config.azureRegion), port),
    accountUrl: (account, port) => httpsUrl(batchHostName(account, config.azureRegion), port),
    forTasks: {
      caCertificate: readFileSync(ca.caCertFile, 'utf8'),
      batchAddress: config.host,
      ...(config.blob.externalEndpoint ? {} : { blob: { name: blobHostName(config.blob.accountName), address: config.blob.host ?? config.host } }),
    },
    blobUrl: (port) => httpsUrl(blobHostName(config.blob.accountName), port),
  };
}
