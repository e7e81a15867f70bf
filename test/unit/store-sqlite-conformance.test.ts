// The store conformance suite (test/store/conformance.ts) against the SQLite
// store, in memory and in a file (WAL, as a data directory holds it).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeConformance } from '../store/conformance.js';

storeConformance('SQLite in memory', () => openSqliteStore({}));

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-store-conformance-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));
let files = 0;
storeConformance('SQLite in a file', () => openSqliteStore({ path: path.join(directory, `store-${(files += 1)}.db`) }));
