// Commander options made from the settings table (config/settings-table.ts),
// and the flags given read back by long flag for resolveSettings. Commander
// gets no defaults: the table's defaults and the environment are applied by
// config/resolve.ts, so a flag's value here is only ever one that was given.

import { Option, type Command } from 'commander';
import type { AnySetting, FlagValues } from '../config/config.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The --help line: the help text, then the default (a secret's never) and the variable. */
export function helpLine(entry: AnySetting): string {
  const shown = entry.defaultText ?? (entry.secret ? undefined : entry.default);
  const extra = [shown === undefined ? undefined : `default: ${shown}`, entry.env === undefined ? undefined : `env: ${entry.env}`].filter((part) => part !== undefined);
  return extra.length === 0 ? entry.help : `${entry.help} (${extra.join(', ')})`;
}

export function optionFor(entry: AnySetting): Option {
  if (entry.flag === undefined) throw new Error(`The setting ${entry.env} has no flag.`);
  const option = new Option(entry.flag, helpLine(entry));
  if (entry.choices) option.choices(entry.choices);
  if (entry.key !== null && entry.repeatable) option.argParser(collect);
  if (entry.hidden) option.hideHelp();
  return option;
}

/** Adds an option per setting with a flag, in the table's order. */
export function addSettingOptions(command: Command, settings: readonly AnySetting[]): Command {
  for (const entry of settings) if (entry.flag !== undefined) command.addOption(optionFor(entry));
  return command;
}

/** The flags given to `command`, by long flag (`--port`). */
export function givenFlags(command: Command, settings: readonly AnySetting[]): FlagValues {
  const options = command.opts<Record<string, string | string[] | boolean | undefined>>();
  const flags: Record<string, string | string[] | boolean | undefined> = {};
  for (const entry of settings) {
    if (entry.flag === undefined) continue;
    const option = optionFor(entry);
    flags[option.long as string] = options[option.attributeName()];
  }
  return flags;
}

/** --help's closing lines: the settings that have a variable and no flag. */
export function environmentOnlyHelp(settings: readonly AnySetting[]): string {
  const lines = settings.filter((entry) => entry.flag === undefined && entry.env !== undefined && !entry.hidden).map((entry) => `  ${entry.env}  ${helpLine({ ...entry, env: undefined })}`);
  return lines.length === 0 ? '' : `\nSet in the environment only:\n${lines.join('\n')}\n\nEach flag's LAPIS_* variable sets the same value; flags win over the environment, which wins over the defaults.`;
}
