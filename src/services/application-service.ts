// Application use cases: Application_List and Application_Get (Batch's
// ApplicationSummary), the operator's registration and removal of package
// versions (`lapis app add` / `remove`; Batch's data plane has no such
// operations), and the resolution of applicationPackageReferences that pools
// and tasks need.
//
// A registration copies the files first, then records the package in one
// transaction; if the record cannot be written (the version appeared in the
// meantime) the copied files are removed again. A removal forgets the package
// first, then removes its files, so no node is ever handed a package whose
// files are gone.

import {
  applicationSummary,
  assertValidApplicationId,
  assertValidApplicationVersion,
  registerApplicationVersion,
  resolveApplicationPackages,
  unregisterApplicationVersion,
  versionKey,
  type Application,
  type ApplicationPackage,
  type ApplicationPackageRegistration,
  type ApplicationSummary,
  type ResolvedApplicationPackage,
} from '../core/application.js';
import type { ApplicationPackageReference } from '../core/common.js';
import { applicationErrors } from '../core/errors.js';
import type { ApplicationPackageFiles, ApplicationRepository, Page, PageQuery } from '../core/ports.js';
import { formatTimestamp } from '../core/time.js';
import type { Caller } from './context.js';

/**
 * What the service needs of ServiceContext, so that `lapis app add` can
 * register a package against a data directory without a running server.
 */
export interface ApplicationServiceContext {
  readonly store: { transaction<T>(work: () => T): T };
  stamp(): { now: Date; eTag: string };
}

export interface ApplicationPackageSource extends ApplicationPackageRegistration {
  /** A zip file or a directory on this machine. */
  source: string;
}

export class ApplicationService {
  constructor(
    private readonly context: ApplicationServiceContext,
    private readonly repositories: { readonly applications: ApplicationRepository },
    private readonly files?: ApplicationPackageFiles,
  ) {}

  private get applications(): ApplicationRepository {
    return this.repositories.applications;
  }

  list(caller: Caller, page: PageQuery): Page<ApplicationSummary> {
    const result = this.applications.list(caller.account, page);
    return { items: result.items.map((record) => applicationSummary(record.application, record.packages)), continuation: result.continuation };
  }

  /** The summary, and the application for its ETag and Last-Modified. */
  get(caller: Caller, applicationId: string): { application: Application; summary: ApplicationSummary } {
    const record = this.applications.get(caller.account, applicationId);
    if (!record) throw applicationErrors.applicationNotFound();
    return { application: record.application, summary: applicationSummary(record.application, record.packages) };
  }

  /** Registers one package version from a zip file or a directory. */
  async addPackage(caller: Caller, registration: ApplicationPackageSource): Promise<ApplicationSummary> {
    const files = this.requireFiles();
    assertValidApplicationId(registration.applicationId);
    assertValidApplicationVersion(registration.version);
    if (this.findPackage(caller.account, registration.applicationId, registration.version)) {
      throw applicationErrors.applicationPackageExists(registration.applicationId, registration.version);
    }
    const imported = await files.importPackage(registration.source, registration.applicationId, registration.version);
    try {
      return this.context.store.transaction(() => {
        const existing = this.applications.get(caller.account, registration.applicationId);
        const { now, eTag } = this.context.stamp();
        // The application keeps the case of its first registration.
        const applicationId = existing?.application.id ?? registration.applicationId;
        const application = registerApplicationVersion(existing?.application, { ...registration, applicationId }, now, eTag);
        const entry: ApplicationPackage = {
          applicationId,
          version: registration.version,
          format: imported.format,
          path: imported.path,
          state: 'active',
          lastActivationTime: formatTimestamp(now),
        };
        this.applications.saveApplication(caller.account, application);
        if (!this.applications.insertPackage(caller.account, entry)) throw applicationErrors.applicationPackageExists(applicationId, registration.version);
        return applicationSummary(application, [...(existing?.packages ?? []), entry]);
      });
    } catch (error) {
      await files.removePackage(imported.path).catch(() => undefined);
      throw error;
    }
  }

  /** Forgets one package version, and the application with its last one; then removes the files. */
  async removePackage(caller: Caller, applicationId: string, version: string): Promise<void> {
    const files = this.requireFiles();
    const removed = this.context.store.transaction(() => {
      const record = this.applications.get(caller.account, applicationId);
      if (!record) throw applicationErrors.applicationNotFound();
      const entry = record.packages.find((candidate) => versionKey(candidate.version) === versionKey(version));
      if (!entry) throw applicationErrors.applicationPackageNotFound(record.application.id, version);
      this.applications.deletePackage(caller.account, applicationId, version);
      if (record.packages.length === 1) this.applications.deleteApplication(caller.account, applicationId);
      else {
        const { now, eTag } = this.context.stamp();
        this.applications.saveApplication(caller.account, unregisterApplicationVersion(record.application, version, now, eTag));
      }
      return entry;
    });
    await files.removePackage(removed.path);
  }

  /** Sets (or, with undefined, clears) the version a reference without one gets. */
  setDefaultVersion(caller: Caller, applicationId: string, version: string | undefined): ApplicationSummary {
    return this.context.store.transaction(() => {
      const record = this.applications.get(caller.account, applicationId);
      if (!record) throw applicationErrors.applicationNotFound();
      const entry = version === undefined ? undefined : record.packages.find((candidate) => versionKey(candidate.version) === versionKey(version));
      if (version !== undefined && !entry) throw applicationErrors.applicationPackageNotFound(record.application.id, version);
      const { now, eTag } = this.context.stamp();
      const application: Application = { ...record.application, eTag, lastModified: formatTimestamp(now) };
      if (entry) application.defaultVersion = entry.version;
      else delete application.defaultVersion;
      this.applications.saveApplication(caller.account, application);
      return applicationSummary(application, record.packages);
    });
  }

  /** The packages references name; `unresolved` lists the others as `id` or `id:version`. */
  resolve(account: string, references: readonly ApplicationPackageReference[] | undefined): { resolved: ResolvedApplicationPackage[]; unresolved: string[] } {
    return resolveApplicationPackages(references, (applicationId) => this.applications.get(account, applicationId));
  }

  /** For Pool_Add and pool updates: every reference must resolve, or 409 InvalidApplicationPackageReferences. */
  assertResolvable(account: string, references: readonly ApplicationPackageReference[] | undefined): ResolvedApplicationPackage[] {
    const { resolved, unresolved } = this.resolve(account, references);
    if (unresolved.length > 0) throw applicationErrors.invalidApplicationPackageReferences(unresolved);
    return resolved;
  }

  private findPackage(account: string, applicationId: string, version: string): ApplicationPackage | undefined {
    return this.applications.get(account, applicationId)?.packages.find((candidate) => versionKey(candidate.version) === versionKey(version));
  }

  private requireFiles(): ApplicationPackageFiles {
    if (!this.files) throw new Error('This ApplicationService has no package file store: it cannot change packages.');
    return this.files;
  }
}
