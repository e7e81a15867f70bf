// The account at a glance: pools, nodes by state, jobs by state, tasks by state, recent failures.

import { batchGet, batchList, encode } from '../api';
import { Counts, Loading, Section, State, useLoad } from '../components';
import { when } from '../format';
import { useLiveVersion } from '../live';
import type { Job, NodeCounts, Pool, Task, TaskCounts } from '../models';

/** Jobs whose task counts and failures the overview reads (the most recent first). */
const JOBS_READ = 25;

interface Failure {
  jobId: string;
  task: Task;
}

async function loadOverview() {
  const [pools, nodeCounts, jobs] = await Promise.all([
    batchList<Pool>('/pools', { $select: 'id,state,allocationState,currentDedicatedNodes,currentLowPriorityNodes,targetDedicatedNodes,targetLowPriorityNodes' }),
    // Account_ListPoolNodeCounts pages by at most 10 pools.
    batchList<NodeCounts>('/nodecounts', {}, 1000, 10),
    batchList<Job>('/jobs', { $select: 'id,state,creationTime' }),
  ]);
  const nodes: Record<string, number> = {};
  for (const pool of nodeCounts) {
    for (const part of [pool.dedicated, pool.lowPriority]) {
      for (const [state, value] of Object.entries(part ?? {})) if (state !== 'total' && typeof value === 'number') nodes[state] = (nodes[state] ?? 0) + value;
    }
  }
  const jobStates: Record<string, number> = {};
  for (const job of jobs) jobStates[job.state ?? 'unknown'] = (jobStates[job.state ?? 'unknown'] ?? 0) + 1;
  const recent = [...jobs].sort((a, b) => (b.creationTime ?? '').localeCompare(a.creationTime ?? '')).slice(0, JOBS_READ);
  const tasks: Record<string, number> = { active: 0, running: 0, succeeded: 0, failed: 0 };
  const failures: Failure[] = [];
  await Promise.all(
    recent.map(async (job) => {
      const counts = (await batchGet<TaskCounts>(`/jobs/${encode(job.id)}/taskcounts`)).taskCounts;
      tasks.active = (tasks.active ?? 0) + counts.active;
      tasks.running = (tasks.running ?? 0) + counts.running;
      tasks.succeeded = (tasks.succeeded ?? 0) + counts.succeeded;
      tasks.failed = (tasks.failed ?? 0) + counts.failed;
      if (counts.failed === 0) return;
      const failed = await batchList<Task>(`/jobs/${encode(job.id)}/tasks`, { $filter: "executionInfo/result eq 'failure'", $select: 'id,state,executionInfo' }, 10);
      failures.push(...failed.map((task) => ({ jobId: job.id, task })));
    }),
  );
  failures.sort((a, b) => (b.task.executionInfo?.endTime ?? '').localeCompare(a.task.executionInfo?.endTime ?? ''));
  return { pools, nodes, jobStates, tasks, failures: failures.slice(0, 15), jobsCounted: recent.length, jobs: jobs.length };
}

export function Overview() {
  const version = useLiveVersion(() => true);
  const loaded = useLoad(loadOverview, [version]);
  return (
    <div class="view" data-view="overview">
      <h1>Account overview</h1>
      <Loading loaded={loaded}>
        {(data) => (
          <>
            <div class="tiles">
              <Section title="Nodes by state">
                <Counts counts={data.nodes} label="nodes by state" />
              </Section>
              <Section title="Jobs by state">
                <Counts counts={data.jobStates} label="jobs by state" />
              </Section>
              <Section title="Tasks by state">
                <Counts counts={data.tasks} label="tasks by state" />
                {data.jobs > data.jobsCounted ? <p class="muted">Of the {data.jobsCounted} most recent of {data.jobs} jobs.</p> : null}
              </Section>
            </div>
            <Section title="Pools">
              <table id="overview-pools">
                <thead>
                  <tr><th>Pool</th><th>State</th><th>Allocation</th><th>Dedicated</th><th>Low-priority</th></tr>
                </thead>
                <tbody>
                  {data.pools.map((pool) => (
                    <tr key={pool.id}>
                      <td><a href={`#/pools/${encode(pool.id)}`}>{pool.id}</a></td>
                      <td><State value={pool.state} /></td>
                      <td><State value={pool.allocationState} /></td>
                      <td>{pool.currentDedicatedNodes ?? 0} / {pool.targetDedicatedNodes ?? 0}</td>
                      <td>{pool.currentLowPriorityNodes ?? 0} / {pool.targetLowPriorityNodes ?? 0}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {data.pools.length === 0 ? <p class="muted">No pools.</p> : null}
            </Section>
            <Section title="Recent failures">
              {data.failures.length === 0 ? <p class="muted">No failed tasks.</p> : null}
              <table id="recent-failures">
                <tbody>
                  {data.failures.map(({ jobId, task }) => (
                    <tr key={`${jobId}/${task.id}`}>
                      <td><a href={`#/jobs/${encode(jobId)}/tasks/${encode(task.id)}`}>{jobId} / {task.id}</a></td>
                      <td>exit {task.executionInfo?.exitCode ?? '—'}</td>
                      <td>{task.executionInfo?.failureInfo?.code ?? ''}</td>
                      <td>{when(task.executionInfo?.endTime)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Section>
          </>
        )}
      </Loading>
    </div>
  );
}
