import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseCertificateKey } from '../../src/api/batch/routes/certificates.js';
import {
  applicationDirectoryName,
  applicationEnvironmentName,
  nodeApplicationPackages,
  applicationSummary,
  referencedApplicationId,
  resolveApplicationPackages,
  type Application,
  type ApplicationCatalogEntry,
  type ApplicationPackage,
} from '../../src/core/application.js';
import {
  beginCertificateDeletion,
  cancelCertificateDeletion,
  certificateFilesFor,
  checkCertificateSpec,
  createCertificate,
  failCertificateDeletion,
  poolsUsingCertificate,
  type Certificate,
  type CertificateWithInternal,
} from '../../src/core/certificate.js';
import { isBatchError } from '../../src/core/errors.js';
import { extractZip, readZipEntries } from '../../src/store/packages/unzip.js';
import { buildZip } from '../../src/testkit/zip-builder.js';

const NOW = new Date('2024-05-06T07:08:09.123Z');
const THUMBPRINT = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01';
const code = (expected: string) => (error: unknown) => isBatchError(error) && error.code === expected;
const property = (expected: string) => (error: unknown) => isBatchError(error) && error.values[0]?.value === expected;

function created(format: 'cer' | 'pfx' = 'cer'): CertificateWithInternal {
  const spec = checkCertificateSpec({ thumbprint: THUMBPRINT, thumbprintAlgorithm: 'sha1', data: 'MAo=', certificateFormat: format });
  return createCertificate(spec, format === 'cer' ? { sha1Thumbprint: THUMBPRINT, publicData: 'REVS' } : {}, NOW, '0x1');
}

function certificate(format: 'cer' | 'pfx' = 'cer'): Certificate {
  return created(format).certificate;
}

test('certificate add rules: spaces removed, sha1 only, 40 hex digits, base64 of at most 10 KB, pfx by default', () => {
  const spec = checkCertificateSpec({ thumbprint: 'ABCD EF01 2345 6789 ABCD EF01 2345 6789 ABCD EF01', thumbprintAlgorithm: 'SHA1', data: 'MAo=' });
  assert.equal(spec.thumbprint, THUMBPRINT);
  assert.equal(spec.thumbprintAlgorithm, 'sha1');
  assert.equal(spec.certificateFormat, 'pfx');
  assert.equal(spec.byteLength, 2);
  assert.throws(() => checkCertificateSpec({ thumbprint: THUMBPRINT, thumbprintAlgorithm: 'md5', data: 'MAo=' }), property('thumbprintAlgorithm'));
  assert.throws(() => checkCertificateSpec({ thumbprint: 'ABC', thumbprintAlgorithm: 'sha1', data: 'MAo=' }), property('thumbprint'));
  assert.throws(() => checkCertificateSpec({ thumbprint: THUMBPRINT, thumbprintAlgorithm: 'sha1', data: 'M' }), property('data'));
  assert.throws(() => checkCertificateSpec({ thumbprint: THUMBPRINT, thumbprintAlgorithm: 'sha1', data: 'A'.repeat(13_656) }), property('data'));
  assert.throws(() => checkCertificateSpec({ thumbprint: THUMBPRINT, thumbprintAlgorithm: 'sha1', data: 'MAo=', certificateFormat: 'cer', password: '' }), property('password'));
  const spec2 = checkCertificateSpec({ thumbprint: THUMBPRINT, thumbprintAlgorithm: 'sha1', data: 'MAo=', certificateFormat: 'cer' });
  assert.throws(() => createCertificate(spec2, { sha1Thumbprint: '0'.repeat(40) }, NOW, '0x1'), property('thumbprint'));
});

test('certificate deletion: deleting → deletefailed with the pools → active; no second delete or cancel while deleting', () => {
  const active = created();
  assert.deepEqual(active.internal, { eTag: '0x1', lastModified: '2024-05-06T07:08:09.1230000Z', certificateFormat: 'cer' });
  assert.throws(() => cancelCertificateDeletion(active, NOW, '0x2'), code('CertificateStateActive'));
  const deleting = beginCertificateDeletion(active, NOW, '0x2');
  assert.equal(deleting.certificate.state, 'deleting');
  assert.equal(deleting.certificate.previousState, 'active');
  assert.equal(deleting.internal.eTag, '0x2');
  assert.equal(deleting.internal.certificateFormat, 'cer');
  assert.throws(() => beginCertificateDeletion(deleting, NOW, '0x3'), code('CertificateBeingDeleted'));
  assert.throws(() => cancelCertificateDeletion(deleting, NOW, '0x3'), code('CertificateBeingDeleted'));
  const failed = failCertificateDeletion(deleting, ['p1', 'p2'], NOW, '0x3');
  assert.equal(failed.certificate.state, 'deletefailed');
  assert.equal(failed.certificate.deleteCertificateError?.code, 'PoolsReferencingCertificate');
  assert.deepEqual(failed.certificate.deleteCertificateError?.values, [{ name: 'Pools', value: 'p1,p2' }]);
  const again = beginCertificateDeletion(failed, NOW, '0x4');
  assert.equal(again.certificate.deleteCertificateError, undefined);
  const restored = cancelCertificateDeletion(failed, NOW, '0x4');
  assert.equal(restored.certificate.state, 'active');
  assert.equal(restored.certificate.deleteCertificateError, undefined);
});

test('pools using a certificate match algorithm and thumbprint without regard to case or spaces', () => {
  const pools = [
    { id: 'a', certificateReferences: [{ thumbprint: THUMBPRINT.toLowerCase(), thumbprintAlgorithm: 'SHA1' }] },
    { id: 'b', certificateReferences: [{ thumbprint: '0'.repeat(40), thumbprintAlgorithm: 'sha1' }] },
    { id: 'c' },
    { id: 'd', certificateReferences: 'garbage' },
  ];
  assert.deepEqual(poolsUsingCertificate(certificate(), pools), ['a']);
});

test('certificate files: sha1-<thumbprint>.cer, or .pfx with .pfx.pw, for the audiences the visibility names', () => {
  const cer = { certificate: certificate('cer'), format: 'cer' as const, secrets: { data: 'MAo=' } };
  const pfx = { certificate: { ...certificate('pfx'), thumbprint: 'F'.repeat(40) }, format: 'pfx' as const, secrets: { data: 'MAo=', password: 'pw' } };
  const references = [
    { thumbprint: THUMBPRINT, thumbprintAlgorithm: 'sha1', visibility: ['startTask'] },
    { thumbprint: 'f'.repeat(40), thumbprintAlgorithm: 'sha1' },
    { thumbprint: '1'.repeat(40), thumbprintAlgorithm: 'sha1' },
  ];
  const forTasks = certificateFilesFor(references, [cer, pfx], 'task');
  assert.deepEqual(
    forTasks.files.map((file) => [file.name, file.encoding, file.content, file.mode]),
    [
      [`sha1-${'f'.repeat(40)}.pfx`, 'base64', 'MAo=', 0o600],
      [`sha1-${'f'.repeat(40)}.pfx.pw`, 'utf8', 'pw', 0o600],
    ],
  );
  assert.deepEqual(forTasks.missing.map((reference) => reference.thumbprint), ['1'.repeat(40)]);
  const forStartTask = certificateFilesFor(references, [cer, pfx], 'starttask');
  assert.deepEqual(forStartTask.files.map((file) => file.name)[0], `sha1-${THUMBPRINT.toLowerCase()}.cer`);
  assert.equal(forStartTask.files[0]?.content, 'REVS', 'a cer is written as its DER');
});

test('the certificate key segment of the URL', () => {
  assert.deepEqual(parseCertificateKey('(thumbprintAlgorithm=sha1,thumbprint=ABC)'), { thumbprintAlgorithm: 'sha1', thumbprint: 'ABC' });
  assert.deepEqual(parseCertificateKey("( Thumbprint='abc' , THUMBPRINTALGORITHM=sha1 )"), { thumbprintAlgorithm: 'sha1', thumbprint: 'abc' });
  for (const bad of ['(thumbprint=abc)', '()', '(thumbprintAlgorithm=sha1,thumbprint=)', 'thumbprintAlgorithm=sha1,thumbprint=abc', '(a=1,b=2)']) {
    assert.throws(() => parseCertificateKey(bad), code('InvalidUri'), bad);
  }
});

function catalog(): Map<string, ApplicationCatalogEntry> {
  const pkg = (applicationId: string, version: string): ApplicationPackage => ({
    applicationId,
    version,
    format: 'zip',
    path: `/data/applications/${applicationId.toLowerCase()}/${version}`,
    state: 'active',
    lastActivationTime: '2019-01-15T09:19:42.1230000Z',
  });
  const app = (id: string, defaultVersion?: string): Application => ({ id, eTag: '0x1', lastModified: '2019-01-15T09:19:42.1230000Z', ...(defaultVersion ? { defaultVersion } : {}) });
  return new Map([
    ['blender', { application: app('Blender', '2.80-daily'), packages: [pkg('Blender', '2.80-daily'), pkg('Blender', '2.81')] }],
    ['ffmpeg', { application: app('ffmpeg'), packages: [pkg('ffmpeg', '4.1')] }],
  ]);
}

test('package references resolve to registered versions, the default when none is named', () => {
  const entries = catalog();
  const lookup = (id: string) => entries.get(id.toLowerCase());
  const { resolved, unresolved } = resolveApplicationPackages(
    [
      { applicationId: 'blender' },
      { applicationId: 'BLENDER', version: '2.80-DAILY' },
      { applicationId: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Batch/batchAccounts/z/applications/ffmpeg', version: '4.1' },
      { applicationId: 'ffmpeg' },
      { applicationId: 'blender', version: '9' },
      { applicationId: 'nope', version: '1' },
    ],
    lookup,
  );
  assert.deepEqual(resolved.map((entry) => [entry.applicationId, entry.version, entry.isDefaultVersion]), [
    ['Blender', '2.80-daily', true],
    ['ffmpeg', '4.1', false],
  ]);
  assert.deepEqual(unresolved, ['ffmpeg', 'blender:9', 'nope:1']);
  assert.equal(referencedApplicationId('plain'), 'plain');
});

test('a node installs packages under applications/ and names them AZ_BATCH_APP_PACKAGE_<id>[_<version>], flattened as on Linux', () => {
  const entries = catalog();
  const { resolved } = resolveApplicationPackages([{ applicationId: 'blender' }, { applicationId: 'ffmpeg', version: '4.1' }], (id) => entries.get(id.toLowerCase()));
  assert.deepEqual(nodeApplicationPackages(resolved), [
    {
      sourcePath: '/data/applications/blender/2.80-daily',
      directory: 'applications/Blender2.80-daily2019-01-15-09-19',
      variables: ['AZ_BATCH_APP_PACKAGE_Blender_2_80_daily', 'AZ_BATCH_APP_PACKAGE_Blender'],
    },
    { sourcePath: '/data/applications/ffmpeg/4.1', directory: 'applications/ffmpeg4.12019-01-15-09-19', variables: ['AZ_BATCH_APP_PACKAGE_ffmpeg_4_1'] },
  ]);
  assert.equal(applicationEnvironmentName('my-app', '1.0#beta'), 'AZ_BATCH_APP_PACKAGE_my_app_1_0_beta');
  assert.equal(applicationDirectoryName({ applicationId: 'a', version: '1', lastActivationTime: '2024-12-31T23:59:59.0000000Z' }), 'a12024-12-31-23-59');
  const blender = entries.get('blender') as ApplicationCatalogEntry;
  assert.deepEqual(applicationSummary(blender.application, blender.packages), { id: 'Blender', displayName: 'Blender', versions: ['2.80-daily', '2.81'] });
});

test('the zip reader refuses escapes, links, bad CRCs and duplicate names', async () => {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-unzip-'));
  try {
    const good = buildZip([{ name: 'dir/', unixMode: 0o40755 }, { name: 'dir/file.txt', content: 'hello', deflate: true }, { name: 'run', content: 'x', unixMode: 0o100700 }]);
    assert.deepEqual(readZipEntries(good).map((entry) => [entry.name, entry.isDirectory]), [['dir/', true], ['dir/file.txt', false], ['run', false]]);
    await extractZip(good, path.join(target, 'good'));
    assert.equal(fs.readFileSync(path.join(target, 'good', 'dir', 'file.txt'), 'utf8'), 'hello');
    assert.equal(fs.statSync(path.join(target, 'good', 'run')).mode & 0o777, 0o700);

    const corrupt = buildZip([{ name: 'f', content: 'hello' }]);
    corrupt[corrupt.indexOf('hello')] = 0x48;
    const cases: [string, Buffer][] = [
      ['escape', buildZip([{ name: 'a/../../x', content: '' }])],
      ['absolute', buildZip([{ name: '/etc/x', content: '' }])],
      ['drive', buildZip([{ name: 'C:\\x', content: '' }])],
      ['link', buildZip([{ name: 'l', content: '/etc/passwd', unixMode: 0o120777 }])],
      ['crc', corrupt],
      ['duplicate', buildZip([{ name: 'f', content: '1' }, { name: 'f', content: '2' }])],
      ['not a zip', Buffer.from('hello world')],
    ];
    for (const [name, zip] of cases) {
      const dir = path.join(target, name.replace(/ /g, '-'));
      fs.mkdirSync(dir);
      await assert.rejects(extractZip(zip, dir), Error, name);
    }
    assert.equal(fs.existsSync(path.join(target, 'x')), false);
  } finally {
    fs.rmSync(target, { recursive: true, force: true });
  }
});
