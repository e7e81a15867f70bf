// --azure-hostnames inside tasks: a task sees its account's Azure-shaped
// AZ_BATCH_ACCOUNT_URL, trusts the local CA through the variables Lapis sets
// (REQUESTS_CA_BUNDLE, SSL_CERT_FILE, CURL_CA_BUNDLE, NODE_EXTRA_CA_CERTS,
// the CA's files in the node), and a container task resolves Azure's names of
// this server through its own /etc/hosts (--add-host). A process task
// resolves through the machine's, which a test must not edit: its Python
// maps the Batch name in its own process, as the hosts lines `lapis hosts`
// prints would. Tasks on container nodes (--node-runtime container) get the
// same URL and CA. Driven through @azure/batch on the Azure URL, from this
// process: its HTTPS agent trusts the CA and resolves the names itself.

import { BatchServiceClient, BatchSharedKeyCredentials, type BatchServiceModels } from '@azure/batch';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dns from 'node:dns';
import fs from 'node:fs';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { DEV_ACCOUNT } from '../../src/config/config.js';
import { addPoolAndWait, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { TEST_NODE_IMAGE, testNodeImageMissing } from '../../src/testkit/test-node-image.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

const OTHER = { name: 'other', key: Buffer.alloc(64, 9).toString('base64') };
const AZURE_NAME = /\.(batch\.azure\.com|blob\.core\.windows\.net)$/i;
const hasRequests = spawnSync('/usr/bin/python3', ['-c', 'import requests'], { stdio: 'ignore' }).status === 0;

let server: TestServer;
let ca: string;

/** @azure/batch on the account's Azure URL, trusting the local CA, the names resolved to the loopback in this client alone. */
function azureClient(account: { name: string; key: string }, on: TestServer = server): BatchServiceClient {
  const lookup = ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) =>
    AZURE_NAME.test(hostname) ? (options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)) : dns.lookup(hostname, options, callback)) as unknown as typeof dns.lookup;
  const url = new URL(on.lapis.batchUrl);
  url.hostname = url.hostname.replace(/^[^.]+/, account.name);
  return new BatchServiceClient(new BatchSharedKeyCredentials(account.name, account.key), url.origin, {
    agentSettings: { https: new https.Agent({ ca: fs.readFileSync(on.lapis.certificateAuthority as string), lookup }), http: undefined as never },
  });
}

async function runTask(batch: BatchServiceClient, poolId: string, task: BatchServiceModels.TaskAddParameter): Promise<{ jobId: string; task: BatchServiceModels.CloudTask; stdout: string; stderr: string }> {
  const jobId = uniqueId('Job');
  await batch.job.add({ id: jobId, poolInfo: { poolId } });
  await batch.task.add(jobId, task);
  const done = await waitForTaskState(batch, jobId, task.id, 'completed', 90_000);
  const file = async (name: string) => readStream((await batch.file.getFromTask(jobId, task.id, name)).readableStreamBody);
  return { jobId, task: done, stdout: await file('stdout.txt'), stderr: await file('stderr.txt') };
}

before(async () => {
  server = await startTestServer({ config: { azureHostnames: true, accounts: [DEV_ACCOUNT, OTHER] } });
  ca = server.lapis.certificateAuthority as string;
});
after(() => server?.stop());

describe('process tasks', () => {
  let batch: BatchServiceClient;
  let poolId: string;
  before(async () => {
    batch = azureClient(DEV_ACCOUNT);
    poolId = uniqueId('Names');
    await addPoolAndWait(batch, poolId, { targetDedicatedNodes: 1 });
  });

  test("a task calls its account's Azure URL with its token, trusting the CA through the REQUESTS_CA_BUNDLE Lapis set", { skip: hasRequests ? false : 'needs Python requests (python3-requests)', timeout: 120_000 }, async () => {
    const probe = [
      'import json, os, socket, requests',
      'system = socket.getaddrinfo',
      "socket.getaddrinfo = lambda host, *rest, **named: system('127.0.0.1' if host.endswith('.batch.azure.com') else host, *rest, **named)",
      "url = os.environ['AZ_BATCH_ACCOUNT_URL']",
      "answer = requests.get(url + '/jobs/' + os.environ['AZ_BATCH_JOB_ID'], params={'api-version': '2022-10-01.16.0'}, headers={'Authorization': 'Bearer ' + os.environ['AZ_BATCH_AUTHENTICATION_TOKEN']})",
      "print(json.dumps({'url': url, 'status': answer.status_code, 'job': answer.json().get('id'), 'trust': {name: os.environ.get(name) for name in ('REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE', 'CURL_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS')}}))",
    ].join('\n');
    const { jobId, task, stdout, stderr } = await runTask(batch, poolId, {
      id: 'caller',
      commandLine: `/bin/sh -c 'exec /usr/bin/python3 -c "$PROBE"'`,
      environmentSettings: [{ name: 'PROBE', value: probe }],
      authenticationTokenSettings: { access: ['job'] },
    });
    assert.equal(task.executionInfo?.exitCode, 0, stderr);
    const seen = JSON.parse(stdout) as { url: string; status: number; job: string; trust: Record<string, string> };
    assert.equal(seen.url, server.lapis.batchUrl);
    assert.match(seen.url, /^https:\/\/lapis\.local\.batch\.azure\.com:\d+$/);
    assert.deepEqual({ status: seen.status, job: seen.job }, { status: 200, job: jobId });
    assert.equal(seen.trust.SSL_CERT_FILE, seen.trust.REQUESTS_CA_BUNDLE);
    assert.equal(seen.trust.CURL_CA_BUNDLE, seen.trust.REQUESTS_CA_BUNDLE);
    // The bundle keeps the public roots (a task still reaches public sites) and adds the CA; NODE_EXTRA_CA_CERTS is the CA alone.
    const caPem = fs.readFileSync(ca, 'utf8').trim();
    const bundle = fs.readFileSync(seen.trust.REQUESTS_CA_BUNDLE as string, 'utf8');
    assert.ok(bundle.includes(caPem));
    assert.ok((bundle.match(/BEGIN CERTIFICATE/g) ?? []).length > 50);
    assert.equal(fs.readFileSync(seen.trust.NODE_EXTRA_CA_CERTS as string, 'utf8').trim(), caPem);
    // What answers name is on the account's Azure URL too.
    assert.ok(task.nodeInfo?.nodeUrl?.startsWith(`${server.lapis.batchUrl}/pools/${poolId}/nodes/`), task.nodeInfo?.nodeUrl);
  });

  test("another account's task sees that account's Azure URL; a task's own settings override the trust variables", { timeout: 120_000 }, async () => {
    const other = azureClient(OTHER);
    const otherPool = uniqueId('OtherNames');
    await addPoolAndWait(other, otherPool, { targetDedicatedNodes: 1 });
    const { task, stdout } = await runTask(other, otherPool, {
      id: 'echo',
      commandLine: `/bin/sh -c 'echo $AZ_BATCH_ACCOUNT_URL $SSL_CERT_FILE $REQUESTS_CA_BUNDLE'`,
      environmentSettings: [{ name: 'SSL_CERT_FILE', value: '/etc/ssl/certs/ca-certificates.crt' }],
    });
    assert.equal(task.executionInfo?.exitCode, 0);
    const [url, sslCertFile, requestsBundle] = stdout.trim().split(' ');
    assert.equal(url, server.lapis.batchUrl.replace('//lapis.', '//other.'));
    assert.equal(sslCertFile, '/etc/ssl/certs/ca-certificates.crt');
    assert.match(requestsBundle ?? '', /\/lapis\/ca-bundle\.pem$/);
  });
});

describe('container tasks', { skip: testNodeImageMissing() }, () => {
  test("a container task resolves the account's Batch name and the blob name to the endpoints, and finds the CA", { timeout: 180_000 }, async () => {
    const batch = azureClient(DEV_ACCOUNT);
    const poolId = uniqueId('ContainerNames');
    await addPoolAndWait(batch, poolId, {
      targetDedicatedNodes: 1,
      virtualMachineConfiguration: {
        imageReference: { publisher: 'microsoft-azure-batch', offer: 'ubuntu-server-container', sku: '20-04-lts' },
        nodeAgentSKUId: 'batch.node.ubuntu 20.04',
        containerConfiguration: { containerImageNames: [TEST_NODE_IMAGE] },
      },
    });
    const blob = new URL(server.lapis.storageAccountUrl);
    // bash's /dev/tcp connects by name: the image has no curl, and the connection shows the name leads to the endpoint.
    const script = [
      'h=${AZ_BATCH_ACCOUNT_URL#https://}',
      'getent hosts ${h%%:*}',
      `getent hosts ${blob.hostname}`,
      'exec 3<>/dev/tcp/${h%%:*}/${h##*:} && echo batch reached',
      `exec 4<>/dev/tcp/${blob.hostname}/${blob.port} && echo blob reached`,
      'cat $NODE_EXTRA_CA_CERTS',
      'test -r $REQUESTS_CA_BUNDLE && echo bundle readable',
    ].join('; ');
    const { task, stdout, stderr } = await runTask(batch, poolId, { id: 'resolver', commandLine: `/bin/bash -c '${script}'`, containerSettings: { imageName: TEST_NODE_IMAGE } });
    assert.equal(task.executionInfo?.exitCode, 0, `${stdout}\n${stderr}`);
    const lines = stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^127\.0\.0\.1\s+lapis\.local\.batch\.azure\.com$/);
    assert.match(lines[1] ?? '', new RegExp(`^127\\.0\\.0\\.1\\s+${blob.hostname.replaceAll('.', '\\.')}$`));
    assert.deepEqual(lines.slice(2, 4), ['batch reached', 'blob reached']);
    assert.equal(lines.slice(4, -1).join('\n').trim(), fs.readFileSync(ca, 'utf8').trim());
    assert.equal(lines.at(-1), 'bundle readable');
  });
});

describe('tasks on container nodes', { skip: testNodeImageMissing() }, () => {
  let nodesServer: TestServer;
  before(async () => {
    nodesServer = await startTestServer({
      config: { azureHostnames: true, nodeRuntime: 'container', nodeImages: [`canonical/0001-com-ubuntu-server-focal/20_04-lts=${TEST_NODE_IMAGE}`] },
    });
  });
  after(() => nodesServer?.stop());

  test("a task in a container node sees the Azure URL and finds the CA the node's agent put in the node", { timeout: 180_000 }, async () => {
    const batch = azureClient(DEV_ACCOUNT, nodesServer);
    const poolId = uniqueId('NodeNames');
    await addPoolAndWait(batch, poolId, { targetDedicatedNodes: 1 });
    const { task, stdout, stderr } = await runTask(batch, poolId, {
      id: 'inside',
      commandLine: "/bin/bash -c 'echo $AZ_BATCH_ACCOUNT_URL $REQUESTS_CA_BUNDLE; cat $NODE_EXTRA_CA_CERTS'",
    });
    assert.equal(task.executionInfo?.exitCode, 0, stderr);
    const [first, ...rest] = stdout.trim().split('\n');
    assert.equal(first, `${nodesServer.lapis.batchUrl} /mnt/batch/tasks/lapis/ca-bundle.pem`);
    assert.equal(rest.join('\n').trim(), fs.readFileSync(nodesServer.lapis.certificateAuthority as string, 'utf8').trim());
  });
});
