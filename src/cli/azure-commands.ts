// `lapis certs` and `lapis hosts`, for --azure-hostnames: where the local
// certificate authority is and how each client trusts it, and the
// `/etc/hosts` lines that send Azure's host names to this Lapis. Both read
// the settings `lapis serve` reads (flags, LAPIS_* variables), so they answer
// for the server those settings start.

import type { Command } from 'commander';
import { resolveSettings, settingFor, type LapisConfig } from '../config/config.js';
import { azureHostNames } from '../server/azure-endpoints.js';
import { ensureCertificateAuthority } from '../server/local-certificate-authority.js';
import { addSettingOptions, givenFlags } from './settings-options.js';

const HOSTS_SETTINGS = ['--host', '--blob-host', '--blob-endpoint', '--storage-account', '--accounts-file', '--azure-region'].map(settingFor);
const CERTS_SETTINGS = ['--data'].map(settingFor);

/** An address clients on this machine reach a listening address at: a wildcard one is reached on loopback. */
function reachableAddress(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}

export function hostsLines(config: LapisConfig): string[] {
  const names = azureHostNames(config);
  const batchAddress = reachableAddress(config.host);
  const blobAddress = reachableAddress(config.blob.host ?? config.host);
  const byAddress = new Map<string, string[]>();
  for (const [address, list] of [[batchAddress, names.batch], [blobAddress, names.blob]] as const) {
    byAddress.set(address, [...(byAddress.get(address) ?? []), ...list]);
  }
  return [...byAddress].filter(([, list]) => list.length > 0).map(([address, list]) => `${address} ${list.join(' ')}`);
}

export function trustInstructions(caCertFile: string): string[] {
  return [
    `Lapis's local certificate authority: ${caCertFile}`,
    '(its key, ca-key.pem beside it, is mode 0600 and never printed; keep it so)',
    '',
    'Trust it, for the programs that reach Lapis under Azure host names:',
    `  Node.js (@azure/batch):   export NODE_EXTRA_CA_CERTS=${caCertFile}`,
    `  Python requests (azure-batch, azure-storage-blob, Snakemake):`,
    `                            export REQUESTS_CA_BUNDLE=${caCertFile}`,
    '                            (this replaces the public CAs for requests; to keep them too:',
    `                             cat /etc/ssl/certs/ca-certificates.crt ${caCertFile} > lapis-bundle.pem, and name that)`,
    `  curl:                     curl --cacert ${caCertFile} …   (or export CURL_CA_BUNDLE=${caCertFile})`,
    `  az CLI:                   export REQUESTS_CA_BUNDLE=${caCertFile}`,
    '  Java (Nextflow):          cp "$JAVA_HOME/lib/security/cacerts" lapis-cacerts && chmod u+w lapis-cacerts',
    `                            keytool -importcert -noprompt -alias lapis-local-ca -file ${caCertFile} -keystore lapis-cacerts -storepass changeit`,
    '                            export NXF_OPTS="-Djavax.net.ssl.trustStore=$PWD/lapis-cacerts -Djavax.net.ssl.trustStorePassword=changeit"',
    `  the whole machine (Debian/Ubuntu, root): cp ${caCertFile} /usr/local/share/ca-certificates/lapis-local-ca.crt && update-ca-certificates`,
    '',
    "Tasks on Lapis's nodes trust it already: REQUESTS_CA_BUNDLE, SSL_CERT_FILE and CURL_CA_BUNDLE name",
    "$AZ_BATCH_NODE_ROOT_DIR/lapis/ca-bundle.pem (it and the public CAs), NODE_EXTRA_CA_CERTS the CA alone.",
  ];
}

export function addAzureCommands(program: Command): void {
  const certs = program
    .command('certs')
    .description("Print where the local certificate authority of --azure-hostnames is (made now if the data directory has none) and how to trust it.");
  addSettingOptions(certs, CERTS_SETTINGS).action(() => {
    const { config } = resolveSettings(process.env, givenFlags(certs, CERTS_SETTINGS));
    const ca = ensureCertificateAuthority(config.dataDir ?? '.lapis', new Date());
    process.stdout.write(`${trustInstructions(ca.caCertFile).join('\n')}\n`);
  });

  const hosts = program
    .command('hosts')
    .description('Print the /etc/hosts lines that send the Azure host names `lapis serve --azure-hostnames` answers for to it.');
  addSettingOptions(hosts, HOSTS_SETTINGS).action(() => {
    const { config } = resolveSettings(process.env, givenFlags(hosts, HOSTS_SETTINGS));
    process.stdout.write(`${hostsLines(config).join('\n')}\n`);
  });
}
