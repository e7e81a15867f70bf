// Authentication, api-version, request-body errors, account isolation and
// Batch's error envelope, through a real Lapis. The official SDK drives
// whatever a client can produce; raw signed requests cover what it cannot
// (no Authorization, stale dates, bad JSON, oversized bodies, missing properties).

import type { BatchServiceClient } from '@azure/batch';
import { RestError, type HttpMethods } from '@azure/ms-rest-js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, poolSpec, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { errorDetail, signedRequest, type BatchErrorBody, type SignedResponse } from '../../src/testkit/signed-request.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

function assertBatchError(response: SignedResponse, status: number, code: string): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.code, code);
  assert.equal(response.body.message?.lang, 'en-US');
  const requestId = response.headers.get('request-id');
  assert.ok(requestId, 'every response carries a request-id');
  assert.ok(response.body.message?.value?.includes(`RequestId:${requestId}`), response.body.message?.value);
}

/** The SDK's view of an error: a RestError with Batch's code, status and body. */
function sdkError(code: string, statusCode: number, check: (body: BatchErrorBody) => void = () => {}) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RestError, `expected a RestError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.statusCode, statusCode);
    check(error.body as BatchErrorBody);
    return true;
  };
}

async function poolIds(batch: BatchServiceClient): Promise<string[]> {
  return (await batch.pool.list()).map((pool) => pool.id as string);
}

async function jobIds(batch: BatchServiceClient): Promise<string[]> {
  return (await batch.job.list()).map((job) => job.id as string);
}

async function taskIds(batch: BatchServiceClient, jobId: string): Promise<string[]> {
  return (await batch.task.list(jobId)).map((task) => task.id as string);
}

function newKey(): string {
  return randomBytes(64).toString('base64');
}

describe('authentication and validation', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  describe('authentication', () => {
    test('the SDK with a wrong key gets 403 AuthenticationFailed with a detail', async () => {
      const wrong = server.batchClientFor(server.account.name, newKey());
      await assert.rejects(
        wrong.pool.list(),
        sdkError('AuthenticationFailed', 403, (body) => {
          assert.match(errorDetail(body, 'AuthenticationErrorDetail') ?? '', /signature/);
        }),
      );
    });

    test('the SDK with an unknown account gets 403 AuthenticationFailed', async () => {
      const stranger = server.batchClientFor('nosuchaccount', server.account.key);
      await assert.rejects(
        stranger.job.list(),
        sdkError('AuthenticationFailed', 403, (body) => assert.ok(errorDetail(body, 'AuthenticationErrorDetail'))),
      );
    });

    test('a request without Authorization gets 403 AuthenticationFailed', async () => {
      const response = await signedRequest(server, 'GET', '/pools', { credentials: false });
      assertBatchError(response, 403, 'AuthenticationFailed');
      assert.match(errorDetail(response.body, 'AuthenticationErrorDetail') ?? '', /missing/);
    });

    test('a request signed more than 15 minutes ago is refused', async () => {
      const response = await signedRequest(server, 'GET', '/pools', { ocpDate: new Date(Date.now() - 16 * 60_000) });
      assertBatchError(response, 403, 'AuthenticationFailed');
      assert.match(errorDetail(response.body, 'AuthenticationErrorDetail') ?? '', /15 minutes/);
    });

    test('a URL the router cannot decode is authenticated first, then InvalidUri', async () => {
      assertBatchError(await signedRequest(server, 'GET', '/pools/%zz', { credentials: false }), 403, 'AuthenticationFailed');
      assertBatchError(await signedRequest(server, 'GET', '/pools/%zz'), 400, 'InvalidUri');
    });

    test('GET /health and GET /metrics answer without auth', async () => {
      const response = await fetch(`${server.lapis.batchUrl}/health`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: 'ok' });
      assert.equal((await fetch(`${server.lapis.batchUrl}/metrics`)).status, 200);
    });

    test('no other route answers without auth, not even an unknown one', async () => {
      const id = uniqueId('NoAuth');
      const attempts: [HttpMethods, string, string?][] = [
        ['GET', '/pools'],
        ['GET', '/jobs'],
        ['GET', `/pools/${id}`],
        ['POST', '/pools', JSON.stringify(poolSpec(id))],
        ['POST', '/jobs', JSON.stringify({ id, poolInfo: { poolId: id } })],
        ['DELETE', `/jobs/${id}`],
        ['GET', `/jobs/${id}/tasks`],
        ['GET', '/nodecounts'],
        ['GET', '/no/such/route'],
        ['POST', '/health'],
        ['DELETE', '/health'],
        ['GET', '/lapis/events'],
        ['POST', '/metrics'],
      ];
      for (const [method, path, body] of attempts) {
        const response = await signedRequest(server, method, path, { credentials: false, body });
        assertBatchError(response, 403, 'AuthenticationFailed');
      }
      assert.ok(!(await poolIds(server.batch)).includes(id));
      assert.ok(!(await jobIds(server.batch)).includes(id));
    });
  });

  describe('api-version', () => {
    test('a missing api-version is MissingRequiredQueryParameter', async () => {
      const response = await signedRequest(server, 'GET', '/pools', { query: '' });
      assertBatchError(response, 400, 'MissingRequiredQueryParameter');
      assert.equal(errorDetail(response.body, 'QueryParameterName'), 'api-version');
    });

    test('an unknown api-version is UnsupportedRequestVersion', async () => {
      const response = await signedRequest(server, 'GET', '/pools', { query: 'api-version=2019-01-01.8.0' });
      assertBatchError(response, 400, 'UnsupportedRequestVersion');
      assert.equal(errorDetail(response.body, 'QueryParameterValue'), '2019-01-01.8.0');
    });

    test('an unknown api-version creates nothing', async () => {
      const id = uniqueId('OldVersion');
      const response = await signedRequest(server, 'POST', '/pools', { query: 'api-version=2019-01-01.8.0', body: JSON.stringify(poolSpec(id)) });
      assertBatchError(response, 400, 'UnsupportedRequestVersion');
      assert.ok(!(await poolIds(server.batch)).includes(id));
    });

    test('every supported version is accepted', async () => {
      for (const version of ['2022-10-01.16.0', '2023-05-01.17.0', '2023-11-01.18.0', '2024-02-01.19.0', '2024-07-01.20.0']) {
        const response = await signedRequest(server, 'GET', '/pools', { query: `api-version=${version}` });
        assert.equal(response.status, 200, `${version}: ${JSON.stringify(response.body)}`);
        assert.ok(Array.isArray(response.body.value), version);
      }
    });
  });

  describe('request bodies', () => {
    test('a body over 1 MiB is RequestBodyTooLarge and creates nothing', async () => {
      const id = uniqueId('Huge');
      const body = JSON.stringify(poolSpec(id, { metadata: [{ name: 'padding', value: 'x'.repeat(1024 * 1024) }] }));
      const response = await signedRequest(server, 'POST', '/pools', { body });
      assertBatchError(response, 413, 'RequestBodyTooLarge');
      assert.ok(!(await poolIds(server.batch)).includes(id));
    });

    test('a task collection over 1 MiB is RequestBodyTooLarge and adds no task', async () => {
      const jobId = uniqueId('HugeJob');
      await server.batch.job.add({ id: jobId, poolInfo: { poolId: uniqueId('NoPool') } });
      const value = Array.from({ length: 100 }, (_, index) => ({ id: `t${index}`, commandLine: `/bin/echo ${'y'.repeat(11_000)}` }));
      const response = await signedRequest(server, 'POST', `/jobs/${jobId}/addtaskcollection`, { body: JSON.stringify({ value }) });
      assertBatchError(response, 413, 'RequestBodyTooLarge');
      assert.deepEqual(await taskIds(server.batch, jobId), []);
    });

    test('malformed JSON is InvalidRequestBody', async () => {
      const id = uniqueId('BadJson');
      const response = await signedRequest(server, 'POST', '/pools', { body: `{"id":"${id}","vmSize":` });
      assertBatchError(response, 400, 'InvalidRequestBody');
      assert.ok(!(await poolIds(server.batch)).includes(id));
    });

    test('a body that is not an object is InvalidRequestBody', async () => {
      for (const body of ['[1,2]', '"pool"', 'null', '']) {
        const response = await signedRequest(server, 'POST', '/jobs', { body });
        assertBatchError(response, 400, 'InvalidRequestBody');
      }
    });

    test('a pool without vmSize is MissingRequiredProperty naming it', async () => {
      const id = uniqueId('NoSize');
      const { vmSize: _omitted, ...spec } = poolSpec(id);
      const response = await signedRequest(server, 'POST', '/pools', { body: JSON.stringify(spec) });
      assertBatchError(response, 400, 'MissingRequiredProperty');
      assert.equal(errorDetail(response.body, 'PropertyName'), 'vmSize');
      assert.ok(!(await poolIds(server.batch)).includes(id));
    });

    test('a job without poolInfo is MissingRequiredProperty naming it', async () => {
      const id = uniqueId('NoPoolInfo');
      const response = await signedRequest(server, 'POST', '/jobs', { body: JSON.stringify({ id }) });
      assertBatchError(response, 400, 'MissingRequiredProperty');
      assert.equal(errorDetail(response.body, 'PropertyName'), 'poolInfo');
      assert.ok(!(await jobIds(server.batch)).includes(id));
    });

    test('a task without commandLine is MissingRequiredProperty naming it', async () => {
      const jobId = uniqueId('NoCmdJob');
      await server.batch.job.add({ id: jobId, poolInfo: { poolId: uniqueId('NoPool') } });
      const response = await signedRequest(server, 'POST', `/jobs/${jobId}/tasks`, { body: JSON.stringify({ id: 'task-1' }) });
      assertBatchError(response, 400, 'MissingRequiredProperty');
      assert.equal(errorDetail(response.body, 'PropertyName'), 'commandLine');
      assert.deepEqual(await taskIds(server.batch, jobId), []);
    });

    test('a wrong type is InvalidPropertyValue naming the property', async () => {
      const id = uniqueId('WrongType');
      const body = JSON.stringify({ ...poolSpec(id), targetDedicatedNodes: 'two' });
      const response = await signedRequest(server, 'POST', '/pools', { body });
      assertBatchError(response, 400, 'InvalidPropertyValue');
      assert.equal(errorDetail(response.body, 'PropertyName'), 'targetDedicatedNodes');
      assert.ok(!(await poolIds(server.batch)).includes(id));
    });

    test('a nested wrong value names the property path', async () => {
      const id = uniqueId('Nested');
      const body = JSON.stringify({ ...poolSpec(id), startTask: { commandLine: '/bin/true', maxTaskRetryCount: 1.5 } });
      const response = await signedRequest(server, 'POST', '/pools', { body });
      assertBatchError(response, 400, 'InvalidPropertyValue');
      assert.equal(errorDetail(response.body, 'PropertyName'), 'startTask.maxTaskRetryCount');
      assert.ok(!(await poolIds(server.batch)).includes(id));
    });

    test('invalid ids are InvalidPropertyValue and create nothing', async () => {
      const jobId = uniqueId('IdJob');
      await server.batch.job.add({ id: jobId, poolInfo: { poolId: uniqueId('NoPool') } });
      const before = { pools: await poolIds(server.batch), jobs: await jobIds(server.batch) };
      for (const id of ['x'.repeat(65), 'has spaces', '']) {
        await assert.rejects(server.batch.pool.add(poolSpec(id)), batchError('InvalidPropertyValue', 400), `pool '${id}'`);
        await assert.rejects(server.batch.job.add({ id, poolInfo: { poolId: 'p' } }), batchError('InvalidPropertyValue', 400), `job '${id}'`);
        const response = await signedRequest(server, 'POST', `/jobs/${jobId}/tasks`, { body: JSON.stringify({ id, commandLine: '/bin/true' }) });
        assertBatchError(response, 400, 'InvalidPropertyValue');
        assert.equal(errorDetail(response.body, 'PropertyName'), 'id');
      }
      assert.deepEqual(await poolIds(server.batch), before.pools);
      assert.deepEqual(await jobIds(server.batch), before.jobs);
      assert.deepEqual(await taskIds(server.batch, jobId), []);
    });
  });

  describe('error envelope and headers', () => {
    test('errors carry Batch\'s envelope and the request-id', async () => {
      const response = await signedRequest(server, 'GET', `/pools/${uniqueId('Missing')}`);
      assertBatchError(response, 404, 'PoolNotFound');
      assert.match(response.body['odata.metadata'] ?? '', /\$metadata#Microsoft\.Azure\.Batch\.Protocol\.Entities\.Container\.errors\/@Element$/);
    });

    test("replies carry Batch's Content-Type", async () => {
      const ok = await signedRequest(server, 'GET', '/pools');
      assert.equal(ok.headers.get('content-type'), 'application/json;odata=minimalmetadata');
      const failed = await signedRequest(server, 'GET', '/pools/nope');
      assert.equal(failed.headers.get('content-type'), 'application/json;odata=minimalmetadata');
    });

    test('an id longer than any valid one is simply not found', async () => {
      const id = 'p'.repeat(200);
      await assert.rejects(server.batch.pool.get(id), sdkError('PoolNotFound', 404));
      assert.equal((await server.batch.pool.exists(id)).body, false);
      await assert.rejects(server.batch.job.get(id), sdkError('JobNotFound', 404));
    });

    test('every response carries a request-id, unique per request', async () => {
      const first = await signedRequest(server, 'GET', '/pools');
      const second = await signedRequest(server, 'GET', '/pools');
      assert.equal(first.status, 200);
      assert.match(first.headers.get('request-id') ?? '', /^[0-9a-f-]{36}$/);
      assert.notEqual(first.headers.get('request-id'), second.headers.get('request-id'));
    });

    test('client-request-id is echoed only when return-client-request-id is true', async () => {
      const clientRequestId = 'b1f3a6c0-0000-4000-8000-000000000001';
      const echoed = await signedRequest(server, 'GET', '/pools', { headers: { 'client-request-id': clientRequestId, 'return-client-request-id': 'true' } });
      assert.equal(echoed.headers.get('client-request-id'), clientRequestId);
      const failed = await signedRequest(server, 'GET', '/pools/nope', { headers: { 'client-request-id': clientRequestId, 'return-client-request-id': 'true' } });
      assert.equal(failed.status, 404);
      assert.equal(failed.headers.get('client-request-id'), clientRequestId);
      const silent = await signedRequest(server, 'GET', '/pools', { headers: { 'client-request-id': clientRequestId, 'return-client-request-id': 'false' } });
      assert.equal(silent.headers.get('client-request-id'), null);
    });

    test('the SDK sees client-request-id and request-id on a reply', async () => {
      const clientRequestId = 'b1f3a6c0-0000-4000-8000-000000000002';
      const pools = await server.batch.pool.list({ poolListOptions: { clientRequestId, returnClientRequestId: true } });
      assert.equal(pools._response.headers.get('client-request-id'), clientRequestId);
      assert.ok(pools._response.headers.get('request-id'));
    });

    test('the SDK surfaces errors as RestError with code, status and body', async () => {
      await assert.rejects(
        server.batch.pool.get(uniqueId('Missing')),
        sdkError('PoolNotFound', 404, (body) => {
          assert.equal(body.message?.lang, 'en-US');
          assert.match(body.message?.value ?? '', /RequestId:/);
        }),
      );
      await assert.rejects(server.batch.job.get(uniqueId('Missing')), sdkError('JobNotFound', 404));
      const id = uniqueId('Twice');
      await server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: 0 }));
      await assert.rejects(server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: 0 })), sdkError('PoolExists', 409));
    });
  });
});

describe('accounts', () => {
  const alpha = { name: 'alpha', key: newKey() };
  const beta = { name: 'beta', key: newKey() };
  let server: TestServer;
  let asAlpha: BatchServiceClient;
  let asBeta: BatchServiceClient;
  before(async () => {
    server = await startTestServer({ config: { accounts: [alpha, beta] } });
    asAlpha = server.batchClientFor(alpha.name, alpha.key);
    asBeta = server.batchClientFor(beta.name, beta.key);
  });
  after(async () => {
    await server.stop();
  });

  test('each account sees only its own pools and jobs', async () => {
    const alphaPool = uniqueId('AlphaPool');
    const betaPool = uniqueId('BetaPool');
    const alphaJob = uniqueId('AlphaJob');
    await asAlpha.pool.add(poolSpec(alphaPool, { targetDedicatedNodes: 0 }));
    await asBeta.pool.add(poolSpec(betaPool, { targetDedicatedNodes: 0 }));
    await asAlpha.job.add({ id: alphaJob, poolInfo: { poolId: alphaPool } });
    assert.deepEqual(await poolIds(asAlpha), [alphaPool]);
    assert.deepEqual(await poolIds(asBeta), [betaPool]);
    assert.deepEqual(await jobIds(asAlpha), [alphaJob]);
    assert.deepEqual(await jobIds(asBeta), []);
  });

  test("beta gets NotFound for alpha's ids, even when guessing them", async () => {
    const poolId = uniqueId('Secret');
    const jobId = uniqueId('SecretJob');
    await asAlpha.pool.add(poolSpec(poolId, { targetDedicatedNodes: 0 }));
    await asAlpha.job.add({ id: jobId, poolInfo: { poolId } });
    await asAlpha.task.add(jobId, { id: 'task-1', commandLine: '/bin/true' });

    await assert.rejects(asBeta.pool.get(poolId), sdkError('PoolNotFound', 404));
    assert.equal((await asBeta.pool.exists(poolId)).body, false);
    await assert.rejects(asBeta.pool.resize(poolId, { targetDedicatedNodes: 1 }), sdkError('PoolNotFound', 404));
    await assert.rejects(asBeta.pool.deleteMethod(poolId), sdkError('PoolNotFound', 404));
    await assert.rejects(asBeta.job.get(jobId), sdkError('JobNotFound', 404));
    await assert.rejects(asBeta.job.deleteMethod(jobId), sdkError('JobNotFound', 404));
    await assert.rejects(asBeta.task.list(jobId), sdkError('JobNotFound', 404));
    await assert.rejects(asBeta.task.add(jobId, { id: 'intruder', commandLine: '/bin/true' }), sdkError('JobNotFound', 404));

    // Alpha's pool, job and task are untouched.
    assert.equal((await asAlpha.pool.get(poolId)).state, 'active');
    assert.equal((await asAlpha.pool.get(poolId)).targetDedicatedNodes, 0);
    assert.equal((await asAlpha.job.get(jobId)).state, 'active');
    assert.deepEqual((await asAlpha.task.list(jobId)).map((task) => task.id), ['task-1']);
  });

  test("beta's job naming alpha's pool never runs on alpha's nodes", async () => {
    const poolId = uniqueId('Busy');
    await addPoolAndWait(asAlpha, poolId, { targetDedicatedNodes: 1 });
    const betaJob = uniqueId('BetaJob');
    await asBeta.job.add({ id: betaJob, poolInfo: { poolId } });
    await asBeta.task.add(betaJob, { id: 'intruder', commandLine: '/bin/true' });
    // Once alpha's own task has run on the pool, the scheduler has had its chance to misplace beta's.
    const alphaJob = uniqueId('AlphaJob');
    await asAlpha.job.add({ id: alphaJob, poolInfo: { poolId } });
    await asAlpha.task.add(alphaJob, { id: 'own', commandLine: '/bin/true' });
    await waitForTaskState(asAlpha, alphaJob, 'own', 'completed');
    assert.equal((await asBeta.task.get(betaJob, 'intruder')).state, 'active');
  });

  test('the same id can be used by both accounts', async () => {
    const id = uniqueId('Shared');
    await asAlpha.pool.add(poolSpec(id, { targetDedicatedNodes: 0, displayName: 'alpha' }));
    await asBeta.pool.add(poolSpec(id, { targetDedicatedNodes: 0, displayName: 'beta' }));
    assert.equal((await asAlpha.pool.get(id)).displayName, 'alpha');
    assert.equal((await asBeta.pool.get(id)).displayName, 'beta');
  });

  test("one account's key does not open the other", async () => {
    await assert.rejects(server.batchClientFor(beta.name, alpha.key).pool.list(), sdkError('AuthenticationFailed', 403));
    await assert.rejects(server.batchClientFor(alpha.name, beta.key).job.list(), sdkError('AuthenticationFailed', 403));
  });
});
