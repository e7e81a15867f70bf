// The blob endpoint as every Batch account's auto-storage account: container
// SAS URLs for autoStorageContainerName resource files. SAS tokens are made
// with @azure/storage-blob (loaded at the first one) and are short-lived.

import type { StorageSharedKeyCredential } from '@azure/storage-blob';
import type { AutoStorage } from '../core/ports.js';
import { storageBlob } from './storage-blob.js';

export interface StorageAccount {
  endpoint: string;
  accountName: string;
  accountKey: string;
}

const SAS_LIFETIME_MS = 24 * 3_600_000;

/** The account URL for path-style endpoints (Azurite, http://host:port/account). */
export function accountUrl(account: StorageAccount): string {
  const base = account.endpoint.replace(/\/+$/, '');
  return base.endsWith(`/${account.accountName}`) || !isPathStyle(base) ? base : `${base}/${account.accountName}`;
}

function isPathStyle(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === 'localhost' || /^[\d.]+$/.test(host) || host.startsWith('[');
}

export class BlobAutoStorage implements AutoStorage {
  private credential: StorageSharedKeyCredential | undefined;

  constructor(
    private readonly account: StorageAccount,
    private readonly now: () => Date,
  ) {}

  containerSasUrl(_batchAccount: string, containerName: string): string {
    const { ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } = storageBlob();
    this.credential ??= new StorageSharedKeyCredential(this.account.accountName, this.account.accountKey);
    const startsOn = new Date(this.now().getTime() - 5 * 60_000);
    const sas = generateBlobSASQueryParameters(
      {
        containerName,
        permissions: ContainerSASPermissions.parse('rl'),
        startsOn,
        expiresOn: new Date(startsOn.getTime() + SAS_LIFETIME_MS),
      },
      this.credential,
    ).toString();
    return `${accountUrl(this.account)}/${encodeURIComponent(containerName)}?${sas}`;
  }
}
