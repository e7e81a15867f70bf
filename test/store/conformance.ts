// The store conformance suite: what every implementation of the `Store` port
// (src/core/ports.ts) must do, as its header says, through the port alone.
// A backend's test file calls `storeConformance(name, open)` with a factory
// that opens a fresh, empty store (test/unit/store-sqlite-conformance.test.ts).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { registerApplicationVersion, type ApplicationPackage } from '../../src/core/application.js';
import { beginCertificateDeletion, checkCertificateSpec, createCertificate, type Certificate } from '../../src/core/certificate.js';
import { createJob, completeJob, type Job } from '../../src/core/job.js';
import { createJobSchedule, type JobSchedule } from '../../src/core/job-schedule.js';
import { parseFilter } from '../../src/core/odata/filter-parser.js';
import { newNode, type TaskInformation } from '../../src/core/node.js';
import { createPool, type Pool } from '../../src/core/pool.js';
import type { PageQuery, Store, TaskCounts, TaskRecord } from '../../src/core/ports.js';
import { assignToNode, completeTask, createTask, reactivateTask, startAfterPreparation, type Task, type TaskSpec, type TaskWithInternal } from '../../src/core/task.js';

const NOW = new Date('2024-05-06T07:08:09.000Z');
const ACCOUNT = 'acct';
const OTHER = 'other';
let etags = 0;
const eTag = () => `0x${(++etags).toString(16).toUpperCase()}`;

function pool(id: string): Pool {
  const virtualMachineConfiguration = {
    imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-focal', sku: '20_04-lts', version: 'latest' },
    nodeAgentSKUId: 'batch.node.ubuntu 20.04',
  };
  return createPool({ id, vmSize: 'standard_d2s_v3', virtualMachineConfiguration, targetDedicatedNodes: 1 }, NOW, eTag(), { minAutoScaleIntervalMs: 300_000 });
}

function job(id: string, poolId = 'pool', usesTaskDependencies = true): Job {
  return createJob({ id, poolInfo: { poolId }, usesTaskDependencies } as Parameters<typeof createJob>[0], NOW, eTag());
}

function schedule(id: string): JobSchedule {
  return createJobSchedule({ id, schedule: { recurrenceInterval: 'PT1H' }, jobSpecification: { poolInfo: { poolId: 'pool' } } }, NOW, eTag()).schedule;
}

function task(owner: Job, id: string, spec: Partial<TaskSpec> = {}): Task {
  return createTask({ id, commandLine: '/bin/true', ...spec }, owner, NOW, eTag());
}

const NODE = { affinityId: 'n1', nodeUrl: 'https://lapis/pools/pool/nodes/n1', poolId: 'pool', nodeId: 'n1', taskRootDirectory: 'workitems/job/job-1/t', taskRootDirectoryUrl: 'https://lapis/t' };
const running = (t: Task) => assignToNode(t, NODE, NOW, eTag());
const succeeded = (t: Task) => completeTask({ task: running(t), internal: {} }, { exitCode: 0, endTime: NOW.toISOString() }, NOW, eTag());
const failed = (t: Task) => completeTask({ task: running(t), internal: {} }, { exitCode: 1, endTime: NOW.toISOString() }, NOW, eTag());

/** A value as a store gives it back: JSON, so fields that are undefined are left out. */
const stored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const page = (maxResults: number, continuation?: string, filter?: PageQuery['filter']): PageQuery => ({ maxResults, continuation, filter });

/** Every item of a list, a page of `size` at a time. */
function drain<T>(list: (query: PageQuery) => { items: T[]; continuation?: string }, size: number, filter?: PageQuery['filter']): { items: T[]; pages: number } {
  const items: T[] = [];
  let continuation: string | undefined;
  let pages = 0;
  do {
    const result = list(page(size, continuation, filter));
    assert.ok(result.items.length <= size);
    items.push(...result.items);
    continuation = result.continuation;
    pages += 1;
    assert.ok(pages < 1000, 'paging ends');
  } while (continuation !== undefined);
  return { items, pages };
}

const counts = (partial: Partial<TaskCounts> = {}): TaskCounts => ({ active: 0, running: 0, completed: 0, succeeded: 0, failed: 0, ...partial });

export function storeConformance(name: string, open: () => Store): void {
  /** Runs `body` against a fresh store, closed afterwards. */
  const withStore = (body: (store: Store) => void) => () => {
    const store = open();
    try {
      body(store);
    } finally {
      store.close();
    }
  };

  describe(`store conformance: ${name}`, () => {
    test('pools: insert once per id in any case, get in any case, update replaces the document and its ETag, delete', withStore((store) => {
      const created = pool('MyPool');
      assert.equal(store.pools.insert({ account: ACCOUNT, pool: created, internal: {} }), true);
      assert.equal(store.pools.insert({ account: ACCOUNT, pool: pool('mypool'), internal: {} }), false, 'the id is taken, in any case');
      assert.equal(store.pools.insert({ account: OTHER, pool: pool('MYPOOL'), internal: {} }), true, 'ids are per account');
      assert.deepEqual(store.pools.get(ACCOUNT, 'MYPOOL'), { account: ACCOUNT, pool: stored(created), internal: {} });

      const resized: Pool = { ...created, displayName: 'renamed', eTag: eTag() };
      assert.notEqual(resized.eTag, created.eTag);
      store.pools.update({ account: ACCOUNT, pool: resized, internal: { resizeDeallocationOption: 'terminate' } });
      const read = store.pools.get(ACCOUNT, 'mypool');
      assert.deepEqual(read?.internal, { resizeDeallocationOption: 'terminate' }, 'the internal part is kept beside the document');
      assert.equal(read?.pool.eTag, resized.eTag);
      assert.equal(read?.pool.id, 'MyPool', 'the id keeps its case');
      assert.deepEqual(read?.pool, stored(resized));
      assert.equal(store.pools.get(OTHER, 'mypool')?.pool.eTag !== resized.eTag, true, 'the other account\'s pool is untouched');

      store.pools.delete(ACCOUNT, 'MYPOOL');
      assert.equal(store.pools.get(ACCOUNT, 'MyPool'), undefined);
      assert.equal(store.pools.insert({ account: ACCOUNT, pool: pool('MyPool'), internal: {} }), true, 'a deleted id can be used again');
      assert.deepEqual(store.pools.listAll().map((record) => `${record.account}/${record.pool.id}`).sort(), ['acct/MyPool', 'other/MYPOOL']);
    }));

    test('pools: pages by lower-cased id, every item once, a continuation only while more follow', withStore((store) => {
      const ids = ['b', 'A', 'c', 'D', 'e', 'f', 'G'];
      for (const id of ids) store.pools.insert({ account: ACCOUNT, pool: pool(id), internal: {} });
      store.pools.insert({ account: OTHER, pool: pool('zz'), internal: {} });
      const { items, pages } = drain((query) => store.pools.list(ACCOUNT, query), 3);
      assert.deepEqual(items.map((record) => record.pool.id), ['A', 'b', 'c', 'D', 'e', 'f', 'G']);
      assert.equal(pages, 3);
      const whole = store.pools.list(ACCOUNT, page(7));
      assert.equal(whole.items.length, 7);
      assert.equal(whole.continuation, undefined, 'no continuation when the page holds the rest');
      const filtered = drain((query) => store.pools.list(ACCOUNT, query), 2, parseFilter("startswith(id, 'D') or id eq 'e'", 'pools'));
      assert.deepEqual(filtered.items.map((record) => record.pool.id), ['D', 'e']);
    }));

    test('jobs: CRUD with ETags, by pool and state, a schedule\'s jobs, state filter', withStore((store) => {
      const first = job('Job1', 'PoolA');
      assert.equal(store.jobs.insert({ account: ACCOUNT, job: first, internal: {} }), true);
      assert.equal(store.jobs.insert({ account: ACCOUNT, job: job('JOB1'), internal: {} }), false);
      store.jobs.insert({ account: ACCOUNT, job: job('Job2', 'poola'), internal: {} });
      store.jobs.insert({ account: ACCOUNT, job: job('Job3', 'PoolB'), internal: {} });
      store.jobs.insert({ account: OTHER, job: job('Job4', 'PoolA'), internal: {} });
      const done = completeJob(first, NOW, eTag());
      store.jobs.update({ account: ACCOUNT, job: done, internal: {} });
      assert.deepEqual(store.jobs.get(ACCOUNT, 'job1')?.job, stored(done));
      assert.deepEqual(store.jobs.get(ACCOUNT, 'job1')?.internal, {});
      store.jobs.update({ account: ACCOUNT, job: done, internal: { disableTasks: 'wait' } });
      assert.deepEqual(store.jobs.get(ACCOUNT, 'job1')?.internal, { disableTasks: 'wait' }, 'the internal part is kept beside the document');
      assert.deepEqual(store.jobs.get(ACCOUNT, 'job1')?.job, stored(done));

      const ids = (records: { job: Job }[]) => records.map((record) => record.job.id).sort();
      assert.deepEqual(ids(store.jobs.listByPool(ACCOUNT, 'POOLA', ['active'])), ['Job2']);
      assert.deepEqual(ids(store.jobs.listByPool(ACCOUNT, 'poolA', ['active', 'completed'])), ['Job1', 'Job2']);
      assert.deepEqual(ids(store.jobs.listByState(['active'])), ['Job2', 'Job3', 'Job4']);
      assert.deepEqual(ids(store.jobs.listByState(['completed'])), ['Job1']);
      const active = drain((query) => store.jobs.list(ACCOUNT, query), 1, parseFilter("state eq 'active'", 'jobs'));
      assert.deepEqual(ids(active.items), ['Job2', 'Job3']);

      for (const id of ['Sched:job-1', 'sched:job-2', 'sched:job-10', 'sched10:job-1', 'sched:jobx', 'schedule:job-1']) {
        store.jobs.insert({ account: ACCOUNT, job: job(id), internal: {} });
      }
      const fromSchedule = drain((query) => store.jobs.listFromSchedule(ACCOUNT, 'SCHED', query), 2);
      assert.deepEqual(fromSchedule.items.map((record) => record.job.id), ['Sched:job-1', 'sched:job-10', 'sched:job-2']);

      store.jobs.delete(ACCOUNT, 'JOB1');
      assert.equal(store.jobs.get(ACCOUNT, 'Job1'), undefined);
    }));

    test('job schedules: CRUD with ETags, by state, paging', withStore((store) => {
      const created = schedule('Nightly');
      assert.equal(store.jobSchedules.insert({ account: ACCOUNT, schedule: created, internal: {} }), true);
      assert.equal(store.jobSchedules.insert({ account: ACCOUNT, schedule: schedule('NIGHTLY'), internal: {} }), false);
      store.jobSchedules.insert({ account: ACCOUNT, schedule: schedule('hourly'), internal: {} });
      const disabled: JobSchedule = { ...created, state: 'disabled', eTag: eTag() };
      store.jobSchedules.update({ account: ACCOUNT, schedule: disabled, internal: { jobCount: 3, autoPoolId: 'pool-1' } });
      assert.deepEqual(store.jobSchedules.get(ACCOUNT, 'nightly')?.schedule, stored(disabled));
      assert.deepEqual(store.jobSchedules.get(ACCOUNT, 'nightly')?.internal, { jobCount: 3, autoPoolId: 'pool-1' }, 'the internal part is kept beside the document');
      assert.deepEqual(store.jobSchedules.listByState(['disabled']).map((record) => record.schedule.id), ['Nightly']);
      assert.deepEqual(store.jobSchedules.listByState(['active', 'disabled']).map((record) => record.schedule.id).sort(), ['Nightly', 'hourly']);
      assert.deepEqual(drain((query) => store.jobSchedules.list(ACCOUNT, query), 1).items.map((record) => record.schedule.id), ['hourly', 'Nightly']);
      store.jobSchedules.delete(ACCOUNT, 'NIGHTLY');
      assert.equal(store.jobSchedules.get(ACCOUNT, 'Nightly'), undefined);
    }));

    test('tasks: insert once per id in any case, submission order, paging, JSON pages, filters, update and delete', withStore((store) => {
      const owner = job('job');
      const records: TaskRecord[] = [];
      for (let index = 0; index < 7; index += 1) {
        const t = task(owner, `Task${index}`);
        assert.equal(store.tasks.insert({ account: ACCOUNT, jobId: 'job', attempt: 0, task: t, internal: {} }), true);
        records.push(store.tasks.get(ACCOUNT, 'JOB', `task${index}`) as TaskRecord);
      }
      assert.equal(store.tasks.insert({ account: ACCOUNT, jobId: 'Job', attempt: 0, task: task(owner, 'TASK0'), internal: {} }), false, 'the id is taken, in any case');
      const seqs = records.map((record) => record.seq);
      assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'seq increases with each insert');
      assert.equal(new Set(seqs).size, seqs.length);

      const listed = drain((query) => store.tasks.list(ACCOUNT, 'job', query), 3);
      assert.deepEqual(listed.items.map((record) => record.task.id), records.map((record) => record.task.id));
      assert.equal(listed.pages, 3);
      const json = drain((query) => store.tasks.listJson(ACCOUNT, 'job', query), 4);
      assert.deepEqual(json.items.map((text) => JSON.parse(text)), records.map((record) => record.task));

      const second = records[1] as TaskRecord;
      const moved = running(second.task);
      store.tasks.update({ ...second, attempt: 1, task: moved, internal: { slotsHeld: 2 } });
      assert.deepEqual(store.tasks.get(ACCOUNT, 'job', 'task1'), { ...second, attempt: 1, task: stored(moved), internal: { slotsHeld: 2 } }, 'the internal part is kept beside the document');
      assert.equal(JSON.parse(drain((query) => store.tasks.listJson(ACCOUNT, 'job', query), 10).items[1] as string).slotsHeld, undefined, 'JSON pages are the documents alone');
      assert.deepEqual(store.tasks.listByState(ACCOUNT, 'job', 'running').map((record) => record.task.id), ['Task1']);
      assert.deepEqual(store.tasks.listRunningOnNode(ACCOUNT, 'n1').map((record) => record.task.id), ['Task1']);
      assert.deepEqual(store.tasks.listAllRunning().map((record) => record.task.id), ['Task1']);
      const filtered = drain((query) => store.tasks.list(ACCOUNT, 'job', query), 2, parseFilter("state eq 'active'", 'tasks'));
      assert.deepEqual(filtered.items.map((record) => record.task.id), ['Task0', 'Task2', 'Task3', 'Task4', 'Task5', 'Task6']);
      const byNode = store.tasks.list(ACCOUNT, 'job', page(10, undefined, parseFilter("nodeInfo/nodeId eq 'n1'", 'tasks')));
      assert.deepEqual(byNode.items.map((record) => record.task.id), ['Task1']);

      store.tasks.delete(ACCOUNT, 'JOB', 'TASK6');
      assert.equal(store.tasks.get(ACCOUNT, 'job', 'Task6'), undefined);
      store.tasks.insert({ account: ACCOUNT, jobId: 'job', attempt: 0, task: task(owner, 'Task7'), internal: {} });
      assert.ok((store.tasks.get(ACCOUNT, 'job', 'Task7') as TaskRecord).seq > (records[6] as TaskRecord).seq, 'a deleted task\'s seq is not reused');
      assert.deepEqual(store.tasks.listRunnable(ACCOUNT, ['JOB'], 3).map((record) => record.task.id), ['Task0', 'Task2', 'Task3']);
      assert.deepEqual(store.tasks.listRunnable(ACCOUNT, [], 3), []);
    }));

    test('task counts stay exact through inserts, state changes and deletes', withStore((store) => {
      const owner = job('job');
      const insert = (id: string, slots = 1) => {
        store.tasks.insert({ account: ACCOUNT, jobId: 'job', attempt: 0, task: task(owner, id, { requiredSlots: slots }), internal: {} });
        return store.tasks.get(ACCOUNT, 'job', id) as TaskRecord;
      };
      const save = (record: TaskRecord, next: Task) => store.tasks.update({ ...record, task: next });
      const saveWith = (record: TaskRecord, next: TaskWithInternal) => store.tasks.update({ ...record, ...next });
      assert.deepEqual(store.tasks.counts(ACCOUNT, 'job'), { tasks: counts(), slots: counts() });

      const a = insert('a', 2);
      const b = insert('b');
      const c = insert('c', 3);
      const d = insert('d');
      store.tasks.insert({ account: OTHER, jobId: 'job', attempt: 0, task: task(owner, 'a'), internal: {} });
      assert.deepEqual(store.tasks.counts(ACCOUNT, 'JOB'), { tasks: counts({ active: 4 }), slots: counts({ active: 7 }) });

      const preparing = assignToNode(a.task, NODE, NOW, eTag(), 'preparing');
      save(a, preparing);
      assert.deepEqual(store.tasks.counts(ACCOUNT, 'job').tasks, counts({ active: 3, running: 1 }), 'preparing counts as running');
      save(a, startAfterPreparation(preparing, NOW, eTag()));
      saveWith(b, succeeded(b.task));
      saveWith(c, failed(c.task));
      assert.deepEqual(store.tasks.counts(ACCOUNT, 'job'), {
        tasks: counts({ active: 1, running: 1, completed: 2, succeeded: 1, failed: 1 }),
        slots: counts({ active: 1, running: 2, completed: 4, succeeded: 1, failed: 3 }),
      });

      saveWith(c, reactivateTask(failed(c.task), owner, NOW, eTag()));
      store.tasks.delete(ACCOUNT, 'job', 'd');
      assert.deepEqual(store.tasks.counts(ACCOUNT, 'job'), {
        tasks: counts({ active: 1, running: 1, completed: 1, succeeded: 1 }),
        slots: counts({ active: 3, running: 2, completed: 1, succeeded: 1 }),
      });
      void d;

      store.tasks.deleteByJob(ACCOUNT, 'JOB');
      assert.deepEqual(store.tasks.counts(ACCOUNT, 'job'), { tasks: counts(), slots: counts() });
      assert.deepEqual(store.tasks.list(ACCOUNT, 'job', page(10)).items, []);
      assert.deepEqual(store.tasks.counts(OTHER, 'job').tasks, counts({ active: 1 }), 'another account\'s job keeps its counts');
    }));

    test('dependency waits: a task runs once every parent, by id or range, completed with satisfy', withStore((store) => {
      const owner = job('job');
      const insert = (id: string, dependsOn?: TaskSpec['dependsOn']) =>
        assert.equal(store.tasks.insert({ account: ACCOUNT, jobId: 'job', attempt: 0, task: task(owner, id, dependsOn ? { dependsOn } : {}), internal: {} }), true);
      const get = (id: string) => store.tasks.get(ACCOUNT, 'job', id) as TaskRecord;
      const save = (id: string, change: (t: TaskWithInternal) => TaskWithInternal) => {
        const record = get(id);
        store.tasks.update({ ...record, ...change(record) });
      };
      const runnable = () => store.tasks.listRunnable(ACCOUNT, ['job'], 100).map((record) => record.task.id);

      insert('child', { taskIds: ['Parent'] });
      assert.deepEqual(runnable(), [], 'a parent that does not exist yet keeps its child waiting');
      insert('parent');
      assert.deepEqual(runnable(), ['parent']);
      save('parent', ({ task: t }) => failed(t));
      assert.deepEqual(runnable(), [], 'a failed parent (dependencyAction block) keeps its child waiting');
      save('parent', (current) => reactivateTask(current, owner, NOW, eTag()));
      assert.deepEqual(runnable(), ['parent']);
      save('parent', ({ task: t }) => succeeded(t));
      assert.deepEqual(runnable(), ['child'], 'released once its parent succeeded');
      store.tasks.delete(ACCOUNT, 'job', 'parent');
      assert.deepEqual(runnable(), [], 'waits again when its parent is deleted');

      insert('1');
      insert('ranged', { taskIdRanges: [{ start: 1, end: 3 }] });
      insert('3');
      save('1', ({ task: t }) => succeeded(t));
      save('3', ({ task: t }) => succeeded(t));
      assert.deepEqual(runnable(), [], 'id 2 of the range does not exist');
      insert('2');
      save('2', ({ task: t }) => succeeded(t));
      assert.deepEqual(runnable(), ['ranged']);

      insert('4');
      insert('5', { taskIdRanges: [{ start: 1, end: 5 }] });
      assert.deepEqual(runnable(), ['ranged', '4'], 'task 4 is active, so 5 waits');
      save('4', ({ task: t }) => succeeded(t));
      assert.deepEqual(runnable(), ['ranged', '5'], 'a task is not its own parent');
    }));

    test('retention: a completed task with files on a node is due at its retention time', withStore((store) => {
      const owner = job('job');
      assert.equal(store.tasks.nextRetentionTime(), undefined);
      store.tasks.insert({ account: ACCOUNT, jobId: 'job', attempt: 0, task: task(owner, 'kept', { constraints: { retentionTime: 'PT1H' } }), internal: {} });
      const record = store.tasks.get(ACCOUNT, 'job', 'kept') as TaskRecord;
      store.tasks.update({ ...record, ...succeeded(record.task) });
      const due = NOW.getTime() + 3600_000;
      assert.equal(store.tasks.nextRetentionTime(), due);
      assert.equal(store.tasks.lastRetentionOnNode(ACCOUNT, 'n1'), due);
      assert.deepEqual(store.tasks.listRetentionExpired(due - 1, 10), []);
      assert.deepEqual(store.tasks.listRetentionExpired(due, 10).map((expired) => expired.task.id), ['kept']);
      const completed = store.tasks.get(ACCOUNT, 'job', 'kept') as TaskRecord;
      assert.deepEqual(completed.internal, { dependencyAction: 'satisfy' });
      store.tasks.update({ ...completed, internal: { ...completed.internal, filesCleanedUp: true } });
      assert.equal(store.tasks.nextRetentionTime(), undefined, 'a task whose files are cleaned up is no longer due');
    }));

    test('certificates: one per algorithm and thumbprint in any case, secrets only through getSecrets, by state', withStore((store) => {
      const thumbprint = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01';
      const spec = checkCertificateSpec({ thumbprint, thumbprintAlgorithm: 'sha1', data: 'MAo=', certificateFormat: 'pfx', password: 'secret' });
      const created = createCertificate(spec, {}, NOW, eTag());
      const certificate: Certificate = created.certificate;
      assert.equal(store.certificates.insert({ account: ACCOUNT, ...created }, { data: 'MAo=', password: 'secret' }), true);
      assert.equal(store.certificates.insert({ account: ACCOUNT, ...created }, { data: 'MAo=' }), false);
      assert.deepEqual(store.certificates.get(ACCOUNT, 'SHA1', thumbprint.toLowerCase())?.certificate, stored(certificate));
      assert.deepEqual(store.certificates.get(ACCOUNT, 'sha1', thumbprint)?.internal, created.internal, 'the internal part is kept beside the document');
      assert.deepEqual(store.certificates.getSecrets(ACCOUNT, 'sha1', thumbprint), { data: 'MAo=', password: 'secret' });
      assert.equal(store.certificates.getSecrets(OTHER, 'sha1', thumbprint), undefined);
      const listed = store.certificates.list(ACCOUNT, page(10));
      assert.equal(listed.items.length, 1);
      assert.ok(!JSON.stringify(listed.items).includes('secret') && !JSON.stringify(listed.items).includes('MAo='), 'no list carries the secrets');

      const deleting = beginCertificateDeletion(created, NOW, eTag());
      store.certificates.update({ account: ACCOUNT, ...deleting });
      assert.equal(store.certificates.get(ACCOUNT, 'sha1', thumbprint)?.internal.eTag, deleting.internal.eTag);
      assert.deepEqual(store.certificates.listByState(['deleting']).map((record) => record.certificate.thumbprint), [thumbprint]);
      assert.deepEqual(store.certificates.listByState(['active']), []);
      store.certificates.delete(ACCOUNT, 'sha1', thumbprint);
      assert.equal(store.certificates.get(ACCOUNT, 'sha1', thumbprint), undefined);
    }));

    test('job node status: the document and its internal part, by job and by node, pages of documents', withStore((store) => {
      const record = (nodeId: string, attempt: number) => ({
        status: { poolId: 'pool', nodeId, nodeUrl: `https://example/pools/pool/nodes/${nodeId}` },
        internal: { preparationAttempt: attempt, releaseAttempt: 0 },
      });
      store.jobNodeStatus.put(ACCOUNT, 'Job', record('n2', 1));
      store.jobNodeStatus.put(ACCOUNT, 'Job', record('n1', 3));
      assert.deepEqual(store.jobNodeStatus.get(ACCOUNT, 'JOB', 'n1'), record('n1', 3));
      assert.deepEqual(store.jobNodeStatus.listByJob(ACCOUNT, 'job'), [record('n1', 3), record('n2', 1)]);
      assert.deepEqual(store.jobNodeStatus.page(ACCOUNT, 'job', page(10)).items, [record('n1', 3).status, record('n2', 1).status], 'pages hold the documents alone');
      assert.deepEqual(store.jobNodeStatus.listByNode(ACCOUNT, 'n2'), [{ jobKey: 'job', status: record('n2', 1).status }]);
      store.jobNodeStatus.deleteByJob(ACCOUNT, 'Job');
      assert.equal(store.jobNodeStatus.get(ACCOUNT, 'Job', 'n1'), undefined);
    }));

    test('applications: packages per version in any case, kept when the application is saved again, gone with it', withStore((store) => {
      const pkg = (applicationId: string, version: string): ApplicationPackage => ({
        applicationId, version, format: 'zip', path: `/data/applications/${applicationId}/${version}`, state: 'active', lastActivationTime: NOW.toISOString(),
      });
      const application = registerApplicationVersion(undefined, { applicationId: 'Blender', version: '1.0' }, NOW, eTag());
      store.applications.saveApplication(ACCOUNT, application);
      assert.equal(store.applications.insertPackage(ACCOUNT, pkg('Blender', '1.0')), true);
      assert.equal(store.applications.insertPackage(ACCOUNT, pkg('blender', '1.0')), false);
      assert.equal(store.applications.insertPackage(ACCOUNT, pkg('Blender', '2.0-Beta')), true);
      const renamed = registerApplicationVersion(application, { applicationId: 'Blender', version: '2.0-Beta', displayName: 'Blender 3D', makeDefault: true }, NOW, eTag());
      store.applications.saveApplication(ACCOUNT, renamed);
      const read = store.applications.get(ACCOUNT, 'BLENDER');
      assert.deepEqual(read?.application, stored(renamed));
      assert.deepEqual(read?.packages.map((entry) => entry.version), ['1.0', '2.0-Beta'], 'saving the application kept its packages');

      store.applications.deletePackage(ACCOUNT, 'blender', '2.0-BETA');
      assert.deepEqual(store.applications.get(ACCOUNT, 'Blender')?.packages.map((entry) => entry.version), ['1.0']);
      store.applications.saveApplication(ACCOUNT, registerApplicationVersion(undefined, { applicationId: 'ffmpeg', version: '6' }, NOW, eTag()));
      assert.deepEqual(drain((query) => store.applications.list(ACCOUNT, query), 1).items.map((record) => record.application.id), ['Blender', 'ffmpeg']);

      store.applications.deleteApplication(ACCOUNT, 'BLENDER');
      assert.equal(store.applications.get(ACCOUNT, 'Blender'), undefined);
      store.applications.saveApplication(ACCOUNT, application);
      assert.deepEqual(store.applications.get(ACCOUNT, 'Blender')?.packages, [], 'its packages went with it');
    }));

    test("nodes' recent tasks: newest change first, one entry per task or subtask in any case, running ones kept, the oldest ended ones dropped, gone with the node", withStore((store) => {
      const entry = (taskId: string, taskState: string, subtaskId?: number): TaskInformation => ({
        jobId: 'Job',
        taskId,
        ...(subtaskId === undefined ? {} : { subtaskId }),
        taskState,
        executionInfo: { retryCount: 0, requeueCount: 0 },
      });
      const listed = (nodeId = 'n1') => store.nodeRecentTasks.list(ACCOUNT, nodeId).map((item) => `${item.taskId}${item.subtaskId === undefined ? '' : `/${item.subtaskId}`}:${item.taskState}`);
      store.nodes.insert({ account: ACCOUNT, poolId: 'pool', node: newNode('n1', { vmSize: 'standard_d1', isDedicated: true }, NOW), internal: {} });
      assert.deepEqual(listed(), [], 'a node no task ran on lists none');

      store.nodeRecentTasks.note(ACCOUNT, 'n1', entry('a', 'running'), 2);
      store.nodeRecentTasks.note(ACCOUNT, 'n1', entry('b', 'running'), 2);
      store.nodeRecentTasks.note(ACCOUNT, 'n1', entry('A', 'completed'), 2);
      assert.deepEqual(listed(), ['A:completed', 'b:running'], "a task's later change replaces its entry and comes first");
      assert.deepEqual(stored(store.nodeRecentTasks.list(ACCOUNT, 'n1')[0]), stored(entry('A', 'completed')));

      store.nodeRecentTasks.note(ACCOUNT, 'n1', entry('mpi', 'running', 0), 2);
      store.nodeRecentTasks.note(ACCOUNT, 'n1', entry('mpi', 'running', 1), 2);
      assert.deepEqual(listed().slice(0, 2), ['mpi/1:running', 'mpi/0:running'], 'subtasks are entries of their own');
      store.nodeRecentTasks.forget(ACCOUNT, 'n1', 'job', 'MPI');
      assert.deepEqual(listed(), ['A:completed', 'b:running'], "a deleted task's entries go, its subtasks' too");

      for (const id of ['c', 'd', 'e']) store.nodeRecentTasks.note(ACCOUNT, 'n1', entry(id, 'completed'), 2);
      assert.deepEqual(listed(), ['e:completed', 'd:completed', 'b:running'], 'the two latest ended entries stay, and every running one');
      store.nodeRecentTasks.note(ACCOUNT, 'n1', entry('b', 'active'), 2);
      assert.deepEqual(listed(), ['b:active', 'e:completed'], 'a requeued task counts as ended');
      assert.deepEqual(listed('n2'), [], "another node's list is its own");
      assert.deepEqual(store.nodeRecentTasks.list(OTHER, 'n1'), [], "another account's node of that id lists nothing");

      store.nodes.delete(ACCOUNT, 'pool', 'n1');
      assert.deepEqual(listed(), [], "the node's entries go with it");
    }));

    test("an account's jobs by state and all its jobs' tasks by state", withStore((store) => {
      const first = job('first');
      const second = job('second');
      store.jobs.insert({ account: ACCOUNT, job: first, internal: {} });
      store.jobs.insert({ account: ACCOUNT, job: completeJob(second, NOW, eTag()), internal: {} });
      store.jobs.insert({ account: OTHER, job: job('first'), internal: {} });
      store.tasks.insert({ account: ACCOUNT, jobId: 'first', attempt: 0, task: task(first, 'a'), internal: {} });
      store.tasks.insert({ account: ACCOUNT, jobId: 'first', attempt: 0, task: succeeded(task(first, 'b')).task, internal: {} });
      store.tasks.insert({ account: ACCOUNT, jobId: 'second', attempt: 0, task: failed(task(second, 'c')).task, internal: {} });
      store.tasks.insert({ account: ACCOUNT, jobId: 'second', attempt: 0, task: running(task(second, 'd')), internal: {} });
      store.tasks.insert({ account: OTHER, jobId: 'first', attempt: 0, task: task(first, 'a'), internal: {} });
      assert.deepEqual(store.jobs.countByState(ACCOUNT), { active: 1, completed: 1 });
      assert.deepEqual(store.tasks.accountCounts(ACCOUNT), counts({ active: 1, running: 1, completed: 2, succeeded: 1, failed: 1 }));
      assert.deepEqual(store.tasks.accountCounts('nobody'), counts());
    }));

    test('transactions: all or nothing, a nested call joins the outer one', withStore((store) => {
      const owner = job('job');
      assert.equal(store.transaction(() => 42), 42);
      assert.throws(() =>
        store.transaction(() => {
          store.pools.insert({ account: ACCOUNT, pool: pool('lost'), internal: {} });
          store.jobs.insert({ account: ACCOUNT, job: owner, internal: {} });
          store.tasks.insert({ account: ACCOUNT, jobId: 'job', attempt: 0, task: task(owner, 't'), internal: {} });
          store.transaction(() => store.jobSchedules.insert({ account: ACCOUNT, schedule: schedule('inner'), internal: {} }));
          throw new Error('abandon');
        }),
      /abandon/);
      assert.equal(store.pools.get(ACCOUNT, 'lost'), undefined);
      assert.equal(store.jobs.get(ACCOUNT, 'job'), undefined);
      assert.equal(store.tasks.get(ACCOUNT, 'job', 't'), undefined);
      assert.equal(store.jobSchedules.get(ACCOUNT, 'inner'), undefined, 'the nested transaction rolled back with the outer one');
      assert.deepEqual(store.tasks.counts(ACCOUNT, 'job').tasks, counts(), 'counts roll back with their tasks');

      store.transaction(() => {
        store.pools.insert({ account: ACCOUNT, pool: pool('kept'), internal: {} });
        store.tasks.insert({ account: ACCOUNT, jobId: 'job', attempt: 0, task: task(owner, 't'), internal: {} });
      });
      assert.ok(store.pools.get(ACCOUNT, 'kept'));
      assert.deepEqual(store.tasks.counts(ACCOUNT, 'job').tasks, counts({ active: 1 }));
    }));
  });
}
