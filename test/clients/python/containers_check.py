"""Container pools and tasks through Python azure-batch: a pool whose
containerConfiguration names the locally built CONTAINER_IMAGE, a start task,
a job preparation task and a task with containerSettings (the task reads its
resource file, writes an output file uploaded to a blob SAS, sees AZ_BATCH_*
and its containerRunOptions' `--env X=1`), and a task whose image is missing
failing with ContainerInvalidImage. Without CONTAINER_IMAGE (no engine or no
image here) every check is skipped, saying why."""

import datetime
import os

import azure.batch.models as batchmodels
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from common import ENV, batch_client, check, ensure, finish, read_task_file, skip, unique, wait_for

IMAGE = os.environ.get("CONTAINER_IMAGE", "")
MISSING_IMAGE = "localhost:1/lapis-test/none:missing"
POOL_ID = unique("PythonContainerPool")
JOB_ID = unique("PythonContainerJob")
CONTAINER = unique("pycontainers").lower()
# pid 1 is the command line's shell in a container, and the host's Python is not there.
IN_CONTAINER = 'echo pid1=$(cat /proc/1/comm); test -e /usr/bin/python3 && echo host || echo image'


def container_settings(image=None, run_options=None):
    return batchmodels.TaskContainerSettings(image_name=image or IMAGE, container_run_options=run_options)


def sas_url(container, **permissions):
    sas = generate_container_sas(ENV["STORAGE_ACCOUNT"], CONTAINER, account_key=ENV["STORAGE_KEY"],
                                 permission=ContainerSasPermissions(**permissions),
                                 expiry=datetime.datetime.utcnow() + datetime.timedelta(hours=2))
    return "%s?%s" % (container.url, sas)


def add_pool():
    batch.pool.add(batchmodels.PoolAddParameter(
        id=POOL_ID,
        vm_size="STANDARD_DS1_V2",
        target_dedicated_nodes=1,
        virtual_machine_configuration=batchmodels.VirtualMachineConfiguration(
            image_reference=batchmodels.ImageReference(
                publisher="microsoft-azure-batch", offer="ubuntu-server-container", sku="20-04-lts", version="latest"),
            node_agent_sku_id="batch.node.ubuntu 20.04",
            container_configuration=batchmodels.ContainerConfiguration(container_image_names=[IMAGE])),
        start_task=batchmodels.StartTask(
            command_line='/bin/bash -c "(%s) > $AZ_BATCH_NODE_SHARED_DIR/start.txt"' % IN_CONTAINER,
            container_settings=container_settings(),
            user_identity=batchmodels.UserIdentity(auto_user=batchmodels.AutoUserSpecification(
                scope=batchmodels.AutoUserScope.pool, elevation_level=batchmodels.ElevationLevel.admin)),
            wait_for_success=True)))


def pool_idle():
    nodes = list(batch.compute_node.list(POOL_ID))
    for node in nodes:
        ensure(node.state not in (batchmodels.ComputeNodeState.unusable, batchmodels.ComputeNodeState.start_task_failed),
               "node %s is %s: %s" % (node.id, node.state, node.errors or node.start_task_info))
    return len(nodes) == 1 and nodes[0].state == batchmodels.ComputeNodeState.idle


def add_job():
    batch.job.add(batchmodels.JobAddParameter(
        id=JOB_ID,
        pool_info=batchmodels.PoolInformation(pool_id=POOL_ID),
        job_preparation_task=batchmodels.JobPreparationTask(
            command_line='/bin/bash -c "(%s) > prep.txt"' % IN_CONTAINER, container_settings=container_settings())))


def add_tasks():
    blob_container.create_container()
    blob_container.get_blob_client("input.txt").upload_blob(b"hello from python\n")
    script = " ".join([
        "cat input.txt > out.txt;",
        "echo task=$AZ_BATCH_TASK_ID job=$AZ_BATCH_JOB_ID pool=$AZ_BATCH_POOL_ID account=$AZ_BATCH_ACCOUNT_NAME x=$X >> out.txt;",
        IN_CONTAINER + ";",
        "cat $AZ_BATCH_NODE_SHARED_DIR/start.txt $AZ_BATCH_JOB_PREP_WORKING_DIR/prep.txt",
    ])
    batch.task.add(JOB_ID, batchmodels.TaskAddParameter(
        id="boxed",
        command_line='/bin/bash -c "%s"' % script,
        resource_files=[batchmodels.ResourceFile(storage_container_url=sas_url(blob_container, read=True, list=True), blob_prefix="input.txt")],
        output_files=[batchmodels.OutputFile(
            file_pattern="out.txt",
            destination=batchmodels.OutputFileDestination(container=batchmodels.OutputFileBlobContainerDestination(
                container_url=sas_url(blob_container, write=True), path="result/out.txt")),
            upload_options=batchmodels.OutputFileUploadOptions(upload_condition=batchmodels.OutputFileUploadCondition.task_completion))],
        container_settings=container_settings(run_options="--rm --env X=1")))
    batch.task.add(JOB_ID, batchmodels.TaskAddParameter(
        id="missing-image", command_line="/bin/true", container_settings=container_settings(image=MISSING_IMAGE)))


def tasks_completed():
    return all(t.state == batchmodels.TaskState.completed for t in batch.task.list(JOB_ID)) or None


def boxed_task_ran_in_its_image():
    task = batch.task.get(JOB_ID, "boxed")
    stdout = read_task_file(batch, JOB_ID, "boxed", "stdout.txt")
    ensure(task.execution_info.exit_code == 0, "exit code %s, failure %s, stdout %r, stderr %r" % (
        task.execution_info.exit_code, task.execution_info.failure_info, stdout, read_task_file(batch, JOB_ID, "boxed", "stderr.txt")))
    # The task, the start task and the preparation task each ran in the image.
    ensure(stdout.split() == ["pid1=bash", "image"] * 3, stdout)


def output_file_uploaded():
    out = blob_container.get_blob_client("result/out.txt").download_blob().readall().decode("utf-8")
    expected = "hello from python\ntask=boxed job=%s pool=%s account=%s x=1\n" % (JOB_ID, POOL_ID, ENV["BATCH_ACCOUNT"])
    ensure(out == expected, "%r != %r" % (out, expected))


def missing_image_failed():
    info = batch.task.get(JOB_ID, "missing-image").execution_info
    ensure(info.result == batchmodels.TaskExecutionResult.failure, info)
    ensure(info.failure_info.code == "ContainerInvalidImage", info.failure_info)
    ensure(info.failure_info.category == batchmodels.ErrorCategory.user_error, info.failure_info)
    details = {detail.name: detail.value for detail in info.failure_info.details or []}
    ensure(details.get("ContainerImage") == MISSING_IMAGE, details)


if not IMAGE:
    skip("container pool and tasks", "CONTAINER_IMAGE is not set: no container engine or test image here (scripts/build-test-node-image.sh)")
else:
    batch = batch_client()
    blob_container = BlobServiceClient(ENV["BLOB_URL"], credential={"account_name": ENV["STORAGE_ACCOUNT"], "account_key": ENV["STORAGE_KEY"]}) \
        .get_container_client(CONTAINER)
    check("pool.add with containerConfiguration (containerImageNames) and a start task in the image", add_pool)
    check("the pool's node becomes idle after its start task", lambda: wait_for("the node to become idle", pool_idle, timeout=180))
    check("job.add with a job preparation task in the image", add_job)
    check("task.add: containerSettings with --env X=1, a resource file, an output file to a SAS; and one with a missing image", add_tasks)
    check("the tasks complete", lambda: wait_for("the tasks to complete", tasks_completed, timeout=180))
    check("the task, start task and preparation task ran in the image", boxed_task_ran_in_its_image)
    check("the output file holds the resource file, AZ_BATCH_* and X=1", output_file_uploaded)
    check("a missing image fails the task with ContainerInvalidImage", missing_image_failed)
    check("job.delete", lambda: batch.job.delete(JOB_ID))
    check("pool.delete", lambda: batch.pool.delete(POOL_ID))
    check("container delete", blob_container.delete_container)
finish()
