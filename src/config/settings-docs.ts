// README.md's table of the settings of `lapis serve`, written from the settings
// table by `npm run docs:config` between the markers below;
// test/unit/config-table.test.ts checks that README.md is in step.

import { SETTINGS, type AnySetting } from './settings-table.js';

export const README_START = '<!-- settings-table:start (written by `npm run docs:config` from src/config/settings-table.ts) -->';
export const README_END = '<!-- settings-table:end -->';

const cell = (text: string): string => text.replace(/\|/g, '\\|');
const code = (text: string): string => `\`${text}\``;

function defaultCell(entry: AnySetting): string {
  if (entry.defaultText !== undefined) return entry.defaultText;
  if (entry.default === undefined || entry.secret) return '';
  return code(entry.default);
}

/** The markdown table: one row per setting that is not hidden, in the table's order. */
export function settingsMarkdown(settings: readonly AnySetting[] = SETTINGS): string {
  const rows = settings
    .filter((entry) => !entry.hidden)
    .map((entry) =>
      [entry.flag === undefined ? '' : code(entry.flag), entry.env === undefined ? '' : code(entry.env), entry.details ?? entry.help, defaultCell(entry)].map(cell),
    );
  return [
    '| flag | environment | meaning | default |',
    '|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    'A variable sets the same value as its flag; flags win over the environment, which wins over the defaults.',
  ].join('\n');
}

/** `readme` with the text between the markers replaced by the table; throws when the markers are missing. */
export function withSettingsTable(readme: string, settings: readonly AnySetting[] = SETTINGS): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${README_START} … ${README_END} markers.`);
  return `${readme.slice(0, start + README_START.length)}\n${settingsMarkdown(settings)}\n${readme.slice(end)}`;
}
