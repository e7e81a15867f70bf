// The plot: tasks/s against total slots, Lapis beside the direct-spawn
// baseline (and Slurm where it ran), drawn by Vega-Lite and rendered to SVG
// headlessly by Vega's View.toSVG() — pure JavaScript, no canvas, no browser.

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface PlotPoint {
  slots: number;
  tasksPerS: number;
  series: string;
}

export async function throughputSvg(points: PlotPoint[], title: string): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Tasks per second against total task slots', subtitle: title },
    width: 480,
    height: 300,
    background: 'white',
    data: { values: points },
    mark: { type: 'line', point: { size: 60, filled: true } },
    encoding: {
      x: {
        field: 'slots',
        type: 'quantitative',
        title: 'total task slots S (nodes × taskSlotsPerNode)',
        scale: { type: 'log', base: 2 },
        axis: { values: [...new Set(points.map((point) => point.slots))].sort((a, b) => a - b), format: 'd' },
      },
      // Log scale: Slurm's few tasks a second and the baseline's hundreds both stay readable.
      y: { field: 'tasksPerS', type: 'quantitative', title: 'tasks / s, log scale (higher is better)', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'right', labelLimit: 320 } },
      shape: { field: 'series', type: 'nominal', title: null, legend: null },
      tooltip: [{ field: 'series' }, { field: 'slots' }, { field: 'tasksPerS', format: '.0f' }],
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
