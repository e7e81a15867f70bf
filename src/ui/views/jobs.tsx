// Jobs: the list, and one job's progress (task counts as a bar), actions,
// its tasks (filtered by state and exit code, paged by the server) and a
// timeline of task runs per node.

import { useState } from 'preact/hooks';
import { batchGet, batchList, batchPage, batchPost, encode, type Page } from '../api';
import { Action, Field, Loading, ProgressBar, Section, State, useLoad } from '../components';
import { count, duration, when } from '../format';
import { useLiveVersion } from '../live';
import type { Job, Task, TaskCounts } from '../models';
import { Timeline } from './timeline';

const PAGE_SIZE = 50;

export function JobList() {
  const version = useLiveVersion((event) => event.resource === 'job');
  const loaded = useLoad(() => batchList<Job>('/jobs', { $select: 'id,state,creationTime,poolInfo' }), [version]);
  return (
    <div class="view" data-view="jobs">
      <h1>Jobs</h1>
      <Loading loaded={loaded}>
        {(jobs) => (
          <table id="jobs">
            <thead>
              <tr><th>Job</th><th>State</th><th>Pool</th><th>Created</th></tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.id}>
                  <td><a href={`#/jobs/${encode(job.id)}`}>{job.id}</a></td>
                  <td><State value={job.state} /></td>
                  <td>{job.poolInfo?.poolId ? <a href={`#/pools/${encode(job.poolInfo.poolId)}`}>{job.poolInfo.poolId}</a> : 'auto pool'}</td>
                  <td>{when(job.creationTime)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
    </div>
  );
}

interface TaskFilter {
  state: string;
  exitCode: string;
}

/** The $filter for the chosen state and exit code: both have indexes (tasks_by_state, tasks_by_exit_code). */
function filterOf(filter: TaskFilter): string | undefined {
  const parts: string[] = [];
  if (filter.state === 'succeeded' || filter.state === 'failed') parts.push(`state eq 'completed' and executionInfo/result eq '${filter.state === 'failed' ? 'failure' : 'success'}'`);
  else if (filter.state) parts.push(`state eq '${filter.state}'`);
  if (/^-?\d+$/.test(filter.exitCode.trim())) parts.push(`executionInfo/exitCode eq ${filter.exitCode.trim()}`);
  return parts.length > 0 ? parts.join(' and ') : undefined;
}

function matchingCount(counts: TaskCounts['taskCounts'], filter: TaskFilter): number | undefined {
  if (filter.exitCode.trim()) return undefined;
  if (!filter.state) return counts.active + counts.running + counts.completed;
  return (counts as unknown as Record<string, number>)[filter.state];
}

/** One page of tasks: which rows of how many, and the rows. */
function TaskPage({ jobId, page, first, total }: { jobId: string; page: Page<Task>; first: number; total?: number }) {
  return (
    <>
      <p class="page-info" id="page-info">
        {page.value.length === 0
          ? 'No matching tasks.'
          : `Tasks ${count(first)}–${count(first + page.value.length - 1)}${total !== undefined ? ` of ${count(total)}` : ''}`}
      </p>
      {page.value.length === 0 ? null : (
        <table id="task-table">
          <thead>
            <tr><th>Task</th><th>State</th><th>Exit code</th><th>Node</th><th>Retries</th><th>Requeues</th><th>Run time</th></tr>
          </thead>
          <tbody>
            {page.value.map((task) => (
              <tr key={task.id}>
                <td><a href={`#/jobs/${encode(jobId)}/tasks/${encode(task.id)}`}>{task.id}</a></td>
                <td><State value={task.state === 'completed' ? `${task.state} ${task.executionInfo?.result ?? ''}`.trim() : task.state} /></td>
                <td>{task.executionInfo?.exitCode ?? ''}</td>
                <td>{task.nodeInfo?.nodeId ?? ''}</td>
                <td>{task.executionInfo?.retryCount ?? 0}</td>
                <td>{task.executionInfo?.requeueCount ?? 0}</td>
                <td>{task.executionInfo?.startTime ? duration(task.executionInfo.startTime, task.executionInfo.endTime) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function TaskTable({ jobId, counts, live }: { jobId: string; counts: TaskCounts['taskCounts']; live: number }) {
  const [filter, setFilter] = useState<TaskFilter>({ state: '', exitCode: '' });
  // The links of the pages seen before this one: Batch pages forward only, so going back replays a kept link.
  const [pages, setPages] = useState<(string | undefined)[]>([undefined]);
  const current = pages[pages.length - 1];
  // The page's number and filter travel with its rows: until the next page arrives, the old one stays shown with its own numbers.
  const index = pages.length - 1;
  const loaded = useLoad(
    async () => ({
      index,
      filter,
      page: await batchPage<Task>(`/jobs/${encode(jobId)}/tasks`, { maxresults: PAGE_SIZE, $filter: filterOf(filter), $select: 'id,state,creationTime,executionInfo,nodeInfo' }, current),
    }),
    [jobId, filter.state, filter.exitCode, current, live],
  );
  const setFilterPart = (part: Partial<TaskFilter>) => {
    setFilter({ ...filter, ...part });
    setPages([undefined]);
  };
  return (
    <Section title="Tasks" id="tasks">
      <form class="inline" onSubmit={(event) => event.preventDefault()}>
        <label>
          State{' '}
          <select name="state" value={filter.state} onChange={(event) => setFilterPart({ state: (event.target as HTMLSelectElement).value })}>
            {['', 'active', 'preparing', 'running', 'completed', 'succeeded', 'failed'].map((state) => (
              <option key={state} value={state}>{state || 'any'}</option>
            ))}
          </select>
        </label>
        <label>
          Exit code <input name="exitCode" size={5} value={filter.exitCode} onChange={(event) => setFilterPart({ exitCode: (event.target as HTMLInputElement).value })} />
        </label>
      </form>
      <Loading loaded={loaded}>
        {({ page, index: shown, filter: shownFilter }: { page: Page<Task>; index: number; filter: TaskFilter }) => (
          <>
            <TaskPage jobId={jobId} page={page} first={shown * PAGE_SIZE + 1} total={matchingCount(counts, shownFilter)} />
            <div class="pager">
              <button type="button" disabled={pages.length <= 1} onClick={() => setPages(pages.slice(0, -1))}>Previous</button>
              <button type="button" disabled={!page.next || shown !== index} onClick={() => setPages([...pages, page.next])}>Next</button>
            </div>
          </>
        )}
      </Loading>
    </Section>
  );
}

export function JobDetail({ jobId }: { jobId: string }) {
  const [bump, setBump] = useState(0);
  const live = useLiveVersion((event) => event.jobId?.toLowerCase() === jobId.toLowerCase(), [jobId]);
  const loaded = useLoad(
    async () => {
      const [job, counts] = await Promise.all([batchGet<Job>(`/jobs/${encode(jobId)}`), batchGet<TaskCounts>(`/jobs/${encode(jobId)}/taskcounts`)]);
      return { job, counts: counts.taskCounts };
    },
    [jobId, live, bump],
  );
  const done = () => setBump((value) => value + 1);
  return (
    <div class="view" data-view="job">
      <h1>Job {jobId}</h1>
      <Loading loaded={loaded}>
        {({ job, counts }) => (
          <>
            <dl class="fields">
              <Field name="State"><State value={job.state} /></Field>
              <Field name="Pool">{job.poolInfo?.poolId ? <a href={`#/pools/${encode(job.poolInfo.poolId)}`}>{job.poolInfo.poolId}</a> : 'auto pool'}</Field>
              <Field name="Created">{when(job.creationTime)}</Field>
              {job.executionInfo?.terminateReason ? <Field name="Terminate reason">{job.executionInfo.terminateReason}</Field> : null}
            </dl>
            <Section title="Progress" id="progress">
              <ProgressBar
                label="tasks"
                parts={[
                  { name: 'succeeded', value: counts.succeeded },
                  { name: 'failed', value: counts.failed },
                  { name: 'running', value: counts.running },
                  { name: 'active', value: counts.active },
                ]}
              />
              <p id="task-counts">
                {count(counts.active)} active · {count(counts.running)} running · {count(counts.succeeded)} succeeded · {count(counts.failed)} failed
              </p>
            </Section>
            <div class="buttons">
              {job.state === 'active' ? <Action label="Disable job" run={() => batchPost(`/jobs/${encode(jobId)}/disable`, { disableTasks: 'requeue' })} done={done} /> : null}
              {job.state === 'disabled' ? <Action label="Enable job" run={() => batchPost(`/jobs/${encode(jobId)}/enable`)} done={done} /> : null}
              {job.state === 'active' || job.state === 'disabled' ? <Action label="Terminate job" run={() => batchPost(`/jobs/${encode(jobId)}/terminate`)} done={done} /> : null}
            </div>
            <TaskTable jobId={jobId} counts={counts} live={live} />
            <Section title="Timeline of task runs per node" id="timeline">
              <Timeline jobId={jobId} live={live} />
            </Section>
          </>
        )}
      </Loading>
    </div>
  );
}
