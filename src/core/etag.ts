// Batch ETags look like `0x8DC1F2A3B4C5D6E`: .NET ticks in upper-case hex.
// Every mutation needs a new one, and two mutations in the same 100 ns tick
// must still differ, so the next ETag is never below the previous plus one.

import { toTicks } from './time.js';

export class ETagSequence {
  private last = 0n;

  next(now: Date): string {
    const ticks = toTicks(now);
    this.last = ticks > this.last ? ticks : this.last + 1n;
    return `0x${this.last.toString(16).toUpperCase()}`;
  }
}
