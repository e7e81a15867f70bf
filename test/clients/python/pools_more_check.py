"""More pool and account operations through Python azure-batch: patch
(merges), update_properties (replaces, 204), list with $filter, get with
$expand=stats, remove_nodes, enable_auto_scale (PT5M, evaluated at once) with
its errors, evaluate_auto_scale (nothing changes), disable_auto_scale (targets
kept), list_usage_metrics, get_all_lifetime_statistics for pools and jobs, and
application.list."""

import datetime

import azure.batch.models as batchmodels

from common import batch_client, batch_error, check, ensure, finish, ubuntu_pool, unique, wait_for

batch = batch_client()
POOL_ID = unique("py-more-pool")
FIVE_MINUTES = datetime.timedelta(minutes=5)


def metadata(pool):
    return [(m.name, m.value) for m in pool.metadata or []]


def steady():
    return wait_for("%s steady" % POOL_ID, lambda: (lambda p: p.allocation_state == batchmodels.AllocationState.steady and p)(
        batch.pool.get(POOL_ID)))


def node_ids():
    return sorted(n.id for n in batch.compute_node.list(POOL_ID))


def add():
    pool = ubuntu_pool(POOL_ID, 2)
    pool.metadata = [batchmodels.MetadataItem(name="a", value="1")]
    pool.start_task = batchmodels.StartTask(command_line='/bin/bash -c "echo start"', wait_for_success=True)
    batch.pool.add(pool)
    wait_for("2 nodes", lambda: len(node_ids()) == 2)


def patch():
    batch.pool.patch(POOL_ID, batchmodels.PoolPatchParameter(metadata=[batchmodels.MetadataItem(name="b", value="2")]))
    pool = batch.pool.get(POOL_ID)
    ensure(metadata(pool) == [("b", "2")], metadata(pool))
    ensure(pool.start_task is not None and pool.start_task.command_line == '/bin/bash -c "echo start"', pool.start_task)
    batch.pool.patch(POOL_ID, batchmodels.PoolPatchParameter(start_task=batchmodels.StartTask(command_line='/bin/bash -c "echo patched"')))
    pool = batch.pool.get(POOL_ID)  # merges: the metadata stays
    ensure(pool.start_task.command_line == '/bin/bash -c "echo patched"' and metadata(pool) == [("b", "2")], pool)


def update_properties():
    response = batch.pool.update_properties(POOL_ID, batchmodels.PoolUpdatePropertiesParameter(
        certificate_references=[], application_package_references=[], metadata=[batchmodels.MetadataItem(name="c", value="3")]),
        raw=True).response
    ensure(response.status_code == 204, "HTTP %s" % response.status_code)
    pool = batch.pool.get(POOL_ID)  # replaces: the omitted start task is removed
    ensure(pool.start_task is None and metadata(pool) == [("c", "3")], (pool.start_task, metadata(pool)))


def list_filter():
    found = [p.id for p in batch.pool.list(batchmodels.PoolListOptions(filter="id eq '%s' and state eq 'active'" % POOL_ID))]
    ensure(found == [POOL_ID], found)
    ensure(list(batch.pool.list(batchmodels.PoolListOptions(filter="id eq '%s' and state eq 'deleting'" % POOL_ID))) == [], "no deleting pool")


def get_stats():
    pool = batch.pool.get(POOL_ID, batchmodels.PoolGetOptions(expand="stats"))
    ensure(pool.stats is not None and pool.stats.usage_stats is not None, pool.stats)


def remove_nodes():
    steady()
    removed = node_ids()[0]
    batch.pool.remove_nodes(POOL_ID, batchmodels.NodeRemoveParameter(
        node_list=[removed], node_deallocation_option=batchmodels.ComputeNodeDeallocationOption.requeue))
    pool = steady()
    ensure(pool.target_dedicated_nodes == 1, pool.target_dedicated_nodes)
    wait_for("the node to leave", lambda: len(node_ids()) == 1 and removed not in node_ids())


def enable_auto_scale():
    steady()
    batch.pool.enable_auto_scale(POOL_ID, auto_scale_formula="$TargetDedicatedNodes = 2;", auto_scale_evaluation_interval=FIVE_MINUTES)
    pool = batch.pool.get(POOL_ID)
    ensure(pool.enable_auto_scale is True and pool.auto_scale_formula == "$TargetDedicatedNodes = 2;", pool)
    ensure(pool.auto_scale_evaluation_interval == FIVE_MINUTES, pool.auto_scale_evaluation_interval)
    run = pool.auto_scale_run  # evaluated at once
    ensure(run is not None and run.error is None and "$TargetDedicatedNodes=2" in run.results.replace(" ", ""), run)
    ensure(pool.target_dedicated_nodes == 2, pool.target_dedicated_nodes)
    steady()
    wait_for("2 nodes again", lambda: len(node_ids()) == 2)


def evaluate_auto_scale():
    run = batch.pool.evaluate_auto_scale(POOL_ID, "$TargetDedicatedNodes = 1;")
    ensure(run.error is None and "$TargetDedicatedNodes=1" in run.results.replace(" ", ""), run)
    pool = batch.pool.get(POOL_ID)  # nothing changes
    ensure(pool.target_dedicated_nodes == 2 and pool.auto_scale_formula == "$TargetDedicatedNodes = 2;", pool)


def disable_auto_scale():
    batch.pool.disable_auto_scale(POOL_ID)
    pool = batch.pool.get(POOL_ID)
    ensure(pool.enable_auto_scale is False and pool.auto_scale_formula is None, pool)
    ensure(pool.target_dedicated_nodes == 2, pool.target_dedicated_nodes)


def status_of(fn):
    """The HTTP status of a BatchErrorException fn() raises."""
    try:
        fn()
    except batchmodels.BatchErrorException as error:
        return error.response.status_code
    raise AssertionError("expected an error, got none")


def usage_metrics():
    end = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    metrics = list(batch.pool.list_usage_metrics(batchmodels.PoolListUsageMetricsOptions(
        start_time=end - datetime.timedelta(hours=3), end_time=end)))
    ensure(all(m.pool_id and m.vm_size and m.total_core_hours >= 0 for m in metrics), metrics)


def lifetime_statistics():
    pools = batch.pool.get_all_lifetime_statistics()
    ensure(pools.usage_stats is not None and pools.usage_stats.dedicated_core_time >= datetime.timedelta(0), pools)
    jobs = batch.job.get_all_lifetime_statistics()
    ensure(jobs.num_succeeded_tasks >= 0 and jobs.num_failed_tasks >= 0 and jobs.wall_clock_time is not None, jobs)


check("pool.add (2 nodes, metadata, start task)", add)
check("pool.patch merges metadata and start task", patch)
check("pool.update_properties replaces (204)", update_properties)
check("pool.list with $filter", list_filter)
check("pool.get with $expand=stats", get_stats)
check("pool.remove_nodes: one node leaves, target 1", remove_nodes)
check("pool.remove_nodes of a missing node: NodeNotFound (404)", lambda: steady() and batch_error(
    lambda: batch.pool.remove_nodes(POOL_ID, batchmodels.NodeRemoveParameter(node_list=["no-such-node"])), "NodeNotFound", 404))
check("pool.evaluate_auto_scale before autoscale is enabled: 409", lambda: ensure(
    status_of(lambda: batch.pool.evaluate_auto_scale(POOL_ID, "$TargetDedicatedNodes = 1;")) == 409))
check("pool.enable_auto_scale with PT1M: InvalidPropertyValue (400)", lambda: batch_error(
    lambda: batch.pool.enable_auto_scale(POOL_ID, auto_scale_formula="$TargetDedicatedNodes = 1;",
                                         auto_scale_evaluation_interval=datetime.timedelta(minutes=1)), "InvalidPropertyValue", 400))
check("pool.enable_auto_scale with a bad formula: AutoScalingFormulaSyntaxError (400)", lambda: batch_error(
    lambda: batch.pool.enable_auto_scale(POOL_ID, auto_scale_formula="$TargetDedicatedNodes = ;",
                                         auto_scale_evaluation_interval=FIVE_MINUTES), "AutoScalingFormulaSyntaxError", 400))
check("pool.enable_auto_scale PT5M: evaluated at once, the pool grows to 2", enable_auto_scale)
check("pool.resize while autoscale is enabled: 409", lambda: ensure(status_of(
    lambda: batch.pool.resize(POOL_ID, batchmodels.PoolResizeParameter(target_dedicated_nodes=1))) == 409))
check("pool.evaluate_auto_scale: the results, nothing changes", evaluate_auto_scale)
check("pool.disable_auto_scale: targets kept", disable_auto_scale)
check("pool.list_usage_metrics", usage_metrics)
check("pool.get_all_lifetime_statistics and job.get_all_lifetime_statistics", lifetime_statistics)
check("application.list", lambda: ensure(isinstance(list(batch.application.list()), list)))
check("pool.delete", lambda: batch.pool.delete(POOL_ID))
finish()
