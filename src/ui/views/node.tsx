// One compute node: its state, start task status and output, files, the
// tasks it ran, and reboot / remove.

import { batchGet, batchList, batchPost, encode } from '../api';
import { Action, Field, Loading, Section, State, useLoad } from '../components';
import { when } from '../format';
import { useLiveVersion } from '../live';
import type { ComputeNode, Job, NodeFile, Task } from '../models';
import { FaultButtons } from './faults';
import { LiveOutput } from './output';
import { FileList } from './task';

/** Jobs whose tasks the node view searches (the pool's most recent), and tasks shown of each. */
const JOBS_SEARCHED = 50;
const TASKS_PER_JOB = 50;

/** The tasks that ran on the node: its pool's jobs' tasks whose nodeInfo names it (Batch keeps no per-node task list beyond recentTasks). */
async function tasksRunOn(poolId: string, nodeId: string): Promise<{ jobId: string; task: Task }[]> {
  const jobs = (await batchList<Job>('/jobs', { $filter: `poolInfo/poolId eq '${poolId.replace(/'/g, "''")}'`, $select: 'id,creationTime' }))
    .sort((a, b) => (b.creationTime ?? '').localeCompare(a.creationTime ?? ''))
    .slice(0, JOBS_SEARCHED);
  const found = await Promise.all(
    jobs.map(async (job) =>
      (await batchList<Task>(`/jobs/${encode(job.id)}/tasks`, { $filter: `nodeInfo/nodeId eq '${nodeId.replace(/'/g, "''")}'`, $select: 'id,state,executionInfo' }, TASKS_PER_JOB)).map((task) => ({ jobId: job.id, task })),
    ),
  );
  return found.flat().sort((a, b) => (b.task.executionInfo?.startTime ?? '').localeCompare(a.task.executionInfo?.startTime ?? ''));
}

export function NodeDetail({ poolId, nodeId }: { poolId: string; nodeId: string }) {
  const live = useLiveVersion((event) => event.nodeId === nodeId, [nodeId]);
  const base = `/pools/${encode(poolId)}/nodes/${encode(nodeId)}`;
  const loaded = useLoad(
    async () => {
      const node = await batchGet<ComputeNode>(base);
      const [files, tasks] = await Promise.all([batchList<NodeFile>(`${base}/files`, { recursive: 'true' }, 500).catch(() => []), tasksRunOn(poolId, nodeId)]);
      return { node, files, tasks };
    },
    [base, live],
  );
  return (
    <div class="view" data-view="node">
      <h1>
        Node <a href={`#/pools/${encode(poolId)}`}>{poolId}</a> / {nodeId}
      </h1>
      <Loading loaded={loaded}>
        {({ node, files, tasks }) => {
          const start = node.startTaskInfo;
          return (
            <>
              <dl class="fields">
                <Field name="State"><State value={node.state} /> since {when(node.stateTransitionTime)}</Field>
                <Field name="Scheduling">{node.schedulingState}</Field>
                <Field name="Dedicated">{node.isDedicated ? 'yes' : 'low-priority'}</Field>
                <Field name="IP address">{node.ipAddress}</Field>
                <Field name="Tasks">{node.runningTasksCount ?? 0} running, {node.totalTasksRun ?? 0} run, {node.totalTasksSucceeded ?? 0} succeeded</Field>
              </dl>
              {(node.errors ?? []).map((error) => (
                <p class="error" key={error.code}>{error.code}: {error.message}</p>
              ))}
              <div class="buttons">
                <Action label="Reboot node" run={() => batchPost(`${base}/reboot`, { nodeRebootOption: 'requeue' })} />
                <Action label="Remove node" run={() => batchPost(`/pools/${encode(poolId)}/removenodes`, { nodeList: [nodeId], nodeDeallocationOption: 'requeue' })} />
              </div>
              <Section title="Start task" id="start-task">
                {node.startTask ? (
                  <>
                    <dl class="fields">
                      <Field name="Command line"><code>{node.startTask.commandLine}</code></Field>
                      <Field name="State"><State value={start?.state} /></Field>
                      <Field name="Exit code">{start?.exitCode ?? '—'}</Field>
                      <Field name="Retries">{start?.retryCount ?? 0}</Field>
                      {start?.failureInfo ? <Field name="Failure"><span class="error">{start.failureInfo.code}: {start.failureInfo.message}</span></Field> : null}
                    </dl>
                    <LiveOutput path={`${base}/files/startup/stdout.txt`} title="startup/stdout.txt" following={start?.state === 'running'} />
                    <LiveOutput path={`${base}/files/startup/stderr.txt`} title="startup/stderr.txt" following={start?.state === 'running'} />
                  </>
                ) : (
                  <p class="muted">The pool has no start task.</p>
                )}
              </Section>
              <Section title="Tasks it ran" id="node-tasks">
                <table>
                  <tbody>
                    {tasks.map(({ jobId, task }) => (
                      <tr key={`${jobId}/${task.id}`}>
                        <td><a href={`#/jobs/${encode(jobId)}/tasks/${encode(task.id)}`}>{jobId} / {task.id}</a></td>
                        <td><State value={task.state} /></td>
                        <td>{task.executionInfo?.exitCode ?? ''}</td>
                        <td>{when(task.executionInfo?.startTime)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {tasks.length === 0 ? <p class="muted">No tasks have run here.</p> : null}
              </Section>
              <Section title="Files">
                <FileList files={files} />
              </Section>
              <FaultButtons context={{ poolId, nodeId }} />
            </>
          );
        }}
      </Loading>
    </div>
  );
}
