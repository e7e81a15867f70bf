"""Failure injection (docs/testing-your-batch-app.md) from Python, as its
example does: faults posted to /lapis/faults with the session azure-batch's
SharedKeyCredentials sign, their effects read through azure-batch. The
server runs with --faults (test/integration/clients.test.ts)."""

import datetime

import azure.batch.models as batchmodels
from azure.batch.batch_auth import SharedKeyCredentials
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from common import ENV, batch_client, check, ensure, finish, read_task_file, ubuntu_pool, unique, wait_for, wait_tasks_completed

batch = batch_client()
session = SharedKeyCredentials(ENV["BATCH_ACCOUNT"], ENV["BATCH_KEY"]).signed_session()
URL = ENV["BATCH_URL"].rstrip("/")
POOL_ID, JOB_ID = unique("py-faults-pool"), unique("py-faults-job")
SPOT_POOL_ID = unique("py-faults-spot")
CONTAINER = unique("py-faults").lower()
blob_service = BlobServiceClient(ENV["BLOB_URL"], credential={"account_name": ENV["STORAGE_ACCOUNT"], "account_key": ENV["STORAGE_KEY"]})


def inject_fault(fault):
    response = session.post(URL + "/lapis/faults", json=fault)
    ensure(response.status_code == 201, "the fault API answered %s: %s" % (response.status_code, response.text))
    return response.json()


def task_failure_is_reported():
    batch.pool.add(ubuntu_pool(POOL_ID, 1))
    batch.job.add(batchmodels.JobAddParameter(id=JOB_ID, pool_info=batchmodels.PoolInformation(pool_id=POOL_ID)))
    fault = inject_fault({"type": "taskFailure", "jobId": JOB_ID, "failureInfo": {"code": "CommandLaunchFailed"}})
    batch.task.add(JOB_ID, batchmodels.TaskAddParameter(id="failed", command_line="/bin/true"))
    batch.task.add(JOB_ID, batchmodels.TaskAddParameter(id="after", command_line="/bin/true"))
    wait_tasks_completed(batch, JOB_ID)
    failed, after = batch.task.get(JOB_ID, "failed"), batch.task.get(JOB_ID, "after")
    ensure(failed.execution_info.result == batchmodels.TaskExecutionResult.failure)
    ensure(failed.execution_info.failure_info.code == "CommandLaunchFailed", failed.execution_info.failure_info.code)
    ensure(failed.execution_info.failure_info.category == batchmodels.ErrorCategory.user_error)
    ensure(after.execution_info.result == batchmodels.TaskExecutionResult.success, "the fault took one launch only")
    listed = session.get(URL + "/lapis/faults").json()["value"]
    ensure([each["remaining"] for each in listed if each["id"] == fault["id"]] == [0])
    ensure(session.delete(URL + "/lapis/faults/" + fault["id"]).status_code == 200)


def refused_bad_fault():
    response = session.post(URL + "/lapis/faults", json={"type": "allocationDelay", "poolId": POOL_ID, "duration": "soon"})
    ensure(response.status_code == 400, response.text)
    ensure(response.json()["code"] == "InvalidPropertyValue")


def transfer_failures_are_reported():
    container = blob_service.get_container_client(CONTAINER)
    container.create_container()
    container.upload_blob("input.txt", b"hello")
    sas = generate_container_sas(ENV["STORAGE_ACCOUNT"], CONTAINER, account_key=ENV["STORAGE_KEY"],
                                 permission=ContainerSasPermissions(read=True, write=True, create=True),
                                 expiry=datetime.datetime.utcnow() + datetime.timedelta(hours=1))
    url = container.url + "?" + sas
    inject_fault({"type": "resourceFileFailure", "jobId": JOB_ID})
    inject_fault({"type": "outputFileFailure", "jobId": JOB_ID, "code": "FileUploadAccessDenied"})
    batch.task.add(JOB_ID, batchmodels.TaskAddParameter(
        id="download", command_line="/bin/cat input.txt",
        resource_files=[batchmodels.ResourceFile(http_url=container.url + "/input.txt?" + sas, file_path="input.txt")]))
    batch.task.add(JOB_ID, batchmodels.TaskAddParameter(
        id="upload", command_line="/bin/sh -c 'echo x > out.txt'",
        output_files=[batchmodels.OutputFile(
            file_pattern="out.txt",
            destination=batchmodels.OutputFileDestination(container=batchmodels.OutputFileBlobContainerDestination(container_url=url)),
            upload_options=batchmodels.OutputFileUploadOptions(upload_condition=batchmodels.OutputFileUploadCondition.task_completion))]))
    wait_tasks_completed(batch, JOB_ID)
    download = batch.task.get(JOB_ID, "download").execution_info.failure_info
    ensure(download.code == "BlobNotFound" and download.category == batchmodels.ErrorCategory.user_error, download)
    ensure([detail.name for detail in download.details] == ["FilePath", "ResourceUrl"], download.details)
    upload = batch.task.get(JOB_ID, "upload").execution_info
    ensure(upload.exit_code == 0 and upload.failure_info.code == "FileUploadAccessDenied", upload.failure_info)
    ensure("FileUploadAccessDenied" in read_task_file(batch, JOB_ID, "upload", "fileuploadout.txt"))


def spot_node_is_preempted_and_restored():
    spot = ubuntu_pool(SPOT_POOL_ID, 0)
    spot.target_low_priority_nodes = 1
    batch.pool.add(spot)
    node = wait_for("the spot node idle", lambda: next((n for n in batch.compute_node.list(SPOT_POOL_ID) if n.state == batchmodels.ComputeNodeState.idle), None))
    fault = inject_fault({"type": "preemption", "poolId": SPOT_POOL_ID})
    ensure(batch.compute_node.get(SPOT_POOL_ID, node.id).state == batchmodels.ComputeNodeState.preempted)
    counts = next(c for c in batch.account.list_pool_node_counts() if c.pool_id == SPOT_POOL_ID)
    ensure(counts.low_priority.preempted == 1, counts.low_priority)
    ensure(batch.pool.get(SPOT_POOL_ID).current_low_priority_nodes == 1, "a preempted node still counts")
    ensure(session.delete(URL + "/lapis/faults/" + fault["id"]).status_code == 200)
    wait_for("the spot node restored", lambda: batch.compute_node.get(SPOT_POOL_ID, node.id).state == batchmodels.ComputeNodeState.idle)


def kinds_are_listed():
    kinds = session.get(URL + "/lapis/faults/kinds").json()["value"]
    ensure({"startTaskHang", "preemption", "resourceFileFailure", "outputFileFailure"} <= {kind["type"] for kind in kinds}, kinds)
    ensure(all(kind["description"] for kind in kinds))


check("taskFailure injected from Python is what azure-batch reads", task_failure_is_reported)
check("resource file and output file failures injected from Python carry Batch's codes and details", transfer_failures_are_reported)
check("a Spot node preempted from Python shows preempted, counted, then restored", spot_node_is_preempted_and_restored)
check("the kinds of fault are listed", kinds_are_listed)
check("a bad fault is refused with InvalidPropertyValue", refused_bad_fault)
batch.job.delete(JOB_ID)
batch.pool.delete(POOL_ID)
batch.pool.delete(SPOT_POOL_ID)
blob_service.delete_container(CONTAINER)
finish()
