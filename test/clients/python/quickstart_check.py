"""The Azure Batch Python quickstart against Lapis, checked step by step:
three files uploaded to container `input`, read-only SAS URLs, a pool of two
nodes, a job, three `cat` tasks added with add_collection, their stdout read
back with file.get_from_task, then the job, pool and container deleted."""

import datetime

import azure.batch.models as batchmodels
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, generate_blob_sas

from common import ENV, batch_client, check, ensure, finish, read_task_file, ubuntu_pool, unique, wait_tasks_completed

CONTAINER = "input"
FILES = {
    "taskdata0.txt": "The first input file, read by Python azure-batch.\n",
    "taskdata1.txt": "The second input file, read by Python azure-batch.\n",
    "taskdata2.txt": "The third input file, read by Python azure-batch.\n",
}
POOL_ID = unique("PythonQuickstartPool")
JOB_ID = unique("PythonQuickstartJob")

blob_service = BlobServiceClient(ENV["BLOB_URL"], credential={"account_name": ENV["STORAGE_ACCOUNT"], "account_key": ENV["STORAGE_KEY"]})
container = blob_service.get_container_client(CONTAINER)
batch = batch_client()


def upload_files():
    if not container.exists():
        container.create_container()
    resource_files = []
    for name, text in FILES.items():
        blob = container.get_blob_client(name)
        blob.upload_blob(text.encode("utf-8"), overwrite=True)
        sas = generate_blob_sas(ENV["STORAGE_ACCOUNT"], CONTAINER, name, account_key=ENV["STORAGE_KEY"],
                                permission=BlobSasPermissions(read=True),
                                expiry=datetime.datetime.utcnow() + datetime.timedelta(hours=2))
        resource_files.append(batchmodels.ResourceFile(http_url="%s?%s" % (blob.url, sas), file_path=name))
    return resource_files


def add_tasks(resource_files):
    tasks = [batchmodels.TaskAddParameter(id="Task%d" % i, command_line='/bin/bash -c "cat %s"' % f.file_path,
                                          resource_files=[f]) for i, f in enumerate(resource_files)]
    result = batch.task.add_collection(JOB_ID, tasks)
    assert sorted(r.task_id for r in result.value) == ["Task0", "Task1", "Task2"], result.value
    assert all(r.status == batchmodels.TaskAddStatus.success for r in result.value), [r.status for r in result.value]


def task_outputs():
    for task in batch.task.list(JOB_ID):
        assert task.execution_info.result == batchmodels.TaskExecutionResult.success, (task.id, task.execution_info)
        assert task.execution_info.exit_code == 0, (task.id, task.execution_info.exit_code)
        assert task.node_info and task.node_info.node_id, task.id
        output = read_task_file(batch, JOB_ID, task.id, "stdout.txt")
        expected = FILES[task.resource_files[0].file_path]
        assert output == expected, "%s printed %r, expected %r" % (task.id, output, expected)
        print("  %s on %s: %s" % (task.id, task.node_info.node_id, output.strip()))


resource_files = check("upload 3 files to container 'input' with SAS URLs", upload_files)
check("pool.add (2 nodes, Ubuntu 20.04 image reference)", lambda: batch.pool.add(ubuntu_pool(POOL_ID, 2)))
check("job.add", lambda: batch.job.add(batchmodels.JobAddParameter(id=JOB_ID, pool_info=batchmodels.PoolInformation(pool_id=POOL_ID))))
if resource_files:
    check("task.add_collection of 3 tasks", lambda: add_tasks(resource_files))
    check("all tasks reach 'completed'", lambda: wait_tasks_completed(batch, JOB_ID))
    check("each task succeeded and printed its file (file.get_from_task)", task_outputs)
check("pool has 2 nodes", lambda: ensure(len(list(batch.compute_node.list(POOL_ID))) == 2))
check("job.delete", lambda: batch.job.delete(JOB_ID))
check("pool.delete", lambda: batch.pool.delete(POOL_ID))
check("container delete", container.delete_container)
finish()
