// Lapis's configuration: the typed shape the server takes (lapis-config.ts),
// the one table of settings it is read from (settings-table.ts: flags, LAPIS_*
// variables, defaults, parsers, help) and the reading itself (resolve.ts):
// defaults, then the environment, then flags.

export { DEV_ACCOUNT, DEV_STORAGE, type AccountConfig, type AdminTasksSetting, type LapisConfig, type ProcessSettings } from './lapis-config.js';
export { parseAccounts, parseAccountsFile, readAccountsFile } from './accounts.js';
export { defaultConfig, resolveSetting, resolveSettings, scrubSecretEnvironment, SECRET_ENVIRONMENT, type FlagValues, type ResolvedSettings } from './resolve.js';
export { SETTINGS, settingFor, type AnySetting, type Setting } from './settings-table.js';

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;
