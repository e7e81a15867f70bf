// `lapis app add` / `lapis app remove`: the operator registers application
// packages against a data directory, with or without a server running on it
// (SQLite in WAL mode takes the second connection; busy_timeout waits out a
// write in progress).

import fs from 'node:fs';
import path from 'node:path';
import { ETagSequence } from '../core/etag.js';
import type { ApplicationSummary } from '../core/application.js';
import { ApplicationService, type ApplicationPackageSource } from '../services/application-service.js';
import { LocalApplicationPackageFiles } from '../store/packages/local-application-packages.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';

async function withApplications<T>(dataDir: string, work: (service: ApplicationService) => Promise<T>): Promise<T> {
  const root = path.resolve(dataDir);
  fs.mkdirSync(root, { recursive: true });
  const store = openSqliteStore({ path: path.join(root, 'lapis.db') });
  const etags = new ETagSequence();
  const context = {
    store,
    stamp: () => {
      const now = new Date();
      return { now, eTag: etags.next(now) };
    },
  };
  try {
    return await work(new ApplicationService(context, store, new LocalApplicationPackageFiles(path.join(root, 'applications'))));
  } finally {
    store.close();
  }
}

export function addApplicationPackage(dataDir: string, account: string, registration: ApplicationPackageSource): Promise<ApplicationSummary> {
  return withApplications(dataDir, (service) => service.addPackage({ account }, registration));
}

export function removeApplicationPackage(dataDir: string, account: string, applicationId: string, version: string): Promise<void> {
  return withApplications(dataDir, (service) => service.removePackage({ account }, applicationId, version));
}
