// --azure-hostnames inside tasks. On Azure a task reaches its account's Batch
// and blob endpoints by DNS, on certificates every TLS stack trusts; here the
// names are this server's (addresses on the loopback) and the certificates
// are signed by Lapis's local CA. So, on such a node:
//   - the agent puts the CA's certificate in the node, `<root>/lapis/ca.pem`,
//     and a bundle of it with Node.js's public roots, `<root>/lapis/ca-bundle.pem`,
//     readable by every run of the node, and inside its containers (the node
//     root is mounted at the same path); root-owned in a directory tasks
//     cannot write;
//   - every run gets the variables the common TLS stacks read (trustVariables):
//     its own environmentSettings override them (docs/workflow-engines.md
//     says why Lapis sets variables Azure does not);
//   - a container run's /etc/hosts maps the Azure names it needs (its
//     account's Batch host, the blob host) to the endpoints' addresses
//     (`--add-host`); a process run resolves through the machine's, as the
//     user configured it (`lapis hosts`).

import tls from 'node:tls';
import { BATCH_HOST_SUFFIX } from '../core/azure-hostnames.js';
import { openOrReplaceDirectory, withDirectory, writeFileReplacing } from './no-follow.js';

/** What the server tells a node's agent in --azure-hostnames mode (AgentSettings.azureNames). */
export interface AzureNamesForTasks {
  /** The local CA's certificate (PEM): public, nothing secret. */
  caCertificate: string;
  /** The address the Batch endpoint listens on, which every account's Batch host name stands for. */
  batchAddress: string;
  /** The embedded blob endpoint's host name and address; absent with an external blob endpoint. */
  blob?: { name: string; address: string };
}

const DIRECTORY = 'lapis';

function caFile(nodeRoot: string): string {
  return `${nodeRoot}/${DIRECTORY}/ca.pem`;
}

function bundleFile(nodeRoot: string): string {
  return `${nodeRoot}/${DIRECTORY}/ca-bundle.pem`;
}

/** Writes the CA and the bundle into the node (again at every preparation: a reimage wipes them). */
export async function installTrustedCa(nodeRoot: string, caCertificate: string): Promise<void> {
  const bundle = `${[...tls.rootCertificates, caCertificate.trim()].join('\n')}\n`;
  await withDirectory(nodeRoot, [], async (root) => {
    const directory = await openOrReplaceDirectory(root, DIRECTORY);
    try {
      await directory.handle.chmod(0o755);
      await writeFileReplacing(directory, 'ca.pem', caCertificate, { mode: 0o644 });
      await writeFileReplacing(directory, 'ca-bundle.pem', bundle, { mode: 0o644 });
    } finally {
      await directory.close();
    }
  });
}

/**
 * The trust variables every run of the node gets: Python requests and the
 * Azure SDKs for Python (REQUESTS_CA_BUNDLE), OpenSSL and Go programs such as
 * azcopy (SSL_CERT_FILE), curl (CURL_CA_BUNDLE) get the bundle, which keeps
 * the public roots, since each replaces its default; Node.js adds the CA to
 * its own roots (NODE_EXTRA_CA_CERTS).
 */
export function trustVariables(nodeRoot: string): Record<string, string> {
  const bundle = bundleFile(nodeRoot);
  return { REQUESTS_CA_BUNDLE: bundle, SSL_CERT_FILE: bundle, CURL_CA_BUNDLE: bundle, NODE_EXTRA_CA_CERTS: caFile(nodeRoot) };
}

/** The hosts entries of a container run: its account's Batch host (from AZ_BATCH_ACCOUNT_URL) and the blob host. */
export function containerHosts(names: AzureNamesForTasks, accountUrl: string): { name: string; address: string }[] {
  const hosts: { name: string; address: string }[] = [];
  const batchHost = new URL(accountUrl).hostname;
  if (batchHost.endsWith(BATCH_HOST_SUFFIX)) hosts.push({ name: batchHost, address: names.batchAddress });
  if (names.blob) hosts.push(names.blob);
  return hosts;
}
