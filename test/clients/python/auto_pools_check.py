"""Auto pools through Python azure-batch: a job whose poolInfo carries an
autoPoolSpecification (lifetime job) gets a pool of its own, named in the
job's executionInfo.poolId with the prefix asked for; its task runs there;
terminating the job deletes the pool. An invalid pool inside the
specification is refused naming the property, and no job is made."""

import azure.batch.models as batchmodels

from common import batch_client, batch_error, check, ensure, finish, read_task_file, ubuntu_pool, unique, wait_for

batch = batch_client()
JOB_ID, BAD_JOB_ID = unique("py-auto-job"), unique("py-auto-bad")
PREFIX = "pyauto"


def pool_specification(nodes, vm_size="STANDARD_DS1_V2"):
    template = ubuntu_pool("unused", nodes)
    return batchmodels.PoolSpecification(
        vm_size=vm_size, virtual_machine_configuration=template.virtual_machine_configuration, target_dedicated_nodes=nodes)


def auto_pool_info(pool):
    return batchmodels.PoolInformation(auto_pool_specification=batchmodels.AutoPoolSpecification(
        auto_pool_id_prefix=PREFIX, pool_lifetime_option=batchmodels.PoolLifetimeOption.job, keep_alive=False, pool=pool))


def job_runs_on_its_pool():
    batch.job.add(batchmodels.JobAddParameter(id=JOB_ID, pool_info=auto_pool_info(pool_specification(1))))
    job = batch.job.get(JOB_ID)
    pool_id = job.execution_info.pool_id
    ensure(pool_id and pool_id.startswith(PREFIX + "_"), pool_id)
    spec = job.pool_info.auto_pool_specification
    ensure(spec.pool_lifetime_option == batchmodels.PoolLifetimeOption.job and spec.auto_pool_id_prefix == PREFIX, spec)
    ensure(batch.pool.exists(pool_id), "the auto pool is listed as a pool")
    batch.task.add(JOB_ID, batchmodels.TaskAddParameter(id="t1", command_line='/bin/bash -c "echo on the auto pool"'))
    task = wait_for("t1 to complete", lambda: (lambda t: t if t.state == batchmodels.TaskState.completed else None)(batch.task.get(JOB_ID, "t1")))
    ensure(task.execution_info.exit_code == 0, task.execution_info)
    ensure(task.node_info.pool_id == pool_id, task.node_info.pool_id)
    ensure(read_task_file(batch, JOB_ID, "t1", "stdout.txt") == "on the auto pool\n", "stdout")
    return pool_id


def terminating_deletes_the_pool(pool_id):
    batch.job.terminate(JOB_ID)
    wait_for("the auto pool to be deleted", lambda: not batch.pool.exists(pool_id), timeout=60.0)


def invalid_pool_is_refused():
    error = batch_error(
        lambda: batch.job.add(batchmodels.JobAddParameter(id=BAD_JOB_ID, pool_info=auto_pool_info(pool_specification(-1)))),
        "InvalidPropertyValue", 400)
    names = [detail.value for detail in (error.error.values or []) if detail.key == "PropertyName"]
    ensure(any(name.startswith("poolInfo.autoPoolSpecification.pool.") for name in names), names)
    batch_error(lambda: batch.job.get(BAD_JOB_ID), "JobNotFound", 404)


pool = check("a job with an auto pool runs its task there", job_runs_on_its_pool)
if pool:
    check("terminating the job deletes its auto pool", lambda: terminating_deletes_the_pool(pool))
check("an invalid pool in autoPoolSpecification is refused, naming it", invalid_pool_is_refused)
try:
    batch.job.delete(JOB_ID)
except batchmodels.BatchErrorException:
    pass
finish()
