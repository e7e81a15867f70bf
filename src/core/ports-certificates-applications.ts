// The ports for certificates and applications: their repositories (store/)
// and the package file store that keeps each application package's files
// (store/packages/). Beside core/ports.ts; the Store gains `certificates`
// and `applications` fields of these types.

import type { Application, ApplicationPackage, ApplicationPackageFormat } from './application.js';
import type { Certificate, CertificateSecrets, CertificateState } from './certificate.js';
import type { Page, PageQuery } from './ports.js';

export interface CertificateRecord {
  account: string;
  certificate: Certificate;
}

export interface CertificateRepository {
  get(account: string, thumbprintAlgorithm: string, thumbprint: string): CertificateRecord | undefined;
  /** The data and password, only for installing the certificate on nodes. */
  getSecrets(account: string, thumbprintAlgorithm: string, thumbprint: string): CertificateSecrets | undefined;
  /** Inserts unless the account has the certificate (same algorithm and thumbprint, any case); false when it does. */
  insert(record: CertificateRecord, secrets: CertificateSecrets): boolean;
  update(record: CertificateRecord): void;
  delete(account: string, thumbprintAlgorithm: string, thumbprint: string): void;
  list(account: string, page: PageQuery): Page<CertificateRecord>;
  listByState(states: CertificateState[]): CertificateRecord[];
}

export interface ApplicationRecord {
  account: string;
  application: Application;
  packages: ApplicationPackage[];
}

export interface ApplicationRepository {
  get(account: string, applicationId: string): ApplicationRecord | undefined;
  list(account: string, page: PageQuery): Page<ApplicationRecord>;
  /** Creates or replaces the application row (its id, display name and default version). */
  saveApplication(account: string, application: Application): void;
  /** Inserts unless the version (any case) is registered; false when it is. */
  insertPackage(account: string, entry: ApplicationPackage): boolean;
  deletePackage(account: string, applicationId: string, version: string): void;
  deleteApplication(account: string, applicationId: string): void;
}

/** The repositories these services need, until the Store itself carries them. */
export interface CertificateApplicationRepositories {
  readonly certificates: CertificateRepository;
  readonly applications: ApplicationRepository;
}

/** Where package files live on the server: `<dataDir>/applications/<id>/<version>/`. */
export interface ApplicationPackageFiles {
  /**
   * Copies a package from a zip file (unpacked) or a directory (copied) into
   * its own directory, which must not exist yet; returns what it made.
   */
  importPackage(source: string, applicationId: string, version: string): Promise<{ format: ApplicationPackageFormat; path: string }>;
  /** Removes a package's directory; nothing when it is already gone. */
  removePackage(path: string): Promise<void>;
}
