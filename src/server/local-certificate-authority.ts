// The local certificate authority of --azure-hostnames: made once in the data
// directory (`tls/ca.pem`, and `tls/ca-key.pem` mode 0600, never logged or
// printed), it signs the certificate the Batch and blob endpoints serve for
// Azure's host names, so a client that trusts the CA reaches
// https://<account>.<region>.batch.azure.com with no patch.
//
// Keys come from Node's crypto (native, RSA 2048); node-forge builds and signs
// the X.509 certificates, which Node's crypto cannot. The server certificate is
// signed anew at every start, for the names that start serves (accounts and
// region may change between starts); the CA stays, so clients trust it once.
//
// The CA is name-constrained (RFC 5280 nameConstraints, critical) to Azure's
// Batch and blob domains, `localhost` and loopback addresses: whoever reads
// its key (a task, when Lapis does not run as root and tasks run as its user)
// can sign nothing that a client trusting it would accept for another site.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type forge from 'node-forge';

/** node-forge is loaded when a certificate is made or read (only with --azure-endpoints): it is 50 ms of every other start. */
let loaded: typeof forge | undefined;
function forgeModule(): typeof forge {
  loaded ??= createRequire(import.meta.url)('node-forge') as typeof forge;
  return loaded;
}

const CA_VALIDITY_YEARS = 10;
/** What the CA may sign for: DNS names at or below these, and loopback addresses. */
const CA_PERMITTED_DNS = ['batch.azure.com', 'blob.core.windows.net', 'localhost'];
const CA_PERMITTED_IPS: { address: number[]; mask: number[] }[] = [
  { address: [127, 0, 0, 0], mask: [255, 0, 0, 0] },
  { address: [...Array(15).fill(0), 1], mask: Array(16).fill(255) },
];

/** A loopback address, which the CA may sign for. */
export function isLoopbackAddress(address: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(address) || address === '::1';
}

/** The critical nameConstraints extension: permitted subtrees only (RFC 5280 4.2.1.10). */
function nameConstraints(): object {
  const { asn1 } = forgeModule();
  const subtree = (name: forge.asn1.Asn1) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [name]);
  const dns = CA_PERMITTED_DNS.map((domain) => subtree(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, domain)));
  const ips = CA_PERMITTED_IPS.map(({ address, mask }) =>
    subtree(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, String.fromCharCode(...address, ...mask))),
  );
  const permitted = asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [...dns, ...ips]);
  return { id: '2.5.29.30', critical: true, value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [permitted]) };
}
// Clients refuse server certificates valid longer than 398 days (Apple, Chrome); Lapis signs a new one at each start anyway.
const SERVER_VALIDITY_DAYS = 397;

export interface CertificateAuthorityFiles {
  directory: string;
  /** The CA certificate, to trust: public. */
  caCertFile: string;
  caKeyFile: string;
}

export function certificateAuthorityFiles(dataDir: string): CertificateAuthorityFiles {
  const directory = path.join(path.resolve(dataDir), 'tls');
  return { directory, caCertFile: path.join(directory, 'ca.pem'), caKeyFile: path.join(directory, 'ca-key.pem') };
}

function newRsaKeys(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** A positive serial number of 16 random bytes, as hex (a leading 0 keeps it positive in DER). */
function serialNumber(): string {
  return `00${randomBytes(16).toString('hex')}`;
}

function signCertificate(
  subject: forge.pki.CertificateField[],
  issuer: { subject: forge.pki.CertificateField[]; keyPem: string },
  publicPem: string,
  validity: { notBefore: Date; notAfter: Date },
  extensions: object[],
): string {
  const forge = forgeModule();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicPem);
  certificate.serialNumber = serialNumber();
  certificate.validity.notBefore = validity.notBefore;
  certificate.validity.notAfter = validity.notAfter;
  certificate.setSubject(subject);
  certificate.setIssuer(issuer.subject);
  certificate.setExtensions(extensions);
  certificate.sign(forge.pki.privateKeyFromPem(issuer.keyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate);
}

/** Writes `content` to `file` with `mode`, refusing to follow a link planted in its place. */
function writePrivately(file: string, content: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.rmSync(temporary, { force: true });
  fs.writeFileSync(temporary, content, { mode, flag: 'wx' });
  fs.renameSync(temporary, file);
}

/** The data directory's CA, made on first use. */
export function ensureCertificateAuthority(dataDir: string, now: Date): CertificateAuthorityFiles {
  const files = certificateAuthorityFiles(dataDir);
  fs.mkdirSync(files.directory, { recursive: true, mode: 0o700 });
  if (fs.existsSync(files.caCertFile) && fs.existsSync(files.caKeyFile)) {
    const mode = fs.statSync(files.caKeyFile).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new Error(`The local CA's key ${files.caKeyFile} is open to others (mode ${mode.toString(8)}): make it 0600.`);
    return files;
  }
  const keys = newRsaKeys();
  const subject = [
    { name: 'commonName', value: 'Lapis local CA' },
    { name: 'organizationName', value: 'Lapis' },
  ];
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const pem = signCertificate(subject, { subject, keyPem: keys.privatePem }, keys.publicPem, { notBefore: new Date(now.getTime() - 60_000), notAfter }, [
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    nameConstraints(),
  ]);
  writePrivately(files.caKeyFile, keys.privatePem, 0o600);
  writePrivately(files.caCertFile, pem, 0o644);
  return files;
}

export interface ServerCertificate {
  certFile: string;
  keyFile: string;
}

/** Signs a server certificate for `names` (DNS names, `*.` wildcards allowed) and `addresses` (IPs) with the CA. */
export function issueServerCertificate(ca: CertificateAuthorityFiles, names: string[], addresses: string[], now: Date): ServerCertificate {
  const forge = forgeModule();
  const caCertificate = forge.pki.certificateFromPem(fs.readFileSync(ca.caCertFile, 'utf8'));
  const keys = newRsaKeys();
  const notAfter = new Date(now.getTime() + SERVER_VALIDITY_DAYS * 86_400_000);
  const pem = signCertificate(
    [{ name: 'commonName', value: names[0] ?? 'localhost' }],
    { subject: caCertificate.subject.attributes, keyPem: fs.readFileSync(ca.caKeyFile, 'utf8') },
    keys.publicPem,
    { notBefore: new Date(now.getTime() - 60_000), notAfter },
    [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2, value })), ...addresses.map((ip) => ({ type: 7, ip }))] },
    ],
  );
  const certFile = path.join(ca.directory, 'server.pem');
  const keyFile = path.join(ca.directory, 'server-key.pem');
  writePrivately(keyFile, keys.privatePem, 0o600);
  writePrivately(certFile, pem, 0o644);
  return { certFile, keyFile };
}
