// Certificate use cases: add, get, list, delete, cancel deletion; the
// scheduler's side, settling deletions (removed, or deletefailed when a pool
// still references the certificate); and what node installation needs: the
// certificates a pool's references name, with their secrets.
//
// Reading the data: a cer certificate (DER or PEM) is parsed with
// node:crypto, its SHA-1 thumbprint checked against the one given and its DER
// kept as publicData. A pfx is a PKCS#12 archive, which node:crypto cannot
// open and no installed package reads: it is only checked to be base64 of a
// DER structure, its password is not verified, its thumbprint is taken on
// trust and it has no publicData.
//
// The data and password are never logged: no log line here names them, and
// the Certificate value returned to the API does not hold them.

import { X509Certificate } from 'node:crypto';
import {
  beginCertificateDeletion,
  cancelCertificateDeletion,
  certificateKey,
  checkCertificateSpec,
  createCertificate,
  failCertificateDeletion,
  invalidCertificateData,
  poolsUsingCertificate,
  type Certificate,
  type CertificateContents,
  type CertificateReference,
  type CertificateSpec,
  type CertificateWithInternal,
  type CheckedCertificateSpec,
  type InstallableCertificate,
} from '../core/certificate.js';
import { certificateErrors } from '../core/errors.js';
import type { CertificateRepository, Page, PageQuery } from '../core/ports.js';
import type { Caller, ServiceContext } from './context.js';

const DER_SEQUENCE = 0x30;

/** What node:crypto can learn from the data; see the file header for pfx. */
export function readCertificateData(spec: CheckedCertificateSpec): CertificateContents {
  const bytes = Buffer.from(spec.data, 'base64');
  if (spec.certificateFormat === 'pfx') {
    if (bytes[0] !== DER_SEQUENCE) throw invalidCertificateData();
    return {};
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(bytes);
  } catch {
    throw invalidCertificateData();
  }
  return { sha1Thumbprint: certificate.fingerprint.replace(/:/g, ''), publicData: certificate.raw.toString('base64') };
}

export class CertificateService {
  constructor(
    private readonly context: ServiceContext,
    private readonly repositories: { readonly certificates: CertificateRepository },
  ) {}

  private get certificates(): CertificateRepository {
    return this.repositories.certificates;
  }

  add(caller: Caller, spec: CertificateSpec): CertificateWithInternal {
    const checked = checkCertificateSpec(spec);
    const contents = readCertificateData(checked);
    const { now, eTag } = this.context.stamp();
    const created = createCertificate(checked, contents, now, eTag);
    this.context.store.transaction(() => {
      const existing = this.certificates.get(caller.account, checked.thumbprintAlgorithm, checked.thumbprint);
      if (existing) throw existing.certificate.state === 'deleting' ? certificateErrors.certificateBeingDeleted() : certificateErrors.certificateExists();
      const secrets = checked.password === undefined ? { data: checked.data } : { data: checked.data, password: checked.password };
      if (!this.certificates.insert({ account: caller.account, ...created }, secrets)) throw certificateErrors.certificateExists();
    });
    return created;
  }

  /** The certificate, with its internal part (its ETag and Last-Modified for the answer's headers). */
  get(caller: Caller, thumbprintAlgorithm: string, thumbprint: string): CertificateWithInternal {
    const record = this.certificates.get(caller.account, thumbprintAlgorithm, thumbprint);
    if (!record) throw certificateErrors.certificateNotFound();
    return record;
  }

  list(caller: Caller, page: PageQuery): Page<Certificate> {
    const result = this.certificates.list(caller.account, page);
    return { items: result.items.map((record) => record.certificate), continuation: result.continuation };
  }

  /** Certificate_Delete: the state becomes deleting; the scheduler's pass removes it or fails the deletion. */
  delete(caller: Caller, thumbprintAlgorithm: string, thumbprint: string): CertificateWithInternal {
    const deleting = this.mutate(caller, thumbprintAlgorithm, thumbprint, (current, now, eTag) => beginCertificateDeletion(current, now, eTag));
    this.context.deps.signal.wake();
    return deleting;
  }

  cancelDeletion(caller: Caller, thumbprintAlgorithm: string, thumbprint: string): CertificateWithInternal {
    return this.mutate(caller, thumbprintAlgorithm, thumbprint, (current, now, eTag) => cancelCertificateDeletion(current, now, eTag));
  }

  private mutate(
    caller: Caller,
    thumbprintAlgorithm: string,
    thumbprint: string,
    change: (current: CertificateWithInternal, now: Date, eTag: string) => CertificateWithInternal,
  ): CertificateWithInternal {
    return this.context.store.transaction(() => {
      const record = this.certificates.get(caller.account, thumbprintAlgorithm, thumbprint);
      if (!record) throw certificateErrors.certificateNotFound();
      const { now, eTag } = this.context.stamp();
      const next = change(record, now, eTag);
      this.certificates.update({ account: caller.account, ...next });
      return next;
    });
  }

  /**
   * The scheduler's sweep: each certificate being deleted is removed, unless
   * a pool of its account (in any state: a deleting pool still has nodes)
   * references it, when its deletion fails as Batch's does.
   */
  settleDeletions(): void {
    // Read first, outside a transaction: most passes find nothing to settle.
    if (this.certificates.listByState(['deleting']).length === 0) return;
    const { store } = this.context;
    store.transaction(() => {
      const pools = store.pools.listAll();
      for (const record of this.certificates.listByState(['deleting'])) {
        const { account, certificate } = record;
        const users = poolsUsingCertificate(certificate, pools.filter((record) => record.account === account).map((record) => record.pool));
        if (users.length === 0) {
          this.certificates.delete(account, certificate.thumbprintAlgorithm, certificate.thumbprint);
          continue;
        }
        const { now, eTag } = this.context.stamp();
        this.certificates.update({ account, ...failCertificateDeletion(record, users, now, eTag) });
      }
    });
  }

  /** The certificates (with their data and password) that references name; pass them to certificateFilesFor. */
  installable(account: string, references: readonly CertificateReference[]): InstallableCertificate[] {
    const found: InstallableCertificate[] = [];
    const seen = new Set<string>();
    for (const reference of references) {
      const key = certificateKey(reference.thumbprintAlgorithm, reference.thumbprint);
      if (seen.has(key)) continue;
      seen.add(key);
      const record = this.certificates.get(account, reference.thumbprintAlgorithm, reference.thumbprint);
      const secrets = this.certificates.getSecrets(account, reference.thumbprintAlgorithm, reference.thumbprint);
      if (record && secrets) found.push({ certificate: record.certificate, format: record.internal.certificateFormat, secrets });
    }
    return found;
  }

  /**
   * The references (as `algorithm-thumbprint`) that name no certificate of
   * the account, or one being deleted: for Pool_Add and Pool_Patch to refuse
   * with certificateErrors.invalidCertificateReferences.
   */
  unusableReferences(account: string, references: readonly CertificateReference[] | undefined): string[] {
    return (references ?? [])
      .filter((reference) => {
        const record = this.certificates.get(account, reference.thumbprintAlgorithm, reference.thumbprint);
        return !record || record.certificate.state === 'deleting';
      })
      .map((reference) => certificateKey(reference.thumbprintAlgorithm, reference.thumbprint));
  }
}
