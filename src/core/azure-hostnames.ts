// The host names Azure gives a Batch account and a storage account, which
// Lapis answers for with --azure-hostnames: `<account>.<region>.batch.azure.com`
// and `<storage>.blob.core.windows.net`. Clients such as Snakemake take the
// Batch account from the first label of the Batch URL's host, so the host a
// request names is checked against the account that signed it.

export const BATCH_HOST_SUFFIX = '.batch.azure.com';
export const BLOB_HOST_SUFFIX = '.blob.core.windows.net';

export function batchHostName(account: string, region: string): string {
  return `${account.toLowerCase()}.${region.toLowerCase()}${BATCH_HOST_SUFFIX}`;
}

export function blobHostName(storageAccount: string): string {
  return `${storageAccount.toLowerCase()}${BLOB_HOST_SUFFIX}`;
}

/** The host of a Host header, without its port (`[::1]:443` → `[::1]`). */
function hostWithoutPort(hostHeader: string): string {
  return hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : (hostHeader.split(':')[0] as string);
}

/** The Batch account a Host header names (`lapis.local.batch.azure.com:8443` → `lapis`); undefined for a host of another shape. */
export function accountOfBatchHost(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const host = hostWithoutPort(hostHeader).toLowerCase();
  if (!host.endsWith(BATCH_HOST_SUFFIX)) return undefined;
  const labels = host.slice(0, -BATCH_HOST_SUFFIX.length).split('.');
  return labels.length === 2 && labels.every((label) => label.length > 0) ? labels[0] : undefined;
}

/** A URL on `<storage>.blob.core.windows.net` (any port), readdressed to `endpoint` path-style; any other URL as it is. */
export function readdressBlobUrl(url: string, storageAccount: string, endpoint: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.protocol !== 'https:' || parsed.hostname.toLowerCase() !== blobHostName(storageAccount)) return url;
  return `${endpoint.replace(/\/+$/, '')}/${storageAccount}${parsed.pathname === '/' ? '' : parsed.pathname}${parsed.search}`;
}
