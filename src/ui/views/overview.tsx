// The account at a glance: pools, nodes by state, jobs by state, tasks by state, recent failures.

import { batchGet, batchList, dashboardGet, encode } from '../api';
import { Counts, Loading, Section, State, useLoad } from '../components';
import { when } from '../format';
import { useLiveVersion } from '../live';
import type { AccountSummary, Job, NodeCounts, Pool, Task, TaskCounts } from '../models';

/** Jobs whose failed tasks the overview lists (the most recent first). */
const JOBS_READ = 25;

interface Failure {
  jobId: string;
  task: Task;
}

async function loadOverview() {
  const [summary, pools, nodeCounts, jobs] = await Promise.all([
    // Jobs and tasks by state over every job of the account, from the counts the server keeps.
    dashboardGet<AccountSummary>('/summary'),
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
  const recent = [...jobs].sort((a, b) => (b.creationTime ?? '').localeCompare(a.creationTime ?? '')).slice(0, JOBS_READ);
  const failures: Failure[] = [];
  await Promise.all(
    recent.map(async (job) => {
      if ((await batchGet<TaskCounts>(`/jobs/${encode(job.id)}/taskcounts`)).taskCounts.failed === 0) return;
      const failed = await batchList<Task>(`/jobs/${encode(job.id)}/tasks`, { $filter: "executionInfo/result eq 'failure'", $select: 'id,state,executionInfo' }, 10);
      failures.push(...failed.map((task) => ({ jobId: job.id, task })));
    }),
  );
  failures.sort((a, b) => (b.task.executionInfo?.endTime ?? '').localeCompare(a.task.executionInfo?.endTime ?? ''));
  const { active, running, succeeded, failed } = summary.tasks;
  return { pools, nodes, jobStates: summary.jobs, tasks: { active, running, succeeded, failed }, failures: failures.slice(0, 15), jobsSearched: recent.length, jobs: Object.values(summary.jobs).reduce((sum, n) => sum + n, 0) };
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
              {data.jobs > data.jobsSearched ? <p class="muted">In the {data.jobsSearched} most recent of {data.jobs} jobs.</p> : null}
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
