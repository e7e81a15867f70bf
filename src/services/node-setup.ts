// What a run needs on its node besides its command: the application
// packages of its pool and of the task itself (installed once per node, with
// their AZ_BATCH_APP_PACKAGE_* variables) and the certificates its pool
// references (written into the task's certs directory). A task whose own
// package references do not resolve fails before it starts, as Batch does.

import type { ApplicationPackageReference, TaskFailureInfo } from '../core/common.js';
import { nodeApplicationPackages } from '../core/application.js';
import { certificateFilesFor } from '../core/certificate.js';
import type { Pool } from '../core/pool.js';
import type { NodeApplicationPackage, NodeCertificateFile } from '../core/ports.js';
import type { ApplicationService } from './application-service.js';
import type { CertificateService } from './certificate-service.js';

export interface RunSetup {
  applicationPackages: NodeApplicationPackage[];
  certificates: NodeCertificateFile[];
  /** Set when the run cannot start: Batch's pre-processing failure. */
  failure?: TaskFailureInfo;
}

export class NodeSetup {
  constructor(
    private readonly applications: ApplicationService,
    private readonly certificates: CertificateService,
  ) {}

  forRun(account: string, pool: Pool | undefined, taskReferences: readonly ApplicationPackageReference[] | undefined, audience: 'task' | 'starttask'): RunSetup {
    const poolReferences = (pool?.applicationPackageReferences ?? []) as ApplicationPackageReference[];
    const pooled = this.applications.resolve(account, poolReferences);
    const own = this.applications.resolve(account, taskReferences);
    const applicationPackages = nodeApplicationPackages([...pooled.resolved, ...own.resolved]);
    const references = pool?.certificateReferences ?? [];
    const certificateReferences = Array.isArray(references) ? references : [];
    const { files } = certificateFilesFor(certificateReferences, this.certificates.installable(account, certificateReferences as never[]), audience);
    const setup: RunSetup = { applicationPackages, certificates: files };
    if (own.unresolved.length > 0) {
      setup.failure = {
        category: 'usererror',
        code: 'ApplicationPackageError',
        message: `The application packages ${own.unresolved.join(', ')} could not be found.`,
      };
    }
    return setup;
  }
}
