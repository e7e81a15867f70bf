// What every Batch resource's lifecycle shares: the stamps of a new resource
// and a state transition that remembers the previous state.

import type { Versioned } from './common.js';
import { formatTimestamp } from './time.js';

export interface Stateful<S> extends Versioned {
  state: S;
  stateTransitionTime: string;
  previousState?: S;
  previousStateTransitionTime?: string;
}

/** eTag, times and the `active` state of a resource created at `now`. */
export function creationStamps(now: Date, eTag: string) {
  const time = formatTimestamp(now);
  return { eTag, lastModified: time, creationTime: time, state: 'active' as const, stateTransitionTime: time };
}

export function transitionState<S, T extends Stateful<S>>(entity: T, state: S, now: Date, eTag: string): T {
  const time = formatTimestamp(now);
  return {
    ...entity,
    eTag,
    lastModified: time,
    previousState: entity.state,
    previousStateTransitionTime: entity.stateTransitionTime,
    state,
    stateTransitionTime: time,
  };
}
