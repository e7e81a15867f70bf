"""Pool and account operations through Python azure-batch: resize,
stop_resize, list with paging and $select, list_supported_images."""

import azure.batch.models as batchmodels

from common import batch_client, batch_error, check, ensure, finish, ubuntu_pool, unique, wait_for

batch = batch_client()
POOL_IDS = sorted(unique("py-pools") for _ in range(3))


def steady(pool_id):
    return wait_for("%s steady" % pool_id, lambda: batch.pool.get(pool_id).allocation_state == batchmodels.AllocationState.steady)


def resize():
    steady(POOL_IDS[0])
    batch.pool.resize(POOL_IDS[0], batchmodels.PoolResizeParameter(target_dedicated_nodes=2))
    pool = steady(POOL_IDS[0]) and batch.pool.get(POOL_IDS[0])
    assert pool.target_dedicated_nodes == 2 and pool.current_dedicated_nodes == 2, pool
    assert len(list(batch.compute_node.list(POOL_IDS[0]))) == 2


def stop_resize():
    steady(POOL_IDS[1])
    batch.pool.resize(POOL_IDS[1], batchmodels.PoolResizeParameter(target_dedicated_nodes=3))
    try:
        batch.pool.stop_resize(POOL_IDS[1])
    except batchmodels.BatchErrorException as error:  # the resize may already have finished
        assert error.error.code == "PoolNotResizing", error.error.code
    steady(POOL_IDS[1])


def list_paging_select():
    pages = batch.pool.list(pool_list_options=batchmodels.PoolListOptions(max_results=1, select="id,vmSize"))
    first = pages.advance_page()
    assert len(first) == 1 and pages.next_link, (first, pages.next_link)
    pages.reset()
    pools = [p for p in pages if p.id in POOL_IDS]
    assert [p.id for p in pools] == POOL_IDS, [p.id for p in pools]
    assert all(p.vm_size.lower() == "standard_ds1_v2" and p.state is None for p in pools), pools


def supported_images():
    images = list(batch.account.list_supported_images())
    assert any(i.node_agent_sku_id == "batch.node.ubuntu 20.04" and i.os_type == batchmodels.OSType.linux for i in images), images


for pool_id in POOL_IDS:
    check("pool.add %s" % pool_id, lambda: batch.pool.add(ubuntu_pool(pool_id, 1)))
check("pool.resize to 2: steady with 2 nodes", resize)
check("pool.stop_resize", stop_resize)
check("pool.stop_resize of a steady pool: PoolNotResizing (409)", lambda: steady(POOL_IDS[2]) and batch_error(
    lambda: batch.pool.stop_resize(POOL_IDS[2]), "PoolNotResizing", 409))
check("pool.list max_results=1 with $select", list_paging_select)
check("account.list_supported_images", supported_images)
for pool_id in POOL_IDS:
    check("pool.delete %s" % pool_id, lambda: batch.pool.delete(pool_id))
check("deleted pools are gone or deleting", lambda: ensure(all(
    p.state == batchmodels.PoolState.deleting for p in batch.pool.list() if p.id in POOL_IDS)))
finish()
