"""Job, task, file and node operations through Python azure-batch: job
patch/update/disable/enable/get_task_counts/terminate, task
update/terminate/reactivate, file list/get/get properties/delete, node
list/get, $select and paging."""

import azure.batch.models as batchmodels

from common import (batch_client, batch_error, check, ensure, finish, read_task_file, ubuntu_pool, unique, wait_for,
                    wait_tasks_completed)

batch = batch_client()
POOL_ID, JOB_ID = unique("py-ops-pool"), unique("py-ops-job")
POOL_INFO = batchmodels.PoolInformation(pool_id=POOL_ID)


def add_task(task_id, command):
    batch.task.add(JOB_ID, batchmodels.TaskAddParameter(id=task_id, command_line=command))


def in_state(get, *states):
    """Polls get() until the resource is in one of the states; returns it."""
    def reached():
        resource = get()
        return resource if resource.state.value in states else None
    return wait_for("state %s" % "/".join(states), reached)


def task_state(task_id, *states):
    return in_state(lambda: batch.task.get(JOB_ID, task_id), *states)


def job_state(*states):
    return in_state(lambda: batch.job.get(JOB_ID), *states)


# --- job patch / update ---------------------------------------------------------------------------------------------
def job_patch():
    batch.job.patch(JOB_ID, batchmodels.JobPatchParameter(
        priority=100, metadata=[batchmodels.MetadataItem(name="owner", value="python")],
        constraints=batchmodels.JobConstraints(max_task_retry_count=2)))
    job = batch.job.get(JOB_ID)
    assert job.priority == 100 and job.constraints.max_task_retry_count == 2, (job.priority, job.constraints)
    assert [(m.name, m.value) for m in job.metadata] == [("owner", "python")], job.metadata
    batch.job.patch(JOB_ID, batchmodels.JobPatchParameter(priority=50))  # merges: the rest stays
    job = batch.job.get(JOB_ID)
    assert job.priority == 50 and job.constraints.max_task_retry_count == 2 and len(job.metadata) == 1, job


def job_update():
    batch.job.update(JOB_ID, batchmodels.JobUpdateParameter(pool_info=POOL_INFO, priority=7))
    job = batch.job.get(JOB_ID)  # replaces: omitted metadata and constraints return to their defaults
    assert job.priority == 7 and not job.metadata and job.constraints.max_task_retry_count == 0, job


# --- tasks, task counts, files --------------------------------------------------------------------------------------
def task_counts():
    result = batch.job.get_task_counts(JOB_ID)
    counts, slots = result.task_counts, result.task_slot_counts
    assert (counts.completed, counts.succeeded, counts.failed, counts.running) == (2, 1, 1, 1), counts
    assert slots.running == 1 and slots.completed == 2, slots


def file_list():
    names = {f.name: f for f in batch.file.list_from_task(JOB_ID, "ok", recursive=True)}
    assert "stdout.txt" in names and "stderr.txt" in names, sorted(names)
    nested = [name for name in names if name.endswith("sub/f.txt")]
    assert nested and names[nested[0]].properties.content_length == 2, sorted(names)
    filtered = [f.name for f in batch.file.list_from_task(
        JOB_ID, "ok", file_list_from_task_options=batchmodels.FileListFromTaskOptions(filter="startswith(name,'std')"))]
    assert sorted(filtered) == ["stderr.txt", "stdout.txt"], filtered
    return nested[0]


def file_properties():
    raw = batch.file.get_properties_from_task(JOB_ID, "ok", "stdout.txt", raw=True)
    headers = raw.headers
    assert headers["Content-Length"] == 6 and headers["ocp-batch-file-isdirectory"] is False, headers
    assert headers["ocp-creation-time"] and headers["Last-Modified"], headers


def file_range():
    options = batchmodels.FileGetFromTaskOptions(ocp_range="bytes=0-2")
    text = b"".join(batch.file.get_from_task(JOB_ID, "ok", "stdout.txt", file_get_from_task_options=options))
    assert text == b"hel", text


def file_delete(path):
    batch.file.delete_from_task(JOB_ID, "ok", path)
    batch_error(lambda: read_task_file(batch, JOB_ID, "ok", path), "FileNotFound", 404)
    # HEAD has no body, so the client sees only the status (Azure Batch answers the same way).
    try:
        batch.file.get_properties_from_task(JOB_ID, "ok", path)
    except batchmodels.BatchErrorException as error:
        assert error.response.status_code == 404, error.response.status_code
        return
    raise AssertionError("expected 404 from get_properties_from_task")


def task_update():
    batch.task.update(JOB_ID, "sleep", constraints=batchmodels.TaskConstraints(max_task_retry_count=3))
    assert batch.task.get(JOB_ID, "sleep").constraints.max_task_retry_count == 3


def task_terminate():
    batch.task.terminate(JOB_ID, "sleep")
    task = task_state("sleep", "completed")
    assert task.execution_info.failure_info.code == "TaskEnded", task.execution_info.failure_info
    assert task.execution_info.result == batchmodels.TaskExecutionResult.failure, task.execution_info.result


def task_reactivate():
    before = batch.task.get(JOB_ID, "fail").execution_info.end_time
    batch.task.reactivate(JOB_ID, "fail")

    def ran_again():
        task = batch.task.get(JOB_ID, "fail")
        return task.state == batchmodels.TaskState.completed and task.execution_info.end_time != before and task
    task = wait_for("fail to run again", ran_again)
    assert task.execution_info.exit_code == 3, task.execution_info


# --- nodes --------------------------------------------------------------------------------------------------------
def nodes():
    listed = list(batch.compute_node.list(POOL_ID))
    assert len(listed) == 2, listed
    node = batch.compute_node.get(POOL_ID, listed[0].id)
    assert node.id == listed[0].id and node.state and node.ip_address == "127.0.0.1", node


# --- disable / enable / terminate -------------------------------------------------------------------------------------
def job_disable_requeue():
    add_task("again", '/bin/bash -c "sleep 60"')
    task_state("again", "running")
    batch.job.disable(JOB_ID, batchmodels.DisableJobOption.requeue)
    job_state("disabled")
    task = task_state("again", "active")
    assert task.execution_info.requeue_count == 1, task.execution_info


def job_enable():
    batch.job.enable(JOB_ID)
    job_state("active")
    task_state("again", "running")


def job_terminate():
    batch.job.terminate(JOB_ID)
    job = job_state("completed")
    assert job.execution_info.terminate_reason == "UserTerminate", job.execution_info
    task = task_state("again", "completed")
    assert task.execution_info.failure_info.code == "TaskEnded", task.execution_info.failure_info


# --- $select and paging -------------------------------------------------------------------------------------------
def select():
    pool = batch.pool.get(POOL_ID, pool_get_options=batchmodels.PoolGetOptions(select="id,state"))
    assert pool.id == POOL_ID and pool.state and pool.vm_size is None, pool


def paging():
    job_id = unique("py-paging-job")
    batch.job.add(batchmodels.JobAddParameter(id=job_id, pool_info=batchmodels.PoolInformation(pool_id=unique("no-pool"))))
    ids = ["p%d" % i for i in range(5)]
    batch.task.add_collection(job_id, [batchmodels.TaskAddParameter(id=i, command_line="true") for i in ids])
    pages = batch.task.list(job_id, task_list_options=batchmodels.TaskListOptions(max_results=2))
    first = pages.advance_page()
    assert len(first) == 2 and pages.next_link, (first, pages.next_link)
    pages.reset()
    assert sorted(t.id for t in pages) == ids
    assert len(list(batch.job.list(job_list_options=batchmodels.JobListOptions(max_results=1)))) >= 2
    batch.job.delete(job_id)


check("pool.add (2 nodes)", lambda: batch.pool.add(ubuntu_pool(POOL_ID, 2)))
check("job.add", lambda: batch.job.add(batchmodels.JobAddParameter(id=JOB_ID, pool_info=POOL_INFO)))
check("job.patch merges priority, metadata, constraints", job_patch)
check("job.patch poolInfo of an active job: OperationInvalidForCurrentState (409)", lambda: batch_error(
    lambda: batch.job.patch(JOB_ID, batchmodels.JobPatchParameter(pool_info=batchmodels.PoolInformation(pool_id="other"))),
    "OperationInvalidForCurrentState", 409))
check("job.update replaces", job_update)
check("task.add ok / fail", lambda: (add_task("ok", '/bin/bash -c "echo hello; mkdir sub; echo x > sub/f.txt"'),
                                    add_task("fail", '/bin/bash -c "exit 3"')))
check("ok and fail complete", lambda: wait_tasks_completed(batch, JOB_ID))
check("task.add sleep, running", lambda: (add_task("sleep", '/bin/bash -c "sleep 60"'), task_state("sleep", "running")))
check("job.get_task_counts", task_counts)
check("task.reactivate of a running task: OperationInvalidForCurrentState (409)", lambda: batch_error(
    lambda: batch.task.reactivate(JOB_ID, "sleep"), "OperationInvalidForCurrentState", 409))
check("task.update constraints", task_update)
check("task.terminate: completed with TaskEnded", task_terminate)
check("task.reactivate a failed task: runs again", task_reactivate)
check("stdout of ok is hello", lambda: ensure(read_task_file(batch, JOB_ID, "ok", "stdout.txt") == "hello\n"))
nested = check("file.list_from_task recursive and $filter startswith", file_list)
check("file.get_properties_from_task headers", file_properties)
check("file.get_from_task with ocp-range", file_range)
if nested:
    check("file.delete_from_task, then FileNotFound", lambda: file_delete(nested))
check("compute_node.list / get", nodes)
check("job.disable requeue: running task back to active", job_disable_requeue)
check("job.enable: the task runs again", job_enable)
check("job.terminate: UserTerminate, running task ends with TaskEnded", job_terminate)
check("pool.get with $select", select)
check("paging: task.list max_results=2, job.list max_results=1", paging)
check("job.delete", lambda: batch.job.delete(JOB_ID))
check("pool.delete", lambda: batch.pool.delete(POOL_ID))
finish()
