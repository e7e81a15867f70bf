// Batch applications and their packages: the ApplicationSummary that
// Application_List and Application_Get answer, the operator's registration of
// a package version (Batch's data plane has no add: packages come from the
// server's operator, `lapis app add`), and what a Linux node does with
// applicationPackageReferences (pool and task level): where each package is
// installed and the environment variables tasks see.
//
// Packages have one state here, active: a registered package is usable at once.

import type { ApplicationPackageReference, Versioned } from './common.js';
import { batchErrors } from './errors.js';
import { formatTimestamp } from './time.js';

/** How the operator supplied the package; either way it is stored unpacked. */
export type ApplicationPackageFormat = 'zip' | 'directory';

export interface Application extends Versioned {
  id: string;
  displayName?: string;
  /** The version a reference without one gets; none unless the operator set it. */
  defaultVersion?: string;
}

export interface ApplicationPackage {
  applicationId: string;
  version: string;
  format: ApplicationPackageFormat;
  /** The package's unpacked files on the server: `<dataDir>/applications/<id>/<version>`. */
  path: string;
  state: 'active';
  lastActivationTime: string;
}

/** Batch's ApplicationSummary. */
export interface ApplicationSummary {
  id: string;
  displayName: string;
  versions: string[];
}

const APPLICATION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const APPLICATION_VERSION = /^[A-Za-z0-9_.-]{1,64}$/;

/** Batch account applications: 1 to 64 letters, digits, hyphens and underscores. */
export function assertValidApplicationId(id: string, property = 'applicationId'): void {
  if (!APPLICATION_ID.test(id)) {
    throw batchErrors.invalidPropertyValue(property, 'An application id is 1 to 64 letters, digits, hyphens and underscores.');
  }
}

/** Package versions: 1 to 64 letters, digits, hyphens, underscores and periods. */
export function assertValidApplicationVersion(version: string, property = 'version'): void {
  if (!APPLICATION_VERSION.test(version) || version === '.' || version === '..') {
    throw batchErrors.invalidPropertyValue(property, 'A package version is 1 to 64 letters, digits, hyphens, underscores and periods.');
  }
}

/** Versions, like ids, are unique without regard to case. */
export function versionKey(version: string): string {
  return version.toLowerCase();
}

export function applicationSummary(application: Application, packages: readonly ApplicationPackage[]): ApplicationSummary {
  const versions = packages.filter((entry) => entry.state === 'active').map((entry) => entry.version);
  versions.sort((a, b) => (versionKey(a) < versionKey(b) ? -1 : versionKey(a) > versionKey(b) ? 1 : 0));
  // displayName is required in ApplicationSummary; an application registered without one shows its id.
  return { id: application.id, displayName: application.displayName ?? application.id, versions };
}

/** The operator's registration of one package version. */
export interface ApplicationPackageRegistration {
  applicationId: string;
  version: string;
  displayName?: string;
  /** Make this version the application's default. */
  makeDefault?: boolean;
}

/** The application after a version was registered: created at the first one, its name and default updated as asked. */
export function registerApplicationVersion(existing: Application | undefined, registration: ApplicationPackageRegistration, now: Date, eTag: string): Application {
  const application: Application = existing
    ? { ...existing, eTag, lastModified: formatTimestamp(now) }
    : { id: registration.applicationId, eTag, lastModified: formatTimestamp(now) };
  if (registration.displayName !== undefined) application.displayName = registration.displayName;
  if (registration.makeDefault) application.defaultVersion = registration.version;
  return application;
}

/** The application after a version was removed: a default that named it is cleared. */
export function unregisterApplicationVersion(application: Application, version: string, now: Date, eTag: string): Application {
  const next: Application = { ...application, eTag, lastModified: formatTimestamp(now) };
  if (next.defaultVersion !== undefined && versionKey(next.defaultVersion) === versionKey(version)) delete next.defaultVersion;
  return next;
}

// ── Package references ──────────────────────────────────────────────────────

/**
 * A reference's application id. On a pool Batch accepts the fully qualified
 * ARM id (`/subscriptions/…/batchAccounts/{account}/applications/{name}`),
 * which names the application by its last segment.
 */
export function referencedApplicationId(applicationId: string): string {
  const match = /\/applications\/([^/]+)\/?$/i.exec(applicationId);
  return match ? (match[1] as string) : applicationId;
}

/** One application's entry in the catalog a resolution reads from. */
export interface ApplicationCatalogEntry {
  application: Application;
  packages: readonly ApplicationPackage[];
}

export interface ResolvedApplicationPackage {
  /** The application's own id (its registered case). */
  applicationId: string;
  version: string;
  /** The version is the application's default: the unversioned variable names it too. */
  isDefaultVersion: boolean;
  package: ApplicationPackage;
}

function describeReference(reference: ApplicationPackageReference): string {
  return reference.version === undefined ? reference.applicationId : `${reference.applicationId}:${reference.version}`;
}

/**
 * The packages a list of references names, each version once. `unresolved`
 * names, as `id` or `id:version`, the references that name no registered
 * package, or no version while the application has no default: a pool
 * fails with InvalidApplicationPackageReferences, a task with a
 * pre-processing error.
 */
export function resolveApplicationPackages(
  references: readonly ApplicationPackageReference[] | undefined,
  lookup: (applicationId: string) => ApplicationCatalogEntry | undefined,
): { resolved: ResolvedApplicationPackage[]; unresolved: string[] } {
  const resolved: ResolvedApplicationPackage[] = [];
  const unresolved: string[] = [];
  const seen = new Set<string>();
  for (const reference of references ?? []) {
    const entry = lookup(referencedApplicationId(reference.applicationId));
    const version = reference.version ?? entry?.application.defaultVersion;
    const found = entry && version !== undefined ? entry.packages.find((candidate) => versionKey(candidate.version) === versionKey(version)) : undefined;
    if (!entry || !found || found.state !== 'active') {
      unresolved.push(describeReference(reference));
      continue;
    }
    const key = `${entry.application.id.toLowerCase()}\u0000${versionKey(found.version)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const defaultVersion = entry.application.defaultVersion;
    resolved.push({
      applicationId: entry.application.id,
      version: found.version,
      isDefaultVersion: defaultVersion !== undefined && versionKey(defaultVersion) === versionKey(found.version),
      package: found,
    });
  }
  return { resolved, unresolved };
}

// ── Installation on a Linux node ────────────────────────────────────────────
//
// Batch unpacks each package into $AZ_BATCH_NODE_ROOT_DIR/applications/, in a
// directory named by the application id, the version and the package's
// activation time (`blender2.80-daily2019-01-15-09-19` on a real node), and
// tells tasks where with AZ_BATCH_APP_PACKAGE_<id>_<version>: on Linux the
// id keeps its case and periods, hyphens and number signs become
// underscores. The version-less AZ_BATCH_APP_PACKAGE_<id> names the
// application's default version. Pool packages are installed when a node
// joins and their variables reach every task on it; task packages are
// installed before the task runs and reach that task only.

/** The directory under the node root that holds installed packages. */
export const APPLICATIONS_DIRECTORY = 'applications';

function activationStamp(time: string): string {
  // 2019-01-15T09:19:42.1230000Z → 2019-01-15-09-19
  return time.slice(0, 16).replace('T', '-').replace(':', '-');
}

/** The package's directory name under `applications/`. */
export function applicationDirectoryName(entry: Pick<ApplicationPackage, 'applicationId' | 'version' | 'lastActivationTime'>): string {
  return `${entry.applicationId}${entry.version}${activationStamp(entry.lastActivationTime)}`;
}

const flatten = (text: string) => text.replace(/[.#-]/g, '_');

/** AZ_BATCH_APP_PACKAGE_<id>_<version> as on a Linux node; without a version, the default version's variable. */
export function applicationEnvironmentName(applicationId: string, version?: string): string {
  return version === undefined ? `AZ_BATCH_APP_PACKAGE_${flatten(applicationId)}` : `AZ_BATCH_APP_PACKAGE_${flatten(applicationId)}_${flatten(version)}`;
}

/** An application package a run needs on its node, installed once under the node root. */
export interface NodeApplicationPackage {
  /** The package's files on the server; the provider keeps it, and the node fetches the files by `directory`. */
  sourcePath?: string;
  /** Where the node keeps it, relative to the node root. */
  directory: string;
  /** The AZ_BATCH_APP_PACKAGE_* variables that name it. */
  variables: string[];
}

/**
 * What a run's node does for its resolved packages: each installed once under
 * `applications/<name>` (relative to the node root), named by
 * AZ_BATCH_APP_PACKAGE_<id>_<version>, and by AZ_BATCH_APP_PACKAGE_<id> too
 * when it is the application's default version.
 */
export function nodeApplicationPackages(resolved: readonly ResolvedApplicationPackage[]): NodeApplicationPackage[] {
  return resolved.map((entry) => {
    const variables = [applicationEnvironmentName(entry.applicationId, entry.version)];
    if (entry.isDefaultVersion) variables.push(applicationEnvironmentName(entry.applicationId));
    return { sourcePath: entry.package.path, directory: `${APPLICATIONS_DIRECTORY}/${applicationDirectoryName(entry.package)}`, variables };
  });
}
