"""Job schedules through Python azure-batch: add (doNotRunUntil a day ahead,
so no job yet), get with executionInfo.nextRunTime, exists, list with $filter,
patch (merges), update (replaces), disable/enable (204), a schedule with no
doNotRunUntil that creates `<id>:job-1` at once with its jobSpecification
(job.list_from_job_schedule, executionInfo.recentJob, get with $expand=stats),
terminate (TerminateJobSchedule), delete, and the errors for a duplicate id."""

import datetime

import azure.batch.models as batchmodels

from common import batch_client, batch_error, check, ensure, finish, unique, wait_for

batch = batch_client()
LATER_ID, NOW_ID = unique("py-sched-later"), unique("py-sched-now")
# Jobs of these schedules need no nodes: the checks look at the jobs, not at tasks.
POOL_INFO = batchmodels.PoolInformation(pool_id=unique("py-sched-pool"))
LATER = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).replace(microsecond=0)


def job_spec(priority, metadata=None):
    return batchmodels.JobSpecification(pool_info=POOL_INFO, priority=priority, metadata=metadata)


def schedule_state(schedule_id, *states):
    def reached():
        schedule = batch.job_schedule.get(schedule_id)
        return schedule if schedule.state.value in states else None
    return wait_for("%s %s" % (schedule_id, "/".join(states)), reached)


def add_later():
    batch.job_schedule.add(batchmodels.JobScheduleAddParameter(
        id=LATER_ID, display_name="later",
        schedule=batchmodels.Schedule(do_not_run_until=LATER, recurrence_interval=datetime.timedelta(hours=1)),
        job_specification=job_spec(10),
        metadata=[batchmodels.MetadataItem(name="owner", value="python")]))


def get_later():
    schedule = batch.job_schedule.get(LATER_ID)
    ensure(schedule.state == batchmodels.JobScheduleState.active, schedule.state)
    ensure(schedule.display_name == "later", schedule.display_name)
    ensure(schedule.schedule.do_not_run_until == LATER, schedule.schedule.do_not_run_until)
    ensure(schedule.schedule.recurrence_interval == datetime.timedelta(hours=1), schedule.schedule.recurrence_interval)
    ensure(schedule.execution_info.next_run_time == LATER, schedule.execution_info.next_run_time)
    ensure(schedule.execution_info.recent_job is None, schedule.execution_info.recent_job)
    ensure(schedule.job_specification.pool_info.pool_id == POOL_INFO.pool_id and schedule.job_specification.priority == 10,
           schedule.job_specification)
    ensure([(m.name, m.value) for m in schedule.metadata] == [("owner", "python")], schedule.metadata)
    ensure(list(batch.job.list_from_job_schedule(LATER_ID)) == [], "no job before doNotRunUntil")


def listed():
    by_id = [s.id for s in batch.job_schedule.list(batchmodels.JobScheduleListOptions(filter="id eq '%s'" % LATER_ID))]
    ensure(by_id == [LATER_ID], by_id)
    active = [s.id for s in batch.job_schedule.list(batchmodels.JobScheduleListOptions(
        filter="state eq 'active' and startswith(id,'py-sched-later')", select="id,state"))]
    ensure(LATER_ID in active, active)
    none = list(batch.job_schedule.list(batchmodels.JobScheduleListOptions(filter="state eq 'disabled' and id eq '%s'" % LATER_ID)))
    ensure(none == [], none)


def patch():
    batch.job_schedule.patch(LATER_ID, batchmodels.JobSchedulePatchParameter(
        metadata=[batchmodels.MetadataItem(name="owner", value="patched")]))
    schedule = batch.job_schedule.get(LATER_ID)  # merges: the schedule and job specification stay
    ensure([(m.name, m.value) for m in schedule.metadata] == [("owner", "patched")], schedule.metadata)
    ensure(schedule.schedule.do_not_run_until == LATER and schedule.job_specification.priority == 10, schedule)


def update():
    later = LATER + datetime.timedelta(hours=1)
    batch.job_schedule.update(LATER_ID, batchmodels.JobScheduleUpdateParameter(
        schedule=batchmodels.Schedule(do_not_run_until=later), job_specification=job_spec(20)))
    schedule = batch.job_schedule.get(LATER_ID)  # replaces: the metadata and the recurrence go
    ensure(not schedule.metadata, schedule.metadata)
    ensure(schedule.schedule.do_not_run_until == later and schedule.schedule.recurrence_interval is None, schedule.schedule)
    ensure(schedule.job_specification.priority == 20, schedule.job_specification.priority)
    ensure(schedule.execution_info.next_run_time == later, schedule.execution_info.next_run_time)


def disable():
    status = batch.job_schedule.disable(LATER_ID, raw=True).response.status_code
    ensure(status == 204, "HTTP %s" % status)
    schedule_state(LATER_ID, "disabled")


def enable():
    status = batch.job_schedule.enable(LATER_ID, raw=True).response.status_code
    ensure(status == 204, "HTTP %s" % status)
    schedule_state(LATER_ID, "active")


def add_now():
    batch.job_schedule.add(batchmodels.JobScheduleAddParameter(
        id=NOW_ID, schedule=batchmodels.Schedule(recurrence_interval=datetime.timedelta(hours=1)),
        job_specification=job_spec(30, [batchmodels.MetadataItem(name="from", value="schedule")])))


def first_job():
    job_id = NOW_ID + ":job-1"
    jobs = wait_for("%s to create its first job" % NOW_ID, lambda: list(batch.job.list_from_job_schedule(NOW_ID)))
    ensure([j.id for j in jobs] == [job_id], [j.id for j in jobs])
    job = batch.job.get(job_id)
    ensure(job.priority == 30 and job.pool_info.pool_id == POOL_INFO.pool_id, job)
    ensure([(m.name, m.value) for m in job.metadata] == [("from", "schedule")], job.metadata)
    schedule = batch.job_schedule.get(NOW_ID)
    ensure(schedule.execution_info.recent_job is not None and schedule.execution_info.recent_job.id == job_id,
           schedule.execution_info.recent_job)
    ensure(schedule.execution_info.next_run_time > datetime.datetime.now(datetime.timezone.utc), schedule.execution_info.next_run_time)
    stats = batch.job_schedule.get(NOW_ID, batchmodels.JobScheduleGetOptions(expand="stats")).stats
    ensure(stats is not None and stats.num_succeeded_tasks == 0 and stats.num_failed_tasks == 0, stats)
    filtered = [j.id for j in batch.job.list_from_job_schedule(
        NOW_ID, batchmodels.JobListFromJobScheduleOptions(filter="state eq 'active'"))]
    ensure(filtered == [job_id], filtered)


def terminate():
    batch.job_schedule.terminate(NOW_ID)
    schedule = schedule_state(NOW_ID, "completed")
    ensure(schedule.execution_info.end_time is not None, schedule.execution_info)
    job = wait_for("the schedule's job to complete", lambda: (lambda j: j.state == batchmodels.JobState.completed and j)(
        batch.job.get(NOW_ID + ":job-1")))
    ensure(job.execution_info.terminate_reason == "TerminateJobSchedule", job.execution_info.terminate_reason)


def delete(schedule_id):
    batch.job_schedule.delete(schedule_id)
    wait_for("%s to go" % schedule_id, lambda: not batch.job_schedule.exists(schedule_id))


check("job_schedule.add (doNotRunUntil a day ahead)", add_later)
check("job_schedule.get: schedule, nextRunTime, no job yet", get_later)
check("job_schedule.exists is True", lambda: ensure(batch.job_schedule.exists(LATER_ID) is True))
check("job_schedule.exists of a missing schedule is False", lambda: ensure(batch.job_schedule.exists(unique("missing")) is False))
check("job_schedule.get missing: JobScheduleNotFound (404)", lambda: batch_error(
    lambda: batch.job_schedule.get(unique("missing")), "JobScheduleNotFound", 404))
check("job_schedule.add again: JobScheduleExists (409)", lambda: batch_error(add_later, "JobScheduleExists", 409))
check("job.add with a schedule's id: JobScheduleWithSameIdExists (409)", lambda: batch_error(
    lambda: batch.job.add(batchmodels.JobAddParameter(id=LATER_ID, pool_info=POOL_INFO)), "JobScheduleWithSameIdExists", 409))
check("job_schedule.list with $filter", listed)
check("job_schedule.patch merges metadata", patch)
check("job_schedule.update replaces schedule, job specification, metadata", update)
check("job_schedule.disable: 204, disabled", disable)
check("job_schedule.enable: 204, active", enable)
check("job_schedule.add without doNotRunUntil", add_now)
check("job.list_from_job_schedule: <id>:job-1 at once, with the jobSpecification; get with $expand=stats", first_job)
check("job_schedule.terminate: completed, its job ends with TerminateJobSchedule", terminate)
check("job_schedule.patch of a completed schedule: JobScheduleCompleted (409)", lambda: batch_error(
    lambda: batch.job_schedule.patch(NOW_ID, batchmodels.JobSchedulePatchParameter(metadata=[])), "JobScheduleCompleted", 409))
check("job_schedule.delete (with its job)", lambda: (delete(NOW_ID), batch_error(
    lambda: batch.job.get(NOW_ID + ":job-1"), "JobNotFound", 404)))
check("job_schedule.delete", lambda: delete(LATER_ID))
finish()
