// One compute node: its state, start task status and output, files, the
// tasks it ran, and reboot / remove.

import { batchGet, batchList, batchPost, encode } from '../api';
import { Action, Field, Loading, Section, State, useLoad } from '../components';
import { when } from '../format';
import { useLiveVersion } from '../live';
import type { ComputeNode, NodeFile } from '../models';
import { FaultButtons } from './faults';
import { LiveOutput } from './output';
import { FileList } from './task';

export function NodeDetail({ poolId, nodeId }: { poolId: string; nodeId: string }) {
  const live = useLiveVersion((event) => event.nodeId === nodeId, [nodeId]);
  const base = `/pools/${encode(poolId)}/nodes/${encode(nodeId)}`;
  const loaded = useLoad(
    async () => {
      const node = await batchGet<ComputeNode>(base);
      const files = await batchList<NodeFile>(`${base}/files`, { recursive: 'true' }, 500).catch(() => []);
      return { node, files };
    },
    [base, live],
  );
  return (
    <div class="view" data-view="node">
      <h1>
        Node <a href={`#/pools/${encode(poolId)}`}>{poolId}</a> / {nodeId}
      </h1>
      <Loading loaded={loaded}>
        {({ node, files }) => {
          const tasks = node.recentTasks ?? [];
          const start = node.startTaskInfo;
          return (
            <>
              <dl class="fields">
                <Field name="State"><State value={node.state} /> since {when(node.stateTransitionTime)}</Field>
                <Field name="Scheduling">{node.schedulingState}</Field>
                <Field name="Dedicated">{node.isDedicated ? 'yes' : 'low-priority'}</Field>
                <Field name="Last boot"><time id="last-boot" dateTime={node.lastBootTime}>{when(node.lastBootTime)}</time></Field>
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
                <p class="muted">The node's recentTasks: its running tasks and the last ones that ended or were requeued here.</p>
                <table>
                  <tbody>
                    {tasks.map((entry) => (
                      <tr key={`${entry.jobId}/${entry.taskId}/${entry.subtaskId ?? ''}`}>
                        <td>
                          <a href={`#/jobs/${encode(entry.jobId ?? '')}/tasks/${encode(entry.taskId ?? '')}`}>{entry.jobId} / {entry.taskId}</a>
                          {entry.subtaskId === undefined ? null : <span class="muted"> subtask {entry.subtaskId}</span>}
                        </td>
                        <td><State value={entry.taskState} /></td>
                        <td>{entry.executionInfo?.exitCode ?? entry.executionInfo?.failureInfo?.code ?? ''}</td>
                        <td>{when(entry.executionInfo?.startTime)}</td>
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
