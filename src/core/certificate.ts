// A Batch certificate: wire shape, the rules of Certificate_Add, its deletion
// lifecycle, and the files a Linux node gets for a pool's certificateReferences.
//
//   active ──delete──▶ deleting ──(no pool uses it)──▶ (removed)
//     ▲                   │
//     │            (a pool uses it)
//     │                   ▼
//     └──cancelDeletion── deletefailed ──delete──▶ deleting …
//
// Batch deletes asynchronously: Certificate_Delete answers 202 with the state
// `deleting`, and the scheduler's pass settles it (CertificateService.settleDeletions).
// The certificate's data and password are never part of the Certificate
// value: they travel separately as CertificateSecrets, so nothing that
// answers a client or writes a log line can carry them by accident.

import type { NameValuePair, Versioned } from './common.js';
import { batchErrors, certificateErrors, type BatchError } from './errors.js';
import { formatTimestamp } from './time.js';

export type CertificateState = 'active' | 'deleting' | 'deletefailed';
export type CertificateFormat = 'pfx' | 'cer';
export type CertificateVisibility = 'starttask' | 'task' | 'remoteuser';

/** Certificate_Add's body, as validated by the API layer. */
export interface CertificateSpec {
  thumbprint: string;
  thumbprintAlgorithm: string;
  data: string;
  certificateFormat?: CertificateFormat;
  password?: string;
}

/** What the add rules made of a spec: thumbprint without spaces, algorithm lower-cased, format defaulted. */
export interface CheckedCertificateSpec {
  thumbprint: string;
  thumbprintAlgorithm: 'sha1';
  certificateFormat: CertificateFormat;
  data: string;
  password?: string;
  /** The decoded size of `data`. */
  byteLength: number;
}

/** What reading the data found; fields are undefined when the format cannot be read (a pfx without a PKCS#12 reader). */
export interface CertificateContents {
  /** Upper-case hex SHA-1 fingerprint of the certificate. */
  sha1Thumbprint?: string;
  /** The certificate's DER, base64: Batch's publicData. */
  publicData?: string;
}

export interface CertificateSecrets {
  data: string;
  password?: string;
}

export interface DeleteCertificateError {
  code: string;
  message: string;
  values?: NameValuePair[];
}

export interface Certificate {
  thumbprint: string;
  thumbprintAlgorithm: string;
  state: CertificateState;
  stateTransitionTime: string;
  previousState?: CertificateState;
  previousStateTransitionTime?: string;
  publicData?: string;
  deleteCertificateError?: DeleteCertificateError;
}

/**
 * Lapis's own about a certificate, kept beside its wire document (never in
 * a body): the ETag and Last-Modified its answers' headers carry (Batch's
 * certificate bodies have neither), and how the data is stored, for the
 * files a node gets.
 */
export interface CertificateInternal extends Versioned {
  certificateFormat: CertificateFormat;
}

/** A certificate and its internal part, as its transitions take and return them. */
export interface CertificateWithInternal {
  certificate: Certificate;
  internal: CertificateInternal;
}

/** Batch's limit on `data`: 10 KB. */
export const MAX_CERTIFICATE_BYTES = 10 * 1024;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SHA1_THUMBPRINT = /^[0-9A-Fa-f]{40}$/;

/** Removes the spaces Batch allows in a thumbprint. */
export function normalizeThumbprint(thumbprint: string): string {
  return thumbprint.replace(/\s+/g, '');
}

/** The unique key of a certificate in its account: algorithm and thumbprint, without regard to case. */
export function certificateKey(thumbprintAlgorithm: string, thumbprint: string): string {
  return `${thumbprintAlgorithm.toLowerCase()}-${normalizeThumbprint(thumbprint).toLowerCase()}`;
}

function base64ByteLength(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

export function invalidCertificateData(): BatchError {
  return batchErrors.invalidPropertyValue('data', 'The specified data is an invalid format for a certificate.');
}

/** Certificate_Add's rules that need no parsing of the certificate itself. */
export function checkCertificateSpec(spec: CertificateSpec): CheckedCertificateSpec {
  if (spec.thumbprintAlgorithm.toLowerCase() !== 'sha1') {
    throw batchErrors.invalidPropertyValue('thumbprintAlgorithm', 'The thumbprint algorithm must be sha1.');
  }
  const thumbprint = normalizeThumbprint(spec.thumbprint);
  if (!SHA1_THUMBPRINT.test(thumbprint)) {
    throw batchErrors.invalidPropertyValue('thumbprint', 'A sha1 thumbprint is 40 hexadecimal digits (spaces are removed).');
  }
  const data = spec.data.replace(/\s+/g, '');
  if (data.length === 0 || !BASE64.test(data)) throw batchErrors.invalidPropertyValue('data', 'The data must be base64-encoded.');
  const byteLength = base64ByteLength(data);
  if (byteLength > MAX_CERTIFICATE_BYTES) {
    throw batchErrors.invalidPropertyValue('data', `The certificate data is ${byteLength} bytes; at most ${MAX_CERTIFICATE_BYTES} are allowed.`);
  }
  const certificateFormat = spec.certificateFormat ?? 'pfx';
  if (certificateFormat === 'cer' && spec.password !== undefined) {
    throw batchErrors.invalidPropertyValue('password', 'The password must be omitted when the certificateFormat is cer.');
  }
  const checked: CheckedCertificateSpec = { thumbprint, thumbprintAlgorithm: 'sha1', certificateFormat, data, byteLength };
  if (spec.password !== undefined) checked.password = spec.password;
  return checked;
}

export function createCertificate(spec: CheckedCertificateSpec, contents: CertificateContents, now: Date, eTag: string): CertificateWithInternal {
  if (contents.sha1Thumbprint !== undefined && contents.sha1Thumbprint.toLowerCase() !== spec.thumbprint.toLowerCase()) {
    throw batchErrors.invalidPropertyValue('thumbprint', 'The thumbprint does not match the SHA-1 thumbprint of the certificate data.');
  }
  const time = formatTimestamp(now);
  const certificate: Certificate = {
    thumbprint: spec.thumbprint,
    thumbprintAlgorithm: spec.thumbprintAlgorithm,
    state: 'active',
    stateTransitionTime: time,
  };
  if (contents.publicData !== undefined) certificate.publicData = contents.publicData;
  return { certificate, internal: { eTag, lastModified: time, certificateFormat: spec.certificateFormat } };
}

function withoutDeleteError(certificate: Certificate): Certificate {
  const { deleteCertificateError: _cleared, ...rest } = certificate;
  return rest;
}

/** A state change: the previous state is remembered, and the internal part takes the new ETag and time. */
function transition({ certificate, internal }: CertificateWithInternal, state: CertificateState, now: Date, eTag: string): CertificateWithInternal {
  const time = formatTimestamp(now);
  return {
    certificate: { ...certificate, previousState: certificate.state, previousStateTransitionTime: certificate.stateTransitionTime, state, stateTransitionTime: time },
    internal: { ...internal, eTag, lastModified: time },
  };
}

export function beginCertificateDeletion(current: CertificateWithInternal, now: Date, eTag: string): CertificateWithInternal {
  if (current.certificate.state === 'deleting') throw certificateErrors.certificateBeingDeleted();
  return transition({ ...current, certificate: withoutDeleteError(current.certificate) }, 'deleting', now, eTag);
}

/**
 * The deletion found the certificate in use: Batch keeps it, in deletefailed,
 * saying why with the code, message and single `Pools` value of the REST
 * reference's Certificate_Get example (no Batch source documents another
 * code; how Batch joins several pool ids in that value is not documented).
 */
export function failCertificateDeletion(current: CertificateWithInternal, poolIds: string[], now: Date, eTag: string): CertificateWithInternal {
  const failed = transition(current, 'deletefailed', now, eTag);
  failed.certificate.deleteCertificateError = {
    code: 'PoolsReferencingCertificate',
    message: 'The specified certificate is being used by the below mentioned pool(s)',
    values: [{ name: 'Pools', value: poolIds.join(',') }],
  };
  return failed;
}

export function cancelCertificateDeletion(current: CertificateWithInternal, now: Date, eTag: string): CertificateWithInternal {
  if (current.certificate.state === 'active') throw certificateErrors.certificateStateActive();
  if (current.certificate.state === 'deleting') throw certificateErrors.certificateBeingDeleted();
  return transition({ ...current, certificate: withoutDeleteError(current.certificate) }, 'active', now, eTag);
}

/** A pool's (or an auto pool's) reference to a certificate, as on the wire. */
export interface CertificateReference {
  thumbprint: string;
  thumbprintAlgorithm: string;
  storeLocation?: string;
  storeName?: string;
  visibility?: string[];
}

function isCertificateReference(entry: unknown): entry is CertificateReference {
  if (typeof entry !== 'object' || entry === null) return false;
  const candidate = entry as Record<string, unknown>;
  return typeof candidate.thumbprint === 'string' && typeof candidate.thumbprintAlgorithm === 'string';
}

/** A pool's certificateReferences as stored (validated on the way in, read defensively here). */
function referencesOf(value: unknown): CertificateReference[] {
  return Array.isArray(value) ? (value as unknown[]).filter(isCertificateReference) : [];
}

/** The ids of the pools whose certificateReferences name the certificate. */
export function poolsUsingCertificate(certificate: Certificate, pools: readonly { id: string; certificateReferences?: unknown }[]): string[] {
  const key = certificateKey(certificate.thumbprintAlgorithm, certificate.thumbprint);
  return pools
    .filter((pool) => referencesOf(pool.certificateReferences).some((reference) => certificateKey(reference.thumbprintAlgorithm, reference.thumbprint) === key))
    .map((pool) => pool.id);
}

// ── Installation on a Linux node ────────────────────────────────────────────
//
// Batch installs a pool's certificates on Linux nodes as files in each task's
// certificates directory, $AZ_BATCH_CERTIFICATES_DIR = $AZ_BATCH_TASK_DIR/certs
// (and, for visibility remoteuser, ~/certs of each remote user), named
// `<thumbprint algorithm>-<lower-case thumbprint>.<format>`: `sha1-….cer`, or
// `sha1-….pfx` with its password in `sha1-….pfx.pw`. A reference's
// visibility (default: all three) says which of start task, tasks and remote
// users see it.

/** The directory under a task's directory that holds its certificates ($AZ_BATCH_CERTIFICATES_DIR). */
export const CERTIFICATES_DIRECTORY = 'certs';

const ALL_VISIBILITIES: readonly CertificateVisibility[] = ['starttask', 'task', 'remoteuser'];

/** A certificate with what a node needs to write it. */
export interface InstallableCertificate {
  certificate: Certificate;
  format: CertificateFormat;
  secrets: CertificateSecrets;
}

/** One file for the certificates directory; `content` in the given encoding. Owned by the user the task runs as. */
export interface CertificateFile {
  name: string;
  encoding: 'base64' | 'utf8';
  content: string;
  mode: number;
}

export function certificateFileStem(certificate: Pick<Certificate, 'thumbprintAlgorithm' | 'thumbprint'>): string {
  return `${certificate.thumbprintAlgorithm.toLowerCase()}-${normalizeThumbprint(certificate.thumbprint).toLowerCase()}`;
}

function filesOf({ certificate, format, secrets }: InstallableCertificate): CertificateFile[] {
  const stem = certificateFileStem(certificate);
  if (format === 'cer') {
    return [{ name: `${stem}.cer`, encoding: 'base64', content: certificate.publicData ?? secrets.data, mode: 0o644 }];
  }
  return [
    { name: `${stem}.pfx`, encoding: 'base64', content: secrets.data, mode: 0o600 },
    { name: `${stem}.pfx.pw`, encoding: 'utf8', content: secrets.password ?? '', mode: 0o600 },
  ];
}

/**
 * The files of the certificates directory for one audience (a task, the
 * start task or a remote user) of a node in a pool with these references.
 * `missing` are references to certificates the account does not have.
 */
export function certificateFilesFor(
  references: unknown,
  certificates: readonly InstallableCertificate[],
  audience: CertificateVisibility,
): { files: CertificateFile[]; missing: CertificateReference[] } {
  const byKey = new Map(certificates.map((entry) => [certificateKey(entry.certificate.thumbprintAlgorithm, entry.certificate.thumbprint), entry]));
  const files: CertificateFile[] = [];
  const missing: CertificateReference[] = [];
  const seen = new Set<string>();
  for (const reference of referencesOf(references)) {
    const visibility = reference.visibility && reference.visibility.length > 0 ? reference.visibility.map((entry) => entry.toLowerCase()) : ALL_VISIBILITIES;
    if (!visibility.includes(audience)) continue;
    const key = certificateKey(reference.thumbprintAlgorithm, reference.thumbprint);
    if (seen.has(key)) continue;
    seen.add(key);
    const entry = byKey.get(key);
    if (entry) files.push(...filesOf(entry));
    else missing.push(reference);
  }
  return { files, missing };
}
