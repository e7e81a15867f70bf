// Certificates through @azure/batch: add (cer and pfx, made by openssl at
// test time), get with publicData and never the data or password, list with
// $filter, $select and paging, the add rules (thumbprint must match, sha1 only,
// 10 KB, no password with cer), the OData key segment in the URL, and the
// deletion lifecycle: gone when unused, deletefailed while a pool references
// it, cancelDeletion back to active.

import type { BatchServiceModels } from '@azure/batch';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { batchError, poolSpec, uniqueId } from '../../src/testkit/builders.js';
import { errorDetail, signedRequest } from '../../src/testkit/signed-request.js';
import { makeTestCertificate, OPENSSL_MISSING, TEST_PFX_PASSWORD, type TestCertificate } from '../../src/testkit/test-certificates.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const PFX_PASSWORD = TEST_PFX_PASSWORD;
let server: TestServer;
let workDir: string;

/** A fresh self-signed certificate, as DER, PEM and password-protected PFX. */
function makeCertificate(name: string): TestCertificate {
  return makeTestCertificate(workDir, name);
}

function cerParameter(certificate: TestCertificate): BatchServiceModels.CertificateAddParameter {
  return { thumbprint: certificate.thumbprint, thumbprintAlgorithm: 'sha1', certificateFormat: 'cer', data: certificate.cer };
}

async function addRaw(body: Record<string, unknown>) {
  return signedRequest(server, 'POST', '/certificates', { body: JSON.stringify(body) });
}

async function waitForCertificateState(thumbprint: string, state: BatchServiceModels.CertificateState) {
  return waitFor(async () => {
    const certificate = await server.batch.certificate.get('sha1', thumbprint);
    return certificate.state === state ? certificate : undefined;
  }, { what: `certificate ${thumbprint} to be ${state}` });
}

async function waitForCertificateGone(thumbprint: string): Promise<void> {
  await waitFor(async () => {
    try {
      await server.batch.certificate.get('sha1', thumbprint);
      return undefined;
    } catch (error) {
      return (error as { code?: string }).code === 'CertificateNotFound' ? true : undefined;
    }
  }, { what: `certificate ${thumbprint} to be deleted` });
}

before(async () => {
  if (OPENSSL_MISSING) return;
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-certs-'));
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe('certificates', { skip: OPENSSL_MISSING }, () => {
  test('a cer certificate is added, and Get answers it with publicData and never its data', async () => {
    const certificate = makeCertificate('cer-one');
    const added = await server.batch.certificate.add(cerParameter(certificate));
    assert.equal(added._response.status, 201);
    assert.ok(added.eTag);

    const got = await server.batch.certificate.get('sha1', certificate.thumbprint);
    assert.equal(got.thumbprint, certificate.thumbprint);
    assert.equal(got.thumbprintAlgorithm, 'sha1');
    assert.equal(got.state, 'active');
    assert.ok(got.stateTransitionTime instanceof Date);
    assert.equal(got.previousState, undefined);
    assert.equal(got.publicData, certificate.cer);
    assert.ok(got.url?.endsWith(`/certificates(thumbprintAlgorithm=sha1,thumbprint=${certificate.thumbprint})`), got.url);

    const raw = await signedRequest(server, 'GET', `/certificates(thumbprintAlgorithm=sha1,thumbprint=${certificate.thumbprint})`);
    assert.equal(raw.status, 200);
    assert.ok(raw.headers.get('etag'));
    for (const secret of ['data', 'password', 'certificateFormat', 'eTag']) assert.equal(secret in raw.body, false, `${secret} is not on the wire`);
  });

  test('a PEM-encoded cer and a pfx with its password are accepted; a pfx has no publicData', async () => {
    const pem = makeCertificate('pem');
    await server.batch.certificate.add({ thumbprint: pem.thumbprint, thumbprintAlgorithm: 'sha1', certificateFormat: 'cer', data: pem.pem });
    assert.equal((await server.batch.certificate.get('sha1', pem.thumbprint)).publicData, pem.cer);

    const pfx = makeCertificate('pfx');
    await server.batch.certificate.add({ thumbprint: pfx.thumbprint, thumbprintAlgorithm: 'sha1', certificateFormat: 'pfx', data: pfx.pfx, password: PFX_PASSWORD });
    const got = await server.batch.certificate.get('sha1', pfx.thumbprint);
    assert.equal(got.state, 'active');
    assert.equal(got.publicData, undefined);
  });

  test('the key segment takes either order, any case and a spaced or lower-case thumbprint; a malformed key is InvalidUri', async () => {
    const certificate = makeCertificate('keys');
    await server.batch.certificate.add(cerParameter(certificate));
    const lower = certificate.thumbprint.toLowerCase();
    assert.equal((await server.batch.certificate.get('SHA1', lower)).thumbprint, certificate.thumbprint);
    const reversed = await signedRequest(server, 'GET', `/Certificates(Thumbprint=${lower},ThumbprintAlgorithm=sha1)`);
    assert.equal(reversed.status, 200, reversed.text);
    const spaced = await signedRequest(server, 'GET', `/certificates(thumbprintAlgorithm=sha1,thumbprint=${lower.slice(0, 20)}%20${lower.slice(20)})`);
    assert.equal(spaced.status, 200, spaced.text);
    for (const key of ['(thumbprint=abc)', '(thumbprintAlgorithm=sha1,thumbprint=abc,extra=1)', '(nonsense)']) {
      const response = await signedRequest(server, 'GET', `/certificates${key}`);
      assert.equal(response.status, 400, key);
      assert.equal(response.body.code, 'InvalidUri', key);
    }
    await assert.rejects(server.batch.certificate.get('sha1', '0'.repeat(40)), batchError('CertificateNotFound', 404));
  });

  test('list takes $filter, $select and maxresults with paging', async () => {
    const first = makeCertificate('list-a');
    const second = makeCertificate('list-b');
    await server.batch.certificate.add(cerParameter(first));
    await server.batch.certificate.add(cerParameter(second));

    const all = await server.batch.certificate.list();
    const thumbprints = all.map((entry) => entry.thumbprint);
    assert.ok(thumbprints.includes(first.thumbprint) && thumbprints.includes(second.thumbprint));

    const filtered = await server.batch.certificate.list({ certificateListOptions: { filter: `thumbprint eq '${first.thumbprint}' and state eq 'active'` } });
    assert.deepEqual(filtered.map((entry) => entry.thumbprint), [first.thumbprint]);
    assert.deepEqual([...(await server.batch.certificate.list({ certificateListOptions: { filter: "state eq 'deletefailed'" } }))], []);

    const selected = await server.batch.certificate.list({ certificateListOptions: { select: 'thumbprint,state', filter: `thumbprint eq '${second.thumbprint}'` } });
    assert.equal(selected[0]?.thumbprint, second.thumbprint);
    assert.equal(selected[0]?.state, 'active');
    assert.equal(selected[0]?.publicData, undefined);

    const page = await server.batch.certificate.list({ certificateListOptions: { maxResults: 1 } });
    assert.equal(page.length, 1);
    assert.ok(page.odatanextLink);
    const next = await server.batch.certificate.listNext(page.odatanextLink as string);
    assert.equal(next.length, 1);
    assert.notEqual(next[0]?.thumbprint, page[0]?.thumbprint);

    const bad = await signedRequest(server, 'GET', '/certificates', { query: `api-version=2022-10-01.16.0&$filter=${encodeURIComponent('publicData eq 1')}` });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'InvalidQueryParameterValue');
  });

  test('add refuses a duplicate, a wrong thumbprint, other algorithms, non-certificates, too much data and a password with cer', async () => {
    const certificate = makeCertificate('rules');
    const other = makeCertificate('rules-other');
    await server.batch.certificate.add(cerParameter(certificate));
    await assert.rejects(server.batch.certificate.add(cerParameter(certificate)), batchError('CertificateExists', 409));
    await assert.rejects(
      server.batch.certificate.add({ ...cerParameter(certificate), thumbprint: certificate.thumbprint.toLowerCase() }),
      batchError('CertificateExists', 409),
    );

    const cases: [Record<string, unknown>, string, string][] = [
      [{ ...cerParameter(other), thumbprint: certificate.thumbprint }, 'InvalidPropertyValue', 'thumbprint'],
      [{ ...cerParameter(other), thumbprint: 'XYZ' }, 'InvalidPropertyValue', 'thumbprint'],
      [{ ...cerParameter(other), thumbprintAlgorithm: 'sha256' }, 'InvalidPropertyValue', 'thumbprintAlgorithm'],
      [{ ...cerParameter(other), data: 'not base64!' }, 'InvalidPropertyValue', 'data'],
      [{ ...cerParameter(other), data: Buffer.from('just some text').toString('base64') }, 'InvalidPropertyValue', 'data'],
      [{ ...cerParameter(other), certificateFormat: 'pfx', data: Buffer.from('not a pfx').toString('base64') }, 'InvalidPropertyValue', 'data'],
      [{ ...cerParameter(other), data: Buffer.alloc(10 * 1024 + 1, 7).toString('base64') }, 'InvalidPropertyValue', 'data'],
      [{ ...cerParameter(other), password: 'nope' }, 'InvalidPropertyValue', 'password'],
      [{ ...cerParameter(other), certificateFormat: 'der' }, 'InvalidPropertyValue', 'certificateFormat'],
      [{ thumbprint: other.thumbprint, thumbprintAlgorithm: 'sha1' }, 'MissingRequiredProperty', 'data'],
    ];
    for (const [body, code, property] of cases) {
      const response = await addRaw(body);
      assert.equal(response.status, 400, `${property}: ${response.text}`);
      assert.equal(response.body.code, code, property);
      assert.equal(errorDetail(response.body, 'PropertyName'), property);
      assert.ok(!response.text.includes('nope'), 'a password is never echoed');
    }
    await assert.rejects(server.batch.certificate.get('sha1', other.thumbprint), batchError('CertificateNotFound', 404));
  });

  test('an unused certificate is deleted; cancelling the deletion of an active one is CertificateStateActive', async () => {
    const certificate = makeCertificate('unused');
    await server.batch.certificate.add(cerParameter(certificate));
    await assert.rejects(server.batch.certificate.cancelDeletion('sha1', certificate.thumbprint), batchError('CertificateStateActive', 409));
    const deleted = await server.batch.certificate.deleteMethod('sha1', certificate.thumbprint);
    assert.equal(deleted._response.status, 202);
    await waitForCertificateGone(certificate.thumbprint);
    await assert.rejects(server.batch.certificate.deleteMethod('sha1', certificate.thumbprint), batchError('CertificateNotFound', 404));
    // Deleted, it can be added again.
    await server.batch.certificate.add(cerParameter(certificate));
  });

  test('a certificate a pool references fails to delete; cancelDeletion makes it active; without the reference it goes', async () => {
    const certificate = makeCertificate('in-use');
    await server.batch.certificate.add(cerParameter(certificate));
    const poolId = uniqueId('CertPool');
    await server.batch.pool.add(
      poolSpec(poolId, { targetDedicatedNodes: 0, certificateReferences: [{ thumbprint: certificate.thumbprint.toLowerCase(), thumbprintAlgorithm: 'sha1', visibility: ['task'] }] }),
    );

    await server.batch.certificate.deleteMethod('sha1', certificate.thumbprint);
    const failed = await waitForCertificateState(certificate.thumbprint, 'deletefailed');
    assert.equal(failed.previousState, 'deleting');
    assert.ok(failed.previousStateTransitionTime instanceof Date);
    // The code, message and value of the REST reference's own deletefailed example.
    assert.equal(failed.deleteCertificateError?.code, 'PoolsReferencingCertificate');
    assert.equal(failed.deleteCertificateError?.message, 'The specified certificate is being used by the below mentioned pool(s)');
    assert.deepEqual(failed.deleteCertificateError?.values, [{ name: 'Pools', value: poolId }]);
    const listed = await server.batch.certificate.list({ certificateListOptions: { filter: "state eq 'deletefailed'" } });
    assert.deepEqual(listed.map((entry) => entry.thumbprint), [certificate.thumbprint]);

    const cancelled = await server.batch.certificate.cancelDeletion('sha1', certificate.thumbprint);
    assert.equal(cancelled._response.status, 204);
    const active = await server.batch.certificate.get('sha1', certificate.thumbprint);
    assert.equal(active.state, 'active');
    assert.equal(active.previousState, 'deletefailed');
    assert.equal(active.deleteCertificateError, undefined);

    await server.batch.certificate.deleteMethod('sha1', certificate.thumbprint);
    await waitForCertificateState(certificate.thumbprint, 'deletefailed');
    await server.batch.pool.updateProperties(poolId, { certificateReferences: [], applicationPackageReferences: [], metadata: [] });
    await server.batch.certificate.deleteMethod('sha1', certificate.thumbprint);
    await waitForCertificateGone(certificate.thumbprint);
    await server.batch.pool.deleteMethod(poolId);
  });
});
