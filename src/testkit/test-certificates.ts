// Self-signed certificates for tests, made by openssl (node:crypto reads
// X.509 but cannot make it): as Batch's Certificate_Add takes them.

import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Why tests that need openssl skip, or false when it is there. */
export const OPENSSL_MISSING: string | false = spawnSync('openssl', ['version']).status === 0 ? false : 'openssl is not installed';

export interface TestCertificate {
  /** The SHA-1 thumbprint, upper-case hex, as Batch names a certificate. */
  thumbprint: string;
  /** DER, base64 (certificateFormat cer). */
  cer: string;
  /** PEM, base64 (a cer given as PEM). */
  pem: string;
  /** PFX protected by TEST_PFX_PASSWORD, base64. */
  pfx: string;
}

export const TEST_PFX_PASSWORD = 'correct horse battery staple';

/** A fresh certificate with subject CN=`name`, its files in a new directory under `directory`. */
export function makeTestCertificate(directory: string, name: string): TestCertificate {
  const dir = fs.mkdtempSync(path.join(directory, `${name}-`));
  const file = (suffix: string) => path.join(dir, suffix);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('key.pem'), '-out', file('cert.pem'), '-subj', `/CN=${name}`, '-days', '2'], { stdio: 'ignore' });
  execFileSync('openssl', ['pkcs12', '-export', '-in', file('cert.pem'), '-inkey', file('key.pem'), '-out', file('cert.pfx'), '-passout', `pass:${TEST_PFX_PASSWORD}`], { stdio: 'ignore' });
  const pem = fs.readFileSync(file('cert.pem'));
  const x509 = new X509Certificate(pem);
  return {
    thumbprint: x509.fingerprint.replace(/:/g, ''),
    cer: x509.raw.toString('base64'),
    pem: pem.toString('base64'),
    pfx: fs.readFileSync(file('cert.pfx')).toString('base64'),
  };
}
