// Reads the settings of settings-table.ts: the defaults, then the LAPIS_*
// environment, then flags (flags win), each value parsed by its entry.

import type { LapisConfig, ProcessSettings } from './lapis-config.js';
import { checkTogether, flagName, SETTINGS, type AnySetting, type Settings } from './settings-table.js';

/** Flag values as given on the command line, by long flag (`--port`): text, texts of a repeatable flag, or true for a switch. */
export type FlagValues = Readonly<Record<string, string | readonly string[] | boolean | undefined>>;

export interface ResolvedSettings {
  config: LapisConfig;
  process: ProcessSettings;
  /** Warnings to print at start (a key on the command line, a retired flag). */
  warnings: string[];
}

/** The environment variables that hold secrets: read once, then removed from process.env (scrubSecretEnvironment). */
export const SECRET_ENVIRONMENT: readonly string[] = SETTINGS.filter((entry) => entry.secret && entry.env).map((entry) => entry.env as string);

/** Removes the secret LAPIS_* variables from `env` once read, so no child process inherits them. */
export function scrubSecretEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of SECRET_ENVIRONMENT) delete env[name];
}

/** A valued entry as this file handles it: any key, any parsed value. */
interface Entry {
  key: string;
  flag?: string;
  env?: string;
  default?: string;
  group?: string;
  parse(text: string, source: string): unknown;
  repeatable?: (values: unknown[], source: string) => unknown;
}

type Given = { entry: Entry; texts: string[]; source: string };

function envValue(entry: { env?: string }, env: NodeJS.ProcessEnv): string | undefined {
  const value = entry.env === undefined ? undefined : env[entry.env];
  return value === undefined || value === '' ? undefined : value;
}

function flagTexts(entry: { flag?: string }, flags: FlagValues): string[] | undefined {
  const name = flagName(entry);
  const value = name === undefined ? undefined : flags[name];
  if (value === undefined || value === false) return undefined;
  if (value === true) return ['true'];
  if (typeof value === 'string') return [value];
  return value.length === 0 ? undefined : [...value];
}

function setAt(target: Record<string, unknown>, key: string, value: unknown): void {
  const [head, tail] = key.split('.') as [string, string | undefined];
  if (tail === undefined) {
    target[head] = value;
    return;
  }
  const inner = (target[head] ??= {}) as Record<string, unknown>;
  inner[tail] = value;
}

function apply(target: Record<string, unknown>, layer: Given[]): void {
  const groups = new Map<string, Given[]>();
  for (const given of layer) {
    if (given.entry.group === undefined) continue;
    groups.set(given.entry.group, [...(groups.get(given.entry.group) ?? []), given]);
  }
  for (const [group, members] of groups) {
    if (members.length > 1) throw new Error(`Give the ${group} one way: ${members.map((member) => member.source).join(' or ')}, not both.`);
  }
  for (const { entry, texts, source } of layer) {
    const values = texts.map((text) => entry.parse(text, source));
    const value = entry.repeatable ? entry.repeatable(values, source) : values[values.length - 1];
    setAt(target, entry.key, value);
  }
}

/** The three layers, in order: the defaults, then `env`, then `flags`. */
function layers(entries: readonly Entry[], env: NodeJS.ProcessEnv, flags: FlagValues): Given[][] {
  const given = (read: (entry: Entry) => { texts: string[]; source: string } | undefined): Given[] =>
    entries.flatMap((entry) => {
      const found = read(entry);
      return found === undefined ? [] : [{ entry, ...found }];
    });
  return [
    given((entry) => (entry.default === undefined ? undefined : { texts: [entry.default], source: `the default of ${flagName(entry) ?? entry.env}` })),
    given((entry) => {
      const value = envValue(entry, env);
      return value === undefined ? undefined : { texts: [value], source: entry.env as string };
    }),
    given((entry) => {
      const texts = flagTexts(entry, flags);
      return texts === undefined ? undefined : { texts, source: flagName(entry) as string };
    }),
  ];
}

function fill(entries: readonly Entry[], env: NodeJS.ProcessEnv, flags: FlagValues): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  for (const layer of layers(entries, env, flags)) apply(target, layer);
  return target;
}

const VALUED = SETTINGS.filter((entry) => entry.key !== null) as unknown as readonly Entry[];

/** The settings from the defaults, then `env`, then `flags`. Throws, naming the flag or variable, on a value its parser refuses. */
export function resolveSettings(env: NodeJS.ProcessEnv = {}, flags: FlagValues = {}): ResolvedSettings {
  const settings = fill(VALUED, env, flags);
  checkTogether(settings as Partial<Settings>);
  const warnings = SETTINGS.flatMap((entry) => {
    if (!entry.warning) return [];
    const byFlag = flagTexts(entry, flags) !== undefined;
    const byEnv = envValue(entry, env) !== undefined;
    return byFlag || (entry.warning.when === 'flag or env' && byEnv) ? [entry.warning.text] : [];
  });
  const { heapGrowingPercent, readyJson, logFile, ...config } = settings as unknown as Settings;
  return { config, process: { heapGrowingPercent, readyJson, ...(logFile === undefined ? {} : { logFile }) }, warnings };
}

/** One setting alone (e.g. --data of `lapis app add`): its default, then `env`, then the flag's value. */
export function resolveSetting(setting: AnySetting, env: NodeJS.ProcessEnv, flagValue: FlagValues[string]): unknown {
  if (setting.key === null) return undefined;
  const entry = setting as unknown as Entry;
  const name = flagName(entry);
  const target = fill([entry], env, name === undefined ? {} : { [name]: flagValue });
  const [head, tail] = entry.key.split('.') as [string, string | undefined];
  return tail === undefined ? target[head] : (target[head] as Record<string, unknown> | undefined)?.[tail];
}

/** The configuration from the defaults alone: what startLapis gets unless told otherwise. */
export function defaultConfig(): LapisConfig {
  return resolveSettings({}, {}).config;
}
