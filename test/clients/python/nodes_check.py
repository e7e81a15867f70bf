"""Compute node operations through Python azure-batch: node files
(list_from_compute_node, get_from_compute_node, get_properties_from_compute_node,
delete_from_compute_node), disable/enable scheduling, add/update/delete user,
get_remote_login_settings, get_remote_desktop, extensions, upload_batch_service_logs
to a container SAS made with azure.storage.blob, reboot (terminate) and reimage,
account.list_pool_node_counts; and, on the same job, task list with $filter,
get_task_counts, list_preparation_and_release_task_status, list_subtasks and
delete; job.disable with terminate and with wait."""

import datetime

import azure.batch.models as batchmodels
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from common import ENV, batch_client, batch_error, check, ensure, finish, ubuntu_pool, unique, wait_for, wait_tasks_completed

batch = batch_client()
POOL_ID, JOB_ID = unique("py-nodes-pool"), unique("py-nodes-job")
CONTAINER = unique("py-node-logs")
blob_service = BlobServiceClient(ENV["BLOB_URL"], credential={"account_name": ENV["STORAGE_ACCOUNT"], "account_key": ENV["STORAGE_KEY"]})
nodes = {}  # "write": the node that ran task write, "other": the other one


def add_task(task_id, command):
    batch.task.add(JOB_ID, batchmodels.TaskAddParameter(id=task_id, command_line=command))


def node(node_id):
    return batch.compute_node.get(POOL_ID, node_id)


def node_state(node_id, *states):
    def reached():
        current = node(node_id)
        return current if current.state.value in states else None
    return wait_for("%s %s" % (node_id, "/".join(states)), reached)


def task_state(task_id, *states):
    def reached():
        task = batch.task.get(JOB_ID, task_id)
        return task if task.state.value in states else None
    return wait_for("%s %s" % (task_id, "/".join(states)), reached)


def node_file_names(node_id):
    return {f.name: f for f in batch.file.list_from_compute_node(POOL_ID, node_id, recursive=True)}


def setup():
    batch.pool.add(ubuntu_pool(POOL_ID, 2))
    wait_for("2 idle nodes", lambda: [n.state for n in batch.compute_node.list(POOL_ID)] == [batchmodels.ComputeNodeState.idle] * 2)
    batch.job.add(batchmodels.JobAddParameter(
        id=JOB_ID, pool_info=batchmodels.PoolInformation(pool_id=POOL_ID),
        job_preparation_task=batchmodels.JobPreparationTask(command_line='/bin/bash -c "echo prep"'),
        job_release_task=batchmodels.JobReleaseTask(command_line='/bin/bash -c "echo release"')))
    add_task("write", '/bin/bash -c "echo node file; echo gone > extra.txt"')
    add_task("bad", '/bin/bash -c "exit 2"')
    wait_tasks_completed(batch, JOB_ID)
    nodes["write"] = batch.task.get(JOB_ID, "write").node_info.node_id
    nodes["other"] = [n.id for n in batch.compute_node.list(POOL_ID) if n.id != nodes["write"]][0]


# --- tasks of the job ------------------------------------------------------------------------------------------------
def task_filter():
    def ids(expression):
        return sorted(t.id for t in batch.task.list(JOB_ID, batchmodels.TaskListOptions(filter=expression)))
    ensure(ids("executionInfo/exitCode eq 2") == ["bad"], ids("executionInfo/exitCode eq 2"))
    ensure(ids("state eq 'completed'") == ["bad", "write"], ids("state eq 'completed'"))
    ensure(ids("startswith(id,'wr') and executionInfo/result eq 'success'") == ["write"], "startswith and result")
    ensure(ids("state eq 'active'") == [], ids("state eq 'active'"))


def task_counts():
    counts = batch.job.get_task_counts(JOB_ID).task_counts
    ensure((counts.active, counts.running, counts.completed, counts.succeeded, counts.failed) == (0, 0, 2, 1, 1), counts)


def preparation_status():
    entries = list(batch.job.list_preparation_and_release_task_status(JOB_ID))
    ran = {e.node_id: e for e in entries}
    ensure(nodes["write"] in ran, sorted(ran))
    info = ran[nodes["write"]].job_preparation_task_execution_info
    ensure(info.state == batchmodels.JobPreparationTaskState.completed and info.exit_code == 0, info)
    ensure(all(e.pool_id == POOL_ID for e in entries), entries)


# --- node files ------------------------------------------------------------------------------------------------------
def node_files():
    names = node_file_names(nodes["write"])
    stdout = [n for n in names if n.startswith("workitems/") and n.endswith("/write/stdout.txt")]
    extra = [n for n in names if n.startswith("workitems/") and n.endswith("/write/wd/extra.txt")]  # the task's working directory
    ensure(stdout and extra, sorted(names))
    ensure(names[stdout[0]].properties.content_length == len(b"node file\n"), names[stdout[0]].properties)
    ensure(names["workitems"].is_directory and names["startup"].is_directory, "directories are listed")
    filtered = [f.name for f in batch.file.list_from_compute_node(
        POOL_ID, nodes["write"], recursive=True,
        file_list_from_compute_node_options=batchmodels.FileListFromComputeNodeOptions(filter="startswith(name,'workitems')"))]
    ensure(filtered and all(n.startswith("workitems") for n in filtered), filtered)
    return stdout[0], extra[0]


def node_file_get(paths):
    text = b"".join(batch.file.get_from_compute_node(POOL_ID, nodes["write"], paths[0]))
    ensure(text == b"node file\n", text)
    headers = batch.file.get_properties_from_compute_node(POOL_ID, nodes["write"], paths[0], raw=True).headers
    ensure(headers["Content-Length"] == len(b"node file\n") and headers["ocp-batch-file-isdirectory"] is False, headers)


def node_file_delete(paths):
    batch.file.delete_from_compute_node(POOL_ID, nodes["write"], paths[1])
    batch_error(lambda: b"".join(batch.file.get_from_compute_node(POOL_ID, nodes["write"], paths[1])), "FileNotFound", 404)


def node_file_outside():
    # The node's directory is the root: a path climbing out of it is never served.
    try:
        data = b"".join(batch.file.get_from_compute_node(POOL_ID, nodes["write"], "../../../../../../etc/passwd"))
    except batchmodels.BatchErrorException as error:
        ensure(error.response.status_code in (400, 404), error.response.status_code)
        return
    raise AssertionError("a file outside the node was served: %r" % data[:40])


# --- scheduling --------------------------------------------------------------------------------------------------------
def disable_scheduling():
    other = nodes["other"]
    batch.compute_node.disable_scheduling(POOL_ID, other, batchmodels.DisableComputeNodeSchedulingOption.requeue)
    current = node_state(other, "offline")
    ensure(current.scheduling_state == batchmodels.SchedulingState.disabled, current.scheduling_state)
    add_task("elsewhere", '/bin/bash -c "echo placed"')
    task = task_state("elsewhere", "completed")
    ensure(task.node_info.node_id == nodes["write"], "ran on %s, which has scheduling disabled" % task.node_info.node_id)


def enable_scheduling():
    batch.compute_node.enable_scheduling(POOL_ID, nodes["other"])
    current = node_state(nodes["other"], "idle")
    ensure(current.scheduling_state == batchmodels.SchedulingState.enabled, current.scheduling_state)


# --- users, remote login -----------------------------------------------------------------------------------------------
def add_user():
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    batch.compute_node.add_user(POOL_ID, nodes["write"], batchmodels.ComputeNodeUser(
        name="pyuser", password="Py-check-1", is_admin=False, expiry_time=expiry))


def update_user():
    batch.compute_node.update_user(POOL_ID, nodes["write"], "pyuser", batchmodels.NodeUpdateUserParameter(
        password="Py-check-2", expiry_time=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)))


def remote_login():
    settings = batch.compute_node.get_remote_login_settings(POOL_ID, nodes["write"])
    ensure(settings.remote_login_ip_address == "127.0.0.1" and settings.remote_login_port == 22, settings)


# --- service logs --------------------------------------------------------------------------------------------------------
def container_url(permission):
    sas = generate_container_sas(ENV["STORAGE_ACCOUNT"], CONTAINER, account_key=ENV["STORAGE_KEY"], permission=permission,
                                 expiry=datetime.datetime.utcnow() + datetime.timedelta(hours=1))
    return "%s?%s" % (blob_service.get_container_client(CONTAINER).url, sas)


def upload_logs():
    container = blob_service.get_container_client(CONTAINER)
    container.create_container()
    url = container_url(ContainerSasPermissions(read=True, add=True, create=True, write=True, list=True))
    result = batch.compute_node.upload_batch_service_logs(POOL_ID, nodes["write"], batchmodels.UploadBatchServiceLogsConfiguration(
        container_url=url, start_time=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)))
    ensure(result.number_of_files_uploaded >= 1 and result.virtual_directory_name, result)
    ensure(POOL_ID in result.virtual_directory_name and nodes["write"] in result.virtual_directory_name, result.virtual_directory_name)
    blobs = [b.name for b in container.list_blobs(name_starts_with=result.virtual_directory_name)]
    ensure(len(blobs) == result.number_of_files_uploaded, (blobs, result.number_of_files_uploaded))


def upload_logs_read_only():
    url = container_url(ContainerSasPermissions(read=True, list=True))
    batch_error(lambda: batch.compute_node.upload_batch_service_logs(POOL_ID, nodes["write"], batchmodels.UploadBatchServiceLogsConfiguration(
        container_url=url, start_time=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1))),
        "InvalidPropertyValue", 400)


# --- reboot, reimage -----------------------------------------------------------------------------------------------------
def reboot_terminate():
    add_task("sleeper", '/bin/bash -c "sleep 60"')
    running = task_state("sleeper", "running")
    target = running.node_info.node_id
    # "running" is set when the node is handed the task; wait until its process has its output files.
    wait_for("the sleeper's stdout.txt", lambda: any(n.endswith("/sleeper/stdout.txt") for n in node_file_names(target)) or None)
    before = node(target).last_boot_time
    batch.compute_node.reboot(POOL_ID, target, batchmodels.ComputeNodeRebootOption.terminate)
    task = task_state("sleeper", "completed")
    ensure(task.execution_info.failure_info is not None and task.execution_info.failure_info.code == "TaskEnded", task.execution_info)
    after = node_state(target, "idle")
    ensure(after.last_boot_time is not None and (before is None or after.last_boot_time > before), (before, after.last_boot_time))
    names = node_file_names(target)  # a reboot keeps the node's files
    ensure(any(n.endswith("/sleeper/stdout.txt") for n in names), "the task's stdout is still on the node: %s" % sorted(names))


def reimage(paths):
    batch.compute_node.reimage(POOL_ID, nodes["write"], batchmodels.ComputeNodeReimageOption.requeue)
    node_state(nodes["write"], "idle")
    names = node_file_names(nodes["write"])
    ensure(paths[0] not in names, "the task's stdout is gone after a reimage: %s" % sorted(names))


def node_counts():
    def counts():
        found = list(batch.account.list_pool_node_counts(batchmodels.AccountListPoolNodeCountsOptions(filter="poolId eq '%s'" % POOL_ID)))
        return found if len(found) == 1 and found[0].dedicated.idle == 2 else None
    found = wait_for("both nodes idle in the node counts", counts)
    ensure(found[0].pool_id == POOL_ID and found[0].dedicated.total == 2 and found[0].low_priority.total == 0, found[0])
    everyone = [c.pool_id for c in batch.account.list_pool_node_counts()]
    ensure(POOL_ID in everyone, everyone)


def job_disable_terminate_and_wait():
    job_id = JOB_ID + "-disable"
    batch.job.add(batchmodels.JobAddParameter(id=job_id, pool_info=batchmodels.PoolInformation(pool_id=POOL_ID)))
    try:
        def state_of(task_id, *states):
            return wait_for("%s %s" % (task_id, "/".join(states)), lambda: (lambda t: t.state.value in states and t)(
                batch.task.get(job_id, task_id)))

        def job_in(*states):
            return wait_for("%s %s" % (job_id, "/".join(states)), lambda: batch.job.get(job_id).state.value in states)
        batch.task.add(job_id, batchmodels.TaskAddParameter(id="t1", command_line='/bin/bash -c "sleep 60"'))
        state_of("t1", "running")
        batch.job.disable(job_id, batchmodels.DisableJobOption.terminate)  # the running task ends
        job_in("disabled")
        task = state_of("t1", "completed")
        ensure(task.execution_info.failure_info.code == "TaskEnded", task.execution_info.failure_info)
        batch.job.enable(job_id)
        job_in("active")
        batch.task.add(job_id, batchmodels.TaskAddParameter(id="t2", command_line='/bin/bash -c "sleep 60"'))
        state_of("t2", "running")
        batch.job.disable(job_id, batchmodels.DisableJobOption.wait)  # disabling until the running task ends
        job_in("disabling")
        ensure(batch.task.get(job_id, "t2").state == batchmodels.TaskState.running, "t2 keeps running")
        batch.task.terminate(job_id, "t2")
        job_in("disabled")
    finally:
        batch.job.delete(job_id)


def task_delete():
    batch.task.delete(JOB_ID, "elsewhere")
    batch_error(lambda: batch.task.get(JOB_ID, "elsewhere"), "TaskNotFound", 404)


def cleanup():
    batch.job.delete(JOB_ID)
    batch.pool.delete(POOL_ID)
    blob_service.get_container_client(CONTAINER).delete_container()


check("setup: a pool of 2 nodes, a job with preparation and release tasks, tasks write and bad", setup)
check("task.list with $filter (state, executionInfo/exitCode, startswith, and)", task_filter)
check("job.get_task_counts: 1 succeeded, 1 failed", task_counts)
check("job.list_preparation_and_release_task_status", preparation_status)
check("task.list_subtasks of a task that is not multi-instance: empty", lambda: ensure(
    not batch.task.list_subtasks(JOB_ID, "write").value))
paths = check("file.list_from_compute_node recursive and $filter", node_files)
if paths:
    check("file.get_from_compute_node / get_properties_from_compute_node", lambda: node_file_get(paths))
    check("file.delete_from_compute_node, then FileNotFound", lambda: node_file_delete(paths))
check("file.get_from_compute_node outside the node: refused", node_file_outside)
check("compute_node.disable_scheduling requeue: offline, tasks go to the other node", disable_scheduling)
check("compute_node.enable_scheduling: idle", enable_scheduling)
check("compute_node.enable_scheduling again: NodeAlreadyInTargetSchedulingState (409)", lambda: batch_error(
    lambda: batch.compute_node.enable_scheduling(POOL_ID, nodes["other"]), "NodeAlreadyInTargetSchedulingState", 409))
check("compute_node.add_user", add_user)
check("compute_node.add_user again (other case): NodeUserExists (409)", lambda: batch_error(
    lambda: batch.compute_node.add_user(POOL_ID, nodes["write"], batchmodels.ComputeNodeUser(name="PYUSER", password="x-Y-1")),
    "NodeUserExists", 409))
check("compute_node.update_user", update_user)
check("compute_node.delete_user", lambda: batch.compute_node.delete_user(POOL_ID, nodes["write"], "pyuser"))
check("compute_node.delete_user again: NodeUserNotFound (404)", lambda: batch_error(
    lambda: batch.compute_node.delete_user(POOL_ID, nodes["write"], "pyuser"), "NodeUserNotFound", 404))
check("compute_node.get_remote_login_settings: 127.0.0.1:22", remote_login)
check("compute_node.get_remote_desktop of a virtual machine pool: OperationInvalidForCurrentState (409)", lambda: batch_error(
    lambda: b"".join(batch.compute_node.get_remote_desktop(POOL_ID, nodes["write"])), "OperationInvalidForCurrentState", 409))
check("compute_node_extension.list: empty", lambda: ensure(list(batch.compute_node_extension.list(POOL_ID, nodes["write"])) == []))
check("compute_node_extension.get: ResourceNotFound (404)", lambda: batch_error(
    lambda: batch.compute_node_extension.get(POOL_ID, nodes["write"], "no-such-extension"), "ResourceNotFound", 404))
check("compute_node.upload_batch_service_logs to a container SAS", upload_logs)
check("compute_node.upload_batch_service_logs with a read-only SAS: InvalidPropertyValue (400)", upload_logs_read_only)
check("compute_node.reboot terminate: the running task ends with TaskEnded, the node boots again, files kept", reboot_terminate)
if paths:
    check("compute_node.reimage: idle again, the node's files are gone", lambda: reimage(paths))
check("account.list_pool_node_counts with $filter poolId", node_counts)
check("job.disable terminate (the running task ends), enable, disable wait (disabling until it ends)", job_disable_terminate_and_wait)
check("task.delete", task_delete)
check("clean-up: job, pool, container", cleanup)
finish()
