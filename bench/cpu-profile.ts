// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by
// function and by file, and inclusive time of the heaviest frames, so a
// missed target can be traced to its cause. Also usable alone:
//   npx tsx bench/cpu-profile.ts FILE.cpuprofile [top]

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  selfByFunction: { name: string; ms: number; share: number }[];
  selfByFile: { file: string; ms: number; share: number }[];
  inclusive: { name: string; ms: number; share: number }[];
}

function frameName(node: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? shortFile(url, root) : '';
  return `${functionName || '(anonymous)'}${file ? ` ${file}${lineNumber > 0 ? `:${lineNumber + 1}` : ''}` : ''}`;
}

function shortFile(url: string, root: string): string {
  let file = url.replace(/^file:\/\//, '');
  if (file.startsWith(root)) file = file.slice(root.length + 1);
  const modules = file.lastIndexOf('node_modules/');
  if (modules >= 0) file = file.slice(modules);
  return file;
}

export function summariseProfile(file: string, top = 15, root = process.cwd()): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let index = 0; index < samples.length; index++) {
    const id = samples[index] as number;
    self.set(id, (self.get(id) ?? 0) + (deltas[index] ?? 0) / 1000);
  }
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  let idleMs = 0;
  const selfByFunction = new Map<string, number>();
  const selfByFile = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') idleMs += ms;
    const name = frameName(node, root);
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + ms);
    const fileName = node.callFrame.url ? shortFile(node.callFrame.url, root) : `(${node.callFrame.functionName || 'native'})`;
    const bucket = fileName.startsWith('node_modules/') ? fileName.split('/').slice(0, fileName.split('/')[1]?.startsWith('@') ? 3 : 2).join('/') : fileName;
    selfByFile.set(bucket, (selfByFile.get(bucket) ?? 0) + ms);
  }
  // Inclusive time: a frame's self time plus its subtree's, counted once per name on a path.
  const inclusive = new Map<string, number>();
  const walk = (id: number, onPath: Set<string>): number => {
    const node = byId.get(id);
    if (!node) return 0;
    let ms = self.get(id) ?? 0;
    const name = frameName(node, root);
    const fresh = !onPath.has(name);
    if (fresh) onPath.add(name);
    for (const child of node.children ?? []) ms += walk(child, onPath);
    if (fresh) {
      onPath.delete(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    }
    return ms;
  };
  const rootNode = profile.nodes[0];
  if (rootNode) walk(rootNode.id, new Set());
  const busy = Math.max(1, totalMs - idleMs);
  const rank = (map: Map<string, number>, key: 'name' | 'file') =>
    [...map.entries()]
      .filter(([name]) => !/^\(+(idle|root|program)\)+$/.test(name.split(' ')[0] as string))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ [key]: name, ms: Math.round(ms), share: Math.round((ms / busy) * 1000) / 10 })) as never[];
  return {
    file,
    totalMs: Math.round(totalMs),
    idleMs: Math.round(idleMs),
    selfByFunction: rank(selfByFunction, 'name'),
    selfByFile: rank(selfByFile, 'file'),
    inclusive: rank(inclusive, 'name'),
  };
}

export function formatSummary(summary: ProfileSummary): string {
  const lines = [`${path.basename(summary.file)}: ${summary.totalMs} ms, idle ${summary.idleMs} ms (shares are of busy time)`];
  lines.push('  self time by file:');
  for (const entry of summary.selfByFile) lines.push(`    ${String(entry.share).padStart(5)}%  ${entry.ms} ms  ${entry.file}`);
  lines.push('  self time by function:');
  for (const entry of summary.selfByFunction) lines.push(`    ${String(entry.share).padStart(5)}%  ${entry.ms} ms  ${entry.name}`);
  lines.push('  inclusive time:');
  for (const entry of summary.inclusive) lines.push(`    ${String(entry.share).padStart(5)}%  ${entry.ms} ms  ${entry.name}`);
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: npx tsx bench/cpu-profile.ts FILE.cpuprofile [top]');
    process.exit(2);
  }
  console.log(formatSummary(summariseProfile(file, Number(top ?? 25))));
}
