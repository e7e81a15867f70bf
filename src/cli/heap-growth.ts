// How far `lapis serve` lets V8 grow its heap past what is live. Left alone,
// V8 lets the old generation grow to up to four times the live data between
// full collections; adding tasks makes much short-lived garbage (request
// bodies, task documents), so a server holding about 70 MiB of live objects
// peaked at 320–350 MiB of RSS. Growing by half instead kept 100,000 adds
// near 225 MiB (25 %: 215 MiB, 10 %: 210 MiB); smaller shares mean more full
// collections, about a fifth more server CPU per added task at 50 % and a
// third more at 25 %.
//
// This is not a cap: unlike --max-old-space-size, the heap still grows as far
// as live data needs, so a large request can never run the server out of
// memory; only the garbage between collections is bounded. V8 reads the
// growing factor at every full collection, so setting it once the process
// runs takes effect (the heap's size limits, by contrast, are fixed at start).
//
// The setting (--heap-growing-percent, LAPIS_HEAP_GROWING_PERCENT, default 50)
// and its parser are in config/settings-table.ts.

import v8 from 'node:v8';

const V8_FLAG = '--heap-growing-percent';

/**
 * Applies the growing factor unless the operator gave V8 one of their own
 * (on node's command line or in NODE_OPTIONS); 0 keeps V8's own heuristics.
 */
export function limitHeapGrowth(percent: number): void {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((argument) => argument.includes('heap-growing-percent') || argument.includes('heap_growing_percent'));
  if (given || percent === 0) return;
  v8.setFlagsFromString(`${V8_FLAG}=${percent}`);
}
