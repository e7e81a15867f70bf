// Applications through @azure/batch: packages registered the way the
// operator's `lapis app add` does (a zip file or a directory, against the
// server's data directory), then Application_List and Application_Get with
// Batch's ApplicationSummary, paging, ApplicationNotFound, and the package
// files unpacked under <dataDir>/applications/<id>/<version>/.

import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ETagSequence } from '../../src/core/etag.js';
import { isBatchError } from '../../src/core/errors.js';
import { ApplicationService } from '../../src/services/application-service.js';
import { LocalApplicationPackageFiles } from '../../src/store/packages/local-application-packages.js';
import { SqliteApplications } from '../../src/store/sqlite/applications.js';
import { batchError } from '../../src/testkit/builders.js';
import { signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';
import { buildZip } from '../../src/testkit/zip-builder.js';

let server: TestServer;
let workDir: string;
let db: Database.Database;
let registry: ApplicationService;
const caller = { account: '' };

/** What `lapis app add` does: its own connection to the server's store, and the package file store in the data directory. */
function openRegistry(dataDir: string): { db: Database.Database; service: ApplicationService } {
  const connection = new Database(path.join(dataDir, 'lapis.db'));
  connection.pragma('busy_timeout = 5000');
  connection.pragma('foreign_keys = ON');
  const etags = new ETagSequence();
  const context = {
    store: { transaction: <T>(work: () => T): T => connection.transaction(work).immediate() },
    stamp: () => {
      const now = new Date();
      return { now, eTag: etags.next(now) };
    },
  };
  const service = new ApplicationService(context, { applications: new SqliteApplications(connection) }, new LocalApplicationPackageFiles(path.join(dataDir, 'applications')));
  return { db: connection, service };
}

function writeZip(name: string, entries: Parameters<typeof buildZip>[0]): string {
  const file = path.join(workDir, name);
  fs.writeFileSync(file, buildZip(entries));
  return file;
}

before(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-apps-'));
  server = await startTestServer();
  caller.account = server.account.name;
  ({ db, service: registry } = openRegistry(server.dataDir));
});

after(async () => {
  db?.close();
  await server?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe('applications', () => {
  test('a zip package is unpacked into the data directory and listed with its versions', async () => {
    const zip = writeZip('blender.zip', [
      { name: 'bin/', unixMode: 0o40755 },
      { name: 'bin/blender', content: '#!/bin/sh\necho blender\n', unixMode: 0o100755, deflate: true },
      { name: 'README.txt', content: 'read me '.repeat(100), deflate: true },
    ]);
    const summary = await registry.addPackage(caller, { applicationId: 'Blender', version: '2.80', source: zip, displayName: 'Blender 3D', makeDefault: true });
    assert.deepEqual(summary, { id: 'Blender', displayName: 'Blender 3D', versions: ['2.80'] });

    const directory = path.join(server.dataDir, 'applications', 'blender', '2.80');
    assert.equal(fs.readFileSync(path.join(directory, 'bin', 'blender'), 'utf8'), '#!/bin/sh\necho blender\n');
    assert.equal(fs.statSync(path.join(directory, 'bin', 'blender')).mode & 0o777, 0o755);
    assert.equal(fs.readFileSync(path.join(directory, 'README.txt'), 'utf8'), 'read me '.repeat(100));

    const dir = path.join(workDir, 'blender-2.81');
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'bin', 'blender'), 'v2.81');
    await registry.addPackage(caller, { applicationId: 'blender', version: '2.81', source: dir });
    assert.equal(fs.readFileSync(path.join(server.dataDir, 'applications', 'blender', '2.81', 'bin', 'blender'), 'utf8'), 'v2.81');

    const got = await server.batch.application.get('blender');
    assert.equal(got.id, 'Blender', 'the id keeps the case of its first registration');
    assert.equal(got.displayName, 'Blender 3D');
    assert.deepEqual(got.versions, ['2.80', '2.81']);
    assert.ok(got._response.headers.get('etag'));

    const listed = await server.batch.application.list();
    assert.deepEqual(
      listed.map((entry) => ({ id: entry.id, displayName: entry.displayName, versions: entry.versions })),
      [{ id: 'Blender', displayName: 'Blender 3D', versions: ['2.80', '2.81'] }],
    );
  });

  test('list pages with maxresults and takes no $filter; an unknown application is ApplicationNotFound', async () => {
    for (const id of ['ffmpeg', 'imagemagick']) {
      await registry.addPackage(caller, { applicationId: id, version: '1.0', source: writeZip(`${id}.zip`, [{ name: 'tool', content: id }]) });
    }
    const page = await server.batch.application.list({ applicationListOptions: { maxResults: 2 } });
    assert.equal(page.length, 2);
    assert.ok(page.odatanextLink);
    const rest = await server.batch.application.listNext(page.odatanextLink as string);
    assert.deepEqual([...page, ...rest].map((entry) => entry.id), ['Blender', 'ffmpeg', 'imagemagick']);
    assert.equal(page[1]?.displayName, 'ffmpeg', 'without a display name, the id');

    const filtered = await signedRequest(server, 'GET', '/applications', { query: `api-version=2022-10-01.16.0&$filter=${encodeURIComponent("id eq 'ffmpeg'")}` });
    assert.equal(filtered.status, 400);
    assert.equal(filtered.body.code, 'InvalidQueryParameterValue');
    await assert.rejects(server.batch.application.get('nosuchapp'), batchError('ApplicationNotFound', 404));
  });

  test('registration refuses a registered version, bad ids and versions, and unsafe zips, leaving nothing behind', async () => {
    const tool = writeZip('tool.zip', [{ name: 'tool', content: 'x' }]);
    const refused = async (registration: Parameters<ApplicationService['addPackage']>[1], code: string) => {
      await assert.rejects(registry.addPackage(caller, registration), (error: unknown) => {
        if (code === 'ZipError') return (error as Error).name === 'ZipError';
        return isBatchError(error) && error.code === code;
      });
    };
    await refused({ applicationId: 'FFMPEG', version: '1.0', source: tool }, 'ApplicationPackageExists');
    await refused({ applicationId: 'bad id', version: '1.0', source: tool }, 'InvalidPropertyValue');
    await refused({ applicationId: 'tool', version: '../1', source: tool }, 'InvalidPropertyValue');
    await refused({ applicationId: 'tool', version: '1', source: writeZip('slip.zip', [{ name: '../escape.txt', content: 'x' }]) }, 'ZipError');
    await refused({ applicationId: 'tool', version: '2', source: writeZip('link.zip', [{ name: 'link', content: '/etc/passwd', unixMode: 0o120777 }]) }, 'ZipError');
    const notZip = path.join(workDir, 'not-a.zip');
    fs.writeFileSync(notZip, 'plain text');
    await refused({ applicationId: 'tool', version: '3', source: notZip }, 'ZipError');

    assert.equal(fs.existsSync(path.join(workDir, 'escape.txt')), false);
    assert.deepEqual(fs.readdirSync(path.join(server.dataDir, 'applications', 'tool')), [], 'no staging directory or partial package is left');
    await assert.rejects(server.batch.application.get('tool'), batchError('ApplicationNotFound', 404));
  });

  test('removing versions: the default is cleared with its version, the application goes with its last', async () => {
    await registry.addPackage(caller, { applicationId: 'remover', version: '1', source: writeZip('r1.zip', [{ name: 'a', content: '1' }]), makeDefault: true });
    await registry.addPackage(caller, { applicationId: 'remover', version: '2', source: writeZip('r2.zip', [{ name: 'a', content: '2' }]) });
    assert.equal(registry.resolve(caller.account, [{ applicationId: 'remover' }]).resolved[0]?.version, '1');

    await registry.removePackage(caller, 'remover', '1');
    assert.equal(fs.existsSync(path.join(server.dataDir, 'applications', 'remover', '1')), false);
    assert.deepEqual((await server.batch.application.get('remover')).versions, ['2']);
    assert.deepEqual(registry.resolve(caller.account, [{ applicationId: 'remover' }]).unresolved, ['remover'], 'no default any more');
    assert.throws(() => registry.assertResolvable(caller.account, [{ applicationId: 'remover' }]), (error: unknown) => isBatchError(error) && error.code === 'InvalidApplicationPackageReferences');

    registry.setDefaultVersion(caller, 'remover', '2');
    assert.equal(registry.resolve(caller.account, [{ applicationId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Batch/batchAccounts/a/applications/remover' }]).resolved[0]?.version, '2');

    await registry.removePackage(caller, 'remover', '2');
    await assert.rejects(server.batch.application.get('remover'), batchError('ApplicationNotFound', 404));
    await assert.rejects(registry.removePackage(caller, 'remover', '2'), (error: unknown) => isBatchError(error) && error.code === 'ApplicationNotFound');
  });
});
