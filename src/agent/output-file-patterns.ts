// Which files an OutputFile's filePattern names, as Batch matches them: the
// pattern is relative to the task's working directory, `$VAR`s are expanded
// first, `..` is allowed up to the task directory, and Batch's wildcards
// (`*`, `**`, `?`, `[abc]`, `[a-c]`, `[!abc]`; names that start with '.'
// only when the pattern says so) are matched by our own matcher, since
// Batch's rules are Python glob's, not those of any Node glob library.
//
// The agent reads files with more rights than the task had, so nothing
// outside the task directory is named: patterns that reach beyond it are
// refused, symlinks are resolved and must land inside it, and symlinked
// directories are never descended into. output-files.ts uploads what this
// collects.

import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { componentsUnder, openChildDirectory, openDirectory, readDirectory, type DirectoryHandle } from './no-follow.js';

const MAGIC = /[*?[]/;

export interface TaskPaths {
  /** Absolute path of the task directory (holds stdout.txt and wd/). */
  taskDirectory: string;
  /** Absolute path of the task working directory, which patterns are relative to. */
  workingDirectory: string;
  /** The task's environment, for `$VAR` and `${VAR}` in patterns. */
  environment: Record<string, string>;
}

export interface CollectedFile {
  /** Absolute, symlink-free path of the file to read. */
  source: string;
  /** The name the pattern matched, relative to the pattern's base (forward slashes). */
  relative: string;
  blobName: string;
}

export interface Collection {
  /** The pattern after variable expansion, made absolute. */
  fullPattern: string;
  /** The directory the wildcards apply under (or the file itself, without wildcards). */
  basePath: string;
  files: CollectedFile[];
  /** Matches that are not uploaded, and why. */
  skipped: { file: string; reason: string }[];
}

/** A pattern the agent refuses (outside the task directory): the task fails with FileUploadMiscError. */
export class OutputPatternError extends Error {}

/** `$NAME` and `${NAME}` from the task's environment; unknown names stay as written (like os.path.expandvars). */
export function expandVariables(text: string, environment: Record<string, string>): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    return Object.hasOwn(environment, name) ? (environment[name] ?? '') : whole;
  });
}

export function hasWildcards(pattern: string): boolean {
  return MAGIC.test(pattern);
}

/** Regex source for a character class body (between `[` and `]`), Python fnmatch's rules: `!` negates, `a-z` ranges, reversed ranges are empty. */
function classSource(body: string): string {
  const chars = Array.from(body);
  const negated = chars[0] === '!';
  if (negated) chars.shift();
  const escape = (char: string) => (/[\]\[\\^-]/.test(char) ? `\\${char}` : char);
  const items: string[] = [];
  for (let k = 0; k < chars.length; k++) {
    const low = chars[k] as string;
    const high = chars[k + 2];
    if (chars[k + 1] === '-' && high !== undefined) {
      if ((low.codePointAt(0) ?? 0) <= (high.codePointAt(0) ?? 0)) items.push(`${escape(low)}-${escape(high)}`);
      k += 2;
    } else {
      items.push(escape(low));
    }
  }
  if (items.length === 0) return negated ? '[^/]' : '(?!)';
  return `[${negated ? '^/' : ''}${items.join('')}]`;
}

/** Regex source for one path segment: `*`, `?` and `[...]` never cross '/'; an unclosed `[` is literal. */
function segmentSource(segment: string): string {
  const chars = Array.from(segment);
  let source = segment.startsWith('.') ? '' : '(?!\\.)';
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as string;
    if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[') {
      let j = i + 1;
      if (chars[j] === '!') j++;
      if (chars[j] === ']') j++;
      while (j < chars.length && chars[j] !== ']') j++;
      if (j >= chars.length) {
        source += '\\[';
      } else {
        source += classSource(chars.slice(i + 1, j).join(''));
        i = j;
      }
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return source;
}

/**
 * A matcher for paths relative to a pattern's base, with Batch's wildcards as
 * Python's glob reads them: `*` and `?` within one name, `**` as a whole
 * segment for any number of directories, `[abc]`, `[a-c]`, `[!abc]`, and
 * `[*]` to escape a wildcard. Names starting with '.' match only a segment
 * that starts with '.'; `**` never enters hidden directories. Nothing else
 * is special: no braces, extglobs, negation or backslash escapes.
 */
export function globMatcher(glob: string): (relative: string) => boolean {
  const segments = glob.split('/').filter((segment) => segment !== '' && segment !== '.');
  let source = '';
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') {
      source += last ? '(?!\\.)[^/]+(?:/(?!\\.)[^/]+)*' : '(?:(?!\\.)[^/]+/)*';
    } else {
      source += segmentSource(segment) + (last ? '' : '/');
    }
  });
  const regex = new RegExp(`^${source}$`, 'u');
  return (relative) => regex.test(relative);
}

export function inside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

async function realpathOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await fs.realpath(file);
  } catch {
    return undefined;
  }
}

function joinBlobName(prefix: string | undefined, relative: string): string {
  const trimmed = (prefix ?? '').replace(/\/+$/, '');
  return trimmed ? `${trimmed}/${relative}` : relative;
}

/**
 * The files one OutputFile names, with their blob names. Throws
 * OutputPatternError for a pattern that reaches outside the task directory.
 */
export async function collectOutputFiles(spec: { filePattern: string; path?: string }, paths: TaskPaths): Promise<Collection> {
  const expanded = expandVariables(spec.filePattern, paths.environment);
  if (expanded.includes('\0')) throw new OutputPatternError(`The file pattern '${spec.filePattern}' is not a valid path.`);
  const taskDirectory = path.resolve(paths.taskDirectory);
  const realTaskDirectory = await fs.realpath(taskDirectory);
  // Only the pattern as written is scanned for wildcards: the working directory is a literal prefix.
  const absolute = path.isAbsolute(expanded);
  const fullPattern = absolute ? expanded : `${paths.workingDirectory.replace(/\/+$/, '')}/${expanded}`;
  const segments = (absolute ? expanded.replace(/^\/+/, '') : expanded).split('/');
  const firstMagic = segments.findIndex((segment) => MAGIC.test(segment));
  const prefix = (firstMagic === -1 ? segments : segments.slice(0, firstMagic)).join('/');
  const basePath = path.resolve(absolute ? '/' : paths.workingDirectory, prefix);
  if (!inside(taskDirectory, basePath)) {
    throw new OutputPatternError(
      `The file pattern '${spec.filePattern}' names files outside the task directory; only files under ${taskDirectory} can be uploaded.`,
    );
  }
  const collection: Collection = { fullPattern, basePath, files: [], skipped: [] };

  const accept = async (candidate: string, relative: string, blobName: string): Promise<void> => {
    const real = await realpathOrUndefined(candidate);
    if (!real) return;
    if (!inside(realTaskDirectory, real)) {
      collection.skipped.push({ file: candidate, reason: 'it resolves to a path outside the task directory' });
      return;
    }
    const stats = await fs.stat(real).catch(() => undefined);
    if (!stats?.isFile()) {
      if (stats) collection.skipped.push({ file: candidate, reason: 'it is not a regular file' });
      return;
    }
    collection.files.push({ source: real, relative, blobName });
  };

  if (firstMagic === -1) {
    const name = path.basename(basePath);
    await accept(basePath, name, spec.path || name);
    return collection;
  }

  const realBase = await realpathOrUndefined(basePath);
  if (!realBase) return collection;
  if (!inside(realTaskDirectory, realBase)) {
    collection.skipped.push({ file: basePath, reason: 'it resolves to a path outside the task directory' });
    return collection;
  }
  const glob = segments.slice(firstMagic).join('/');
  const matches = globMatcher(glob);
  const globSegments = glob.split('/').filter((segment) => segment !== '' && segment !== '.');
  const maxDepth = globSegments.includes('**') ? Number.POSITIVE_INFINITY : globSegments.length;
  const candidates: string[] = [];
  // Walked through directory descriptors opened without following links: a directory a task swaps for a link
  // meanwhile is not entered, so no name from outside the task directory is ever read.
  const walk = async (directory: DirectoryHandle, relativeDirectory: string, depth: number): Promise<void> => {
    const entries = await readDirectory(directory).catch(() => [] as Dirent[]);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const relative = relativeDirectory ? `${relativeDirectory}/${entry.name}` : entry.name;
      // Dirent types come from lstat: a symlinked directory is a symlink here and is never descended into.
      if (entry.isDirectory()) {
        if (depth + 1 >= maxDepth) continue;
        const child = await openChildDirectory(directory, entry.name).catch(() => undefined);
        if (!child) continue;
        try {
          await walk(child, relative, depth + 1);
        } finally {
          await child.close();
        }
      } else if (matches(relative)) {
        candidates.push(relative);
      }
    }
  };
  const base = await openDirectory(realTaskDirectory, componentsUnder(realTaskDirectory, realBase)).catch(() => undefined);
  if (!base) return collection;
  try {
    await walk(base, '', 0);
  } finally {
    await base.close();
  }
  for (const relative of candidates) await accept(path.join(realBase, relative), relative, joinBlobName(spec.path, relative));
  return collection;
}
