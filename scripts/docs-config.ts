// `npm run docs:config`: writes README.md's settings table from
// src/config/settings-table.ts (between the settings-table markers).

import fs from 'node:fs';
import { withSettingsTable } from '../src/config/settings-docs.js';

const file = new URL('../README.md', import.meta.url);
const before = fs.readFileSync(file, 'utf8');
const after = withSettingsTable(before);
if (after === before) {
  process.stdout.write('README.md: the settings table is up to date.\n');
} else {
  fs.writeFileSync(file, after);
  process.stdout.write('README.md: the settings table is rewritten.\n');
}
