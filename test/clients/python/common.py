"""Shared helpers for the checks that judge Lapis with Python azure-batch.

Endpoints and keys come from BATCH_URL, BATCH_ACCOUNT, BATCH_KEY, BLOB_URL,
STORAGE_ACCOUNT and STORAGE_KEY. Each check prints one line: PASS, FAIL or
SKIP (with the reason); finish() exits 1 if any check failed.
"""

import os
import sys
import time
import traceback
import uuid

from azure.batch import BatchServiceClient
from azure.batch.batch_auth import SharedKeyCredentials
import azure.batch.models as batchmodels

ENV = {name: os.environ.get(name, "") for name in
       ("BATCH_URL", "BATCH_ACCOUNT", "BATCH_KEY", "BLOB_URL", "STORAGE_ACCOUNT", "STORAGE_KEY")}
_missing = [name for name, value in ENV.items() if not value]
if _missing:
    sys.exit("Set " + ", ".join(_missing))

_failures = []


def batch_client():
    return BatchServiceClient(SharedKeyCredentials(ENV["BATCH_ACCOUNT"], ENV["BATCH_KEY"]), batch_url=ENV["BATCH_URL"])


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def check(name, fn):
    """Runs fn(); an exception or AssertionError is a failure. Returns fn's value (None on failure)."""
    try:
        value = fn()
    except Exception as error:  # noqa: BLE001 - every failure is reported, then the script goes on
        _failures.append(name)
        print("FAIL %s: %s: %s" % (name, type(error).__name__, error), flush=True)
        traceback.print_exc(limit=3)
        return None
    print("PASS %s" % name, flush=True)
    return value


def skip(name, reason):
    """A check that cannot pass yet because Lapis is wrong: printed, not failed."""
    print("SKIP %s: %s" % (name, reason), flush=True)


def ensure(condition, message="condition not met"):
    """assert as an expression, for one-line checks."""
    if not condition:
        raise AssertionError(message)
    return condition


def batch_error(fn, code, status=None):
    """Asserts that fn() raises BatchErrorException with error.code == code (and the HTTP status)."""
    try:
        fn()
    except batchmodels.BatchErrorException as error:
        assert error.error.code == code, "expected %s, got %s: %s" % (code, error.error.code, error.error.message)
        if status is not None:
            assert error.response.status_code == status, "expected HTTP %s, got %s" % (status, error.response.status_code)
        return error
    raise AssertionError("expected BatchErrorException %s, got no error" % code)


def wait_for(what, fn, timeout=60.0):
    """Polls fn() until it returns something truthy."""
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def wait_tasks_completed(batch, job_id, timeout=60.0):
    return wait_for("the tasks of %s to complete" % job_id,
                    lambda: all(t.state == batchmodels.TaskState.completed for t in batch.task.list(job_id)) or None,
                    timeout)


def read_task_file(batch, job_id, task_id, path):
    return b"".join(batch.file.get_from_task(job_id, task_id, path)).decode("utf-8")


def ubuntu_pool(pool_id, nodes):
    """The quickstart's pool: Ubuntu 20.04 image reference, STANDARD_DS1_V2."""
    return batchmodels.PoolAddParameter(
        id=pool_id,
        virtual_machine_configuration=batchmodels.VirtualMachineConfiguration(
            image_reference=batchmodels.ImageReference(
                publisher="canonical", offer="0001-com-ubuntu-server-focal", sku="20_04-lts", version="latest"),
            node_agent_sku_id="batch.node.ubuntu 20.04"),
        vm_size="STANDARD_DS1_V2",
        target_dedicated_nodes=nodes)


def finish():
    if _failures:
        print("%d check(s) failed: %s" % (len(_failures), ", ".join(_failures)), flush=True)
        sys.exit(1)
    print("all checks passed", flush=True)
