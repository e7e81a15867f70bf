#!/usr/bin/env bash
# az batch job and task operations against Lapis: job set (patch), job reset
# (update), job task-counts show, job stop, task reset (update), task stop
# (terminate), task reactivate, node show, a ranged file download.
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh

POOL="$(unique az-ops-pool)" JOB="$(unique az-ops-job)"
task_state() { azb task show --job-id "$JOB" --task-id "$1" --query state -o tsv; }

step "setup: a pool of 2 nodes and a job"
azb pool create --id "$POOL" --vm-size STANDARD_DS1_V2 --target-dedicated-nodes 2 \
  --image canonical:0001-com-ubuntu-server-focal:20_04-lts --node-agent-sku-id "batch.node.ubuntu 20.04" -o none
azb job create --id "$JOB" --pool-id "$POOL" -o none
pass

step "az batch job set (Job_Patch merges)"
azb job set --job-id "$JOB" --priority 100 --metadata owner=az -o none
azb job set --job-id "$JOB" --job-max-task-retry-count 2 -o none
expect_eq "$(azb job show --job-id "$JOB" --query "[priority, metadata[0].value, constraints.maxTaskRetryCount]" -o tsv | tr '\t\n' '  ')" "100 az 2 "
pass

step "az batch job reset (Job_Update replaces)"
azb job reset --job-id "$JOB" --pool-id "$POOL" --priority 5 -o none
expect_eq "$(azb job show --job-id "$JOB" --query "[priority, length(metadata || \`[]\`), constraints.maxTaskRetryCount]" -o tsv | tr '\t\n' '  ')" "5 0 0 "
pass

step "az batch job enable of an active job: not disabled (409)"
# az batch job disable is unusable in az 2.45 (--disable-tasks has no allowed values: Azure/azure-cli#26547).
expect_error "The specified job is not disabled." azb job enable --job-id "$JOB"
pass

step "tasks: one that exits 3, one that sleeps"
azb task create --job-id "$JOB" --task-id fail --command-line '/bin/bash -c "echo partial output; exit 3"' -o none
azb task create --job-id "$JOB" --task-id sleep --command-line '/bin/bash -c "sleep 60"' -o none
wait_for completed task_state fail
wait_for running task_state sleep
pass

step "az batch job task-counts show"
expect_eq "$(azb job task-counts show --job-id "$JOB" --query "[taskCounts.running, taskCounts.completed, taskCounts.failed, taskSlotCounts.running]" -o tsv | tr '\t\n' '  ')" "1 1 1 1 "
pass

step "az batch task reset (Task_Update)"
azb task reset --job-id "$JOB" --task-id sleep --max-task-retry-count 4 -o none
expect_eq "$(azb task show --job-id "$JOB" --task-id sleep --query constraints.maxTaskRetryCount -o tsv)" "4"
pass

step "az batch task stop (Task_Terminate): TaskEnded"
azb task stop --job-id "$JOB" --task-id sleep -o none
wait_for completed task_state sleep
expect_eq "$(azb task show --job-id "$JOB" --task-id sleep --query executionInfo.failureInfo.code -o tsv)" "TaskEnded"
pass

step "az batch task reactivate: the failed task runs again"
azb task reactivate --job-id "$JOB" --task-id fail -o none
wait_for completed task_state fail
expect_eq "$(azb task show --job-id "$JOB" --task-id fail --query executionInfo.exitCode -o tsv)" "3"
pass

step "az batch task file download --start-range/--end-range"
azb task file download --job-id "$JOB" --task-id fail --file-path stdout.txt --destination "$WORK/part.txt" --start-range 0 --end-range 6 -o none
expect_eq "$(cat "$WORK/part.txt")" "partial"
pass

step "az batch node show"
NODE="$(azb task show --job-id "$JOB" --task-id fail --query nodeInfo.nodeId -o tsv)"
expect_eq "$(azb node show --pool-id "$POOL" --node-id "$NODE" --query "[id, ipAddress, schedulingState]" -o tsv | tr '\t\n' '  ')" "$NODE 127.0.0.1 enabled "
pass

step "az batch job stop (Job_Terminate): UserTerminate"
azb job stop --job-id "$JOB" -o none
job_state() { azb job show --job-id "$JOB" --query state -o tsv; }
wait_for completed job_state
expect_eq "$(azb job show --job-id "$JOB" --query executionInfo.terminateReason -o tsv)" "UserTerminate"
pass

step "clean-up"
azb job delete --job-id "$JOB" --yes -o none
azb pool delete --pool-id "$POOL" --yes -o none
POOL="" JOB=""
pass

echo "all az batch job/task operation checks passed"
