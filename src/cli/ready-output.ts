// What `lapis serve` prints once it is ready: text for people, or with
// --ready-json one JSON line for test harnesses. Only the well-known
// development keys are printed (output is often kept in logs); any other key
// reads "(not printed)" in the text and null in the JSON, and a connection
// string that would hold one is left out the same way. The dashboard's
// one-time sign-in link (docs/dashboard.md) is printed for the development
// account under the same rule: it signs in as the account, once, within ten
// minutes.

import path from 'node:path';
import { DEV_ACCOUNT, DEV_STORAGE, type LapisConfig } from '../config/config.js';
import type { RunningLapis } from '../server/lapis-server.js';

export interface ReadyInfo {
  ready: true;
  pid: number;
  batchUrl: string;
  accounts: { name: string; key: string | null }[];
  /** The blob account URL (e.g. http://127.0.0.1:10000/devstoreaccount1). */
  blobUrl: string;
  storageAccount: string;
  storageKey: string | null;
  /** For the storage SDKs and tools (azure-storage-blob, az storage, Storage Explorer). */
  blobConnectionString: string | null;
  dataDirectory: string | null;
  /** Where the compute nodes' directories are: under the data directory, or a directory of Lapis's own (server/nodes-directory.ts). */
  nodesDirectory: string;
  /** The web dashboard (docs/dashboard.md). */
  dashboardUrl: string;
  /** A one-time sign-in link for the development account while it has the development key; null otherwise. */
  dashboardSignInLink: string | null;
}

const printable = (key: string, devKey: string): string | null => (key === devKey ? key : null);

export function readyInfo(lapis: RunningLapis, config: LapisConfig): ReadyInfo {
  const storageKey = printable(config.blob.accountKey, DEV_STORAGE.accountKey);
  const protocol = new URL(lapis.storageAccountUrl).protocol.replace(':', '');
  return {
    ready: true,
    pid: process.pid,
    batchUrl: lapis.batchUrl,
    accounts: config.accounts.map((account) => ({ name: account.name, key: account.name === DEV_ACCOUNT.name ? printable(account.key, DEV_ACCOUNT.key) : null })),
    blobUrl: lapis.storageAccountUrl,
    storageAccount: config.blob.accountName,
    storageKey,
    blobConnectionString:
      storageKey === null
        ? null
        : `DefaultEndpointsProtocol=${protocol};AccountName=${config.blob.accountName};AccountKey=${storageKey};BlobEndpoint=${lapis.storageAccountUrl};`,
    dataDirectory: config.inMemory || !config.dataDir ? null : path.resolve(config.dataDir),
    nodesDirectory: lapis.nodesDirectory,
    dashboardUrl: `${lapis.batchUrl}/ui`,
    dashboardSignInLink: config.accounts.some((account) => account.name === DEV_ACCOUNT.name && account.key === DEV_ACCOUNT.key) ? (lapis.dashboardSignInLink(DEV_ACCOUNT.name) ?? null) : null,
  };
}

export function readyText(info: ReadyInfo): string[] {
  return [
    `Batch URL:       ${info.batchUrl}`,
    ...info.accounts.flatMap((account) => [`Batch account:   ${account.name}`, `Batch key:       ${account.key ?? '(not printed)'}`]),
    `Blob URL:        ${info.blobUrl}`,
    `Storage account: ${info.storageAccount}`,
    `Storage key:     ${info.storageKey ?? '(not printed)'}`,
    `Blob connection string: ${info.blobConnectionString ?? '(not printed: it holds the storage key)'}`,
    `Data directory:  ${info.dataDirectory ?? '(in memory)'}`,
    `Nodes directory: ${info.nodesDirectory}`,
    `Dashboard:       ${info.dashboardUrl}`,
    ...(info.dashboardSignInLink ? [`Dashboard sign-in link (works once, for 10 minutes): ${info.dashboardSignInLink}`] : []),
    'ready',
  ];
}
