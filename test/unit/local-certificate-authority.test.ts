import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ensureCertificateAuthority, issueServerCertificate } from '../../src/server/local-certificate-authority.js';

function verify(caFile: string, certFile: string): string {
  try {
    return execFileSync('openssl', ['verify', '-CAfile', caFile, certFile], { encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}`;
  }
}

test('the local CA is made once, its key 0600, and it signs for Azure Batch and blob names and loopback only', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-ca-'));
  try {
    const ca = ensureCertificateAuthority(dataDir, new Date());
    assert.equal(fs.statSync(ca.caKeyFile).mode & 0o777, 0o600);
    assert.equal(fs.statSync(ca.directory).mode & 0o777, 0o700);
    const first = fs.readFileSync(ca.caCertFile, 'utf8');
    assert.equal(fs.readFileSync(ensureCertificateAuthority(dataDir, new Date()).caCertFile, 'utf8'), first, 'made once, kept');

    const server = issueServerCertificate(ca, ['alpha.westeurope.batch.azure.com', '*.blob.core.windows.net', 'localhost'], ['127.0.0.1', '::1'], new Date());
    assert.match(verify(ca.caCertFile, server.certFile), /: OK/);
    const elsewhere = issueServerCertificate(ca, ['www.example.com'], [], new Date());
    assert.match(verify(ca.caCertFile, elsewhere.certFile), /permitted subtree violation/);
    const lanAddress = issueServerCertificate(ca, ['localhost'], ['192.168.1.2'], new Date());
    assert.match(verify(ca.caCertFile, lanAddress.certFile), /permitted subtree violation/);

    fs.chmodSync(ca.caKeyFile, 0o644);
    assert.throws(() => ensureCertificateAuthority(dataDir, new Date()), /is open to others \(mode 644\): make it 0600/);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
