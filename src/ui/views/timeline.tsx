// A job's task runs per node (a Gantt chart): for each task that has run,
// its wait in the queue (added → started, thin) and its run (started →
// ended, coloured by result, or still growing while it runs), on a row of
// its node (one row per run at once). Retries and requeues are marked where the event log saw them
// (⟳ a retry, ⤺ a requeue), and counted on the bar from the task itself.

import { batchList, encode } from '../api';
import { Loading, useLoad } from '../components';
import { keptEvents } from '../live';
import type { Task } from '../models';

/** Tasks drawn at most, of each of running and completed: enough to see a pattern, few enough to draw at once. */
const DRAWN = 400;
const ROW = 22;
const LABEL = 140;
const WIDTH = 900;

async function runs(jobId: string): Promise<Task[]> {
  const select = 'id,state,creationTime,executionInfo,nodeInfo';
  const [running, completed] = await Promise.all([
    batchList<Task>(`/jobs/${encode(jobId)}/tasks`, { $filter: "state eq 'running'", $select: select }, DRAWN),
    batchList<Task>(`/jobs/${encode(jobId)}/tasks`, { $filter: "state eq 'completed'", $select: select }, DRAWN),
  ]);
  return [...running, ...completed].filter((task) => task.executionInfo?.startTime && task.nodeInfo?.nodeId);
}

export function Timeline({ jobId, live }: { jobId: string; live: number }) {
  const loaded = useLoad(() => runs(jobId), [jobId, live]);
  return (
    <Loading loaded={loaded}>
      {(tasks) => (
        <>
          <Chart jobId={jobId} tasks={tasks} />
          <p class="muted">Dashed: waiting in the queue (added → started). Bar: the run, blue while running, green succeeded, red failed. ⟳ retries, ⤺ requeues.</p>
        </>
      )}
    </Loading>
  );
}

function Chart({ jobId, tasks }: { jobId: string; tasks: Task[] }) {
  if (tasks.length === 0) return <p class="muted">No task has run yet.</p>;
  const now = Date.now();
  const time = (iso: string | undefined) => (iso ? new Date(iso).getTime() : now);
  const start = Math.min(...tasks.map((task) => time(task.creationTime)));
  const end = Math.max(now, ...tasks.map((task) => time(task.executionInfo?.endTime)));
  const x = (ms: number) => LABEL + ((ms - start) / Math.max(end - start, 1)) * (WIDTH - LABEL - 10);
  const nodes = [...new Set(tasks.map((task) => task.nodeInfo?.nodeId as string))].sort();
  // Runs that overlap on a node (several slots) get lanes of their own under the node's name.
  const lanes = new Map<string, number[]>(nodes.map((node) => [node, []]));
  const lane = new Map<string, number>();
  for (const task of [...tasks].sort((a, b) => time(a.executionInfo?.startTime) - time(b.executionInfo?.startTime))) {
    const ends = lanes.get(task.nodeInfo?.nodeId as string) as number[];
    const free = ends.findIndex((endMs) => endMs <= time(task.executionInfo?.startTime));
    const index = free >= 0 ? free : ends.length;
    ends[index] = time(task.executionInfo?.endTime);
    lane.set(task.id, index);
  }
  const firstRow = new Map<string, number>();
  let rows = 0;
  for (const node of nodes) {
    firstRow.set(node, rows);
    rows += Math.max(1, lanes.get(node)?.length ?? 1);
  }
  const row = (task: Task) => (firstRow.get(task.nodeInfo?.nodeId as string) ?? 0) + (lane.get(task.id) ?? 0);
  const marks = keptEvents((event) => event.jobId?.toLowerCase() === jobId.toLowerCase() && (event.change === 'retried' || event.change === 'requeued'));
  const height = rows * ROW + 30;
  return (
    <svg class="timeline" viewBox={`0 0 ${WIDTH} ${height}`} width="100%" role="img" aria-label={`task runs of ${tasks.length} tasks on ${nodes.length} nodes`}>
      {nodes.map((node) => (
        <text key={node} x={4} y={(firstRow.get(node) ?? 0) * ROW + 15} class="label">
          <title>{node}</title>
          {node.length > 18 ? `…${node.slice(-17)}` : node}
        </text>
      ))}
      {tasks.map((task) => {
        const y = row(task) * ROW;
        const info = task.executionInfo ?? {};
        const ran = time(info.startTime);
        const result = task.state === 'running' ? 'running' : info.result === 'failure' ? 'failed' : 'succeeded';
        const retries = (info.retryCount ?? 0) + (info.requeueCount ?? 0);
        return (
          <g key={task.id} class="run" data-task={task.id}>
            <title>{`${task.id}: queued ${Math.round((ran - time(task.creationTime)) / 1000)} s, ${task.state}${info.exitCode !== undefined ? `, exit ${info.exitCode}` : ''}, ${info.retryCount ?? 0} retries, ${info.requeueCount ?? 0} requeues`}</title>
            <line x1={x(time(task.creationTime))} x2={x(ran)} y1={y + 11} y2={y + 11} class="queued" />
            <rect x={x(ran)} y={y + 4} width={Math.max(2, x(time(info.endTime)) - x(ran))} height={ROW - 8} class={`state-${result}`} />
            {retries > 0 ? <text x={x(ran) + 2} y={y + 15} class="retries">{`⟳${info.retryCount ?? 0} ⤺${info.requeueCount ?? 0}`}</text> : null}
          </g>
        );
      })}
      {marks.map((event) => {
        const y = firstRow.get(event.nodeId ?? '');
        if (y === undefined) return null;
        return (
          <text key={event.id} x={x(time(event.time))} y={y * ROW + 10} class="mark">
            <title>{`${event.taskId} ${event.change} at ${event.time}`}</title>
            {event.change === 'retried' ? '⟳' : '⤺'}
          </text>
        );
      })}
      <text x={LABEL} y={height - 6} class="axis">{new Date(start).toISOString()}</text>
      <text x={WIDTH - 10} y={height - 6} class="axis" text-anchor="end">{new Date(end).toISOString()}</text>
    </svg>
  );
}
