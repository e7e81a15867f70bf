// The Batch error catalogue's entries for certificates and applications, kept
// beside core/errors.ts (same BatchError, same kinds, so api/batch/errors.ts
// maps them unchanged). Messages are Batch's texts where the "Batch Status and
// Error Codes" page gives them.

import { BatchError } from './errors.js';

const notFound = (code: string, message: string) => () => new BatchError(code, 'notFound', message);
const conflict = (code: string, message: string) => () => new BatchError(code, 'conflict', message);

export const certificateErrors = {
  certificateNotFound: notFound('CertificateNotFound', 'The specified certificate does not exist.'),
  certificateExists: conflict('CertificateExists', 'The specified certificate already exists.'),
  certificateBeingDeleted: conflict('CertificateBeingDeleted', 'The specified certificate has been marked for deletion and is being deleted.'),
  certificateStateActive: conflict('CertificateStateActive', 'The specified certificate is in the active state; only a certificate whose deletion failed can have its deletion cancelled.'),
  /** Pool_Add / Pool_Patch / Pool_UpdateProperties naming a certificate the account does not have (status not confirmed against Batch). */
  invalidCertificateReferences: (references: string[]) =>
    new BatchError(
      'InvalidCertificateReferences',
      'conflict',
      'One or more certificate references could not be satisfied: the certificate does not exist or is being deleted.',
      references.map((reference) => ({ key: 'CertificateReference', value: reference })),
    ),
};

export const applicationErrors = {
  applicationNotFound: notFound('ApplicationNotFound', 'The specified application does not exist.'),
  /** A pool's applicationPackageReferences that name no registered package, or no version while the application has no default. */
  invalidApplicationPackageReferences: (references: string[]) =>
    new BatchError(
      'InvalidApplicationPackageReferences',
      'conflict',
      'One or more application package references could not be satisfied. This occurs if the application id or version does not exist or is not active, or if the reference did not specify a version and there is no default version configured.',
      references.map((reference) => ({ key: 'ApplicationPackageReference', value: reference })),
    ),
  /** Lapis's own, for the operator's `lapis app add` and `remove`: Batch's data plane cannot change packages. */
  applicationPackageExists: (applicationId: string, version: string) =>
    new BatchError('ApplicationPackageExists', 'conflict', `Version ${version} of application ${applicationId} is already registered.`, [
      { key: 'ApplicationId', value: applicationId },
      { key: 'Version', value: version },
    ]),
  applicationPackageNotFound: (applicationId: string, version: string) =>
    new BatchError('ApplicationPackageNotFound', 'notFound', `Version ${version} of application ${applicationId} is not registered.`, [
      { key: 'ApplicationId', value: applicationId },
      { key: 'Version', value: version },
    ]),
};
