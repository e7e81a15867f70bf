// @azure/storage-blob for the server, loaded at its first use rather than at
// start-up: the server needs it only to make an auto-storage SAS or upload
// service logs, and loading it (with its HTTP pipeline) took some 0.3 s of
// every start (bench/README.md, "Start-up"). Loaded synchronously
// (its CommonJS build) since a SAS is made inside synchronous code.

import { createRequire } from 'node:module';

type StorageBlob = typeof import('@azure/storage-blob');

const require = createRequire(import.meta.url);
let loaded: StorageBlob | undefined;

export function storageBlob(): StorageBlob {
  loaded ??= require('@azure/storage-blob') as StorageBlob;
  return loaded;
}
