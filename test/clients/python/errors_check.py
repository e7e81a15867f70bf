"""Error answers as Python azure-batch sees them: BatchErrorException with
Batch's error.code and HTTP status, and per-task results of add_collection."""

import azure.batch.models as batchmodels
from azure.batch import BatchServiceClient
from azure.batch.batch_auth import SharedKeyCredentials

from common import ENV, batch_client, batch_error, check, ensure, finish, ubuntu_pool, unique, wait_tasks_completed

batch = batch_client()
POOL_ID, JOB_ID = unique("py-errors-pool"), unique("py-errors-job")


def task(task_id, command='/bin/bash -c "echo ok"'):
    return batchmodels.TaskAddParameter(id=task_id, command_line=command)


def wrong_key():
    other = BatchServiceClient(SharedKeyCredentials(ENV["BATCH_ACCOUNT"], "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk="), batch_url=ENV["BATCH_URL"])
    batch_error(lambda: list(other.pool.list()), "AuthenticationFailed", 403)


def add_collection_task_exists():
    result = batch.task.add_collection(JOB_ID, [task("t1"), task("t2")])
    by_id = {r.task_id: r for r in result.value}
    assert by_id["t2"].status == batchmodels.TaskAddStatus.success, by_id["t2"].status
    assert by_id["t1"].status == batchmodels.TaskAddStatus.client_error, by_id["t1"].status
    assert by_id["t1"].error.code == "TaskExists", by_id["t1"].error.code


def add_collection_missing_job():
    # The SDK's add_collection wrapper gathers request errors into CreateTasksErrorException.
    try:
        batch.task.add_collection(unique("missing"), [task("t1")])
    except batchmodels.CreateTasksErrorException as error:
        assert [e.error.code for e in error.errors] == ["JobNotFound"], error.errors
        return
    raise AssertionError("expected CreateTasksErrorException")


def etag_headers():
    headers = batch.job.get(JOB_ID, raw=True).headers
    assert headers["ETag"] and headers["Last-Modified"].year >= 2020, headers


check("wrong key: AuthenticationFailed (403)", wrong_key)
check("pool.get missing: PoolNotFound (404)", lambda: batch_error(lambda: batch.pool.get(unique("missing")), "PoolNotFound", 404))
check("pool.exists missing is False", lambda: ensure(batch.pool.exists(unique("missing")) is False))
check("job.get missing: JobNotFound (404)", lambda: batch_error(lambda: batch.job.get(unique("missing")), "JobNotFound", 404))
check("pool.add", lambda: batch.pool.add(ubuntu_pool(POOL_ID, 1)))
check("pool.add again: PoolExists (409)", lambda: batch_error(lambda: batch.pool.add(ubuntu_pool(POOL_ID, 1)), "PoolExists", 409))
check("pool.exists is True", lambda: ensure(batch.pool.exists(POOL_ID) is True))
check("job.add", lambda: batch.job.add(batchmodels.JobAddParameter(id=JOB_ID, pool_info=batchmodels.PoolInformation(pool_id=POOL_ID))))
check("job.add again: JobExists (409)", lambda: batch_error(
    lambda: batch.job.add(batchmodels.JobAddParameter(id=JOB_ID, pool_info=batchmodels.PoolInformation(pool_id=POOL_ID))), "JobExists", 409))
check("task.get missing: TaskNotFound (404)", lambda: batch_error(lambda: batch.task.get(JOB_ID, "missing"), "TaskNotFound", 404))
check("task.add", lambda: batch.task.add(JOB_ID, task("t1")))
check("task.add again: TaskExists (409)", lambda: batch_error(lambda: batch.task.add(JOB_ID, task("t1")), "TaskExists", 409))
check("add_collection: TaskExists result for t1, success for t2", add_collection_task_exists)
check("add_collection to a missing job: CreateTasksErrorException with JobNotFound", add_collection_missing_job)
check("tasks complete", lambda: wait_tasks_completed(batch, JOB_ID))
check("file.get_from_task missing: FileNotFound (404)", lambda: batch_error(
    lambda: b"".join(batch.file.get_from_task(JOB_ID, "t1", "no-such-file.txt")), "FileNotFound", 404))
check("job.enable on an active job: OperationInvalidForCurrentState (409)", lambda: batch_error(
    lambda: batch.job.enable(JOB_ID), "OperationInvalidForCurrentState", 409))
check("task.update of a completed task: TaskCompleted (409)", lambda: batch_error(
    lambda: batch.task.update(JOB_ID, "t1", constraints=batchmodels.TaskConstraints(max_task_retry_count=1)), "TaskCompleted", 409))
check("job.get raw: ETag and Last-Modified headers", etag_headers)
check("job.patch If-Match a stale ETag: ConditionNotMet (412)", lambda: batch_error(lambda: batch.job.patch(
    JOB_ID, batchmodels.JobPatchParameter(priority=1), job_patch_options=batchmodels.JobPatchOptions(if_match='"0x1"')),
    "ConditionNotMet", 412))
check("job.delete", lambda: batch.job.delete(JOB_ID))
check("pool.delete", lambda: batch.pool.delete(POOL_ID))
finish()
