// The shape of what each section reports. Every figure carries Lapis's value,
// the baseline's value measured side by side in the same run (or, for the
// quickstart, Azure's published figure), the ratio Lapis / baseline and the
// issue's target with met / missed. The bench never fails on a target.

import type { SectionName } from './context.js';

export interface Target {
  /** The words, e.g. "≤ 1.3 × baseline wall time". */
  text: string;
  met: boolean;
  /** Why the figure is not directly the target's (e.g. measured at fewer tasks). */
  note?: string;
}

export interface Figure {
  section: SectionName;
  id: string;
  label: string;
  unit: string;
  lapis: number;
  baseline: number | null;
  baselineLabel: string;
  /** lapis / baseline; null when there is no baseline figure. */
  ratio: number | null;
  better: 'higher' | 'lower';
  target?: Target;
}

export interface SectionResult {
  section: SectionName;
  /** Wall time of the section, s. */
  seconds: number;
  figures: Figure[];
  /** Everything measured, for the JSON. */
  details: Record<string, unknown>;
  notes: string[];
  /** Set when the section could not run (e.g. Slurm not startable here). */
  skipped?: string;
}

export function figure(input: Omit<Figure, 'ratio'> & { ratio?: number | null }): Figure {
  const ratio = input.ratio !== undefined ? input.ratio : input.baseline === null || input.baseline === 0 ? null : input.lapis / input.baseline;
  return { ...input, ratio };
}
