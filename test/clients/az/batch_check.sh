#!/usr/bin/env bash
# az batch against Lapis, the flow issue 3 asks for: a pool, a job and tasks
# created from JSON files (REST bodies), waiting for the tasks, a task's stdout
# downloaded with `az batch task file download`, nodes listed, then clean-up.
# (Pool and job creation from flags is in job_task_ops_check.sh and errors_check.sh.)
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh

POOL="$(unique az-pool)" JOB="$(unique az-job)"

step "az batch pool create --json-file (2 nodes, Ubuntu 20.04 image, metadata)"
cat > "$WORK/pool.json" <<JSON
{
  "id": "$POOL",
  "vmSize": "STANDARD_DS1_V2",
  "virtualMachineConfiguration": {
    "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-focal", "sku": "20_04-lts", "version": "latest"},
    "nodeAgentSKUId": "batch.node.ubuntu 20.04"
  },
  "targetDedicatedNodes": 2,
  "metadata": [{"name": "created-by", "value": "az-json-file"}]
}
JSON
azb pool create --json-file "$WORK/pool.json" -o none
pass

step "az batch pool show: the JSON file's properties"
expect_eq "$(azb pool show --pool-id "$POOL" --query "[id, vmSize, targetDedicatedNodes, virtualMachineConfiguration.imageReference.offer, metadata[0].value]" -o tsv | tr '\t\n' '  ')" \
  "$POOL standard_ds1_v2 2 0001-com-ubuntu-server-focal az-json-file "
pass

step "az batch pool list"
expect_contains "$(azb pool list --query "[].id" -o tsv)" "$POOL"
pass

step "az batch pool list with the AZURE_BATCH_* environment instead of flags"
expect_contains "$(AZURE_BATCH_ACCOUNT="$BATCH_ACCOUNT" AZURE_BATCH_ACCESS_KEY="$BATCH_KEY" AZURE_BATCH_ENDPOINT="$BATCH_URL" \
  az batch pool list --query "[].id" -o tsv)" "$POOL"
pass

step "az batch job create --json-file (priority, common environment) / show / list"
cat > "$WORK/job.json" <<JSON
{
  "id": "$JOB",
  "poolInfo": {"poolId": "$POOL"},
  "priority": 10,
  "commonEnvironmentSettings": [{"name": "GREETING", "value": "hello from az"}]
}
JSON
azb job create --json-file "$WORK/job.json" -o none
expect_eq "$(azb job show --job-id "$JOB" --query "[state, poolInfo.poolId, priority, commonEnvironmentSettings[0].name]" -o tsv | tr '\t\n' '  ')" \
  "active $POOL 10 GREETING "
expect_contains "$(azb job list --query "[].id" -o tsv)" "$JOB"
pass

step "az batch task create --json-file (one task, printing the job's GREETING)"
cat > "$WORK/task.json" <<'JSON'
{"id": "hello", "commandLine": "/bin/bash -c \"echo $GREETING; mkdir -p out; echo x > out/f.txt\""}
JSON
azb task create --job-id "$JOB" --json-file "$WORK/task.json" -o none
pass

step "az batch task create --json-file (a collection of 3 tasks)"
cat > "$WORK/tasks.json" <<'JSON'
[
  {"id": "Task0", "commandLine": "/bin/bash -c \"echo task 0\""},
  {"id": "Task1", "commandLine": "/bin/bash -c \"echo task 1\""},
  {"id": "Task2", "commandLine": "/bin/bash -c \"echo task 2\""}
]
JSON
expect_eq "$(azb task create --job-id "$JOB" --json-file "$WORK/tasks.json" --query "sort_by(@, &taskId)[].[taskId, status]" -o tsv | tr '\t\n' '  ')" \
  "Task0 success Task1 success Task2 success "
pass

step "az batch task list: all four complete"
task_states() { azb task list --job-id "$JOB" --query "[].state" -o tsv | tr '\n' ' '; }
wait_for "completed completed completed completed " task_states
expect_eq "$(azb task list --job-id "$JOB" --query "sort_by(@, &id)[].[id, executionInfo.exitCode]" -o tsv | tr '\t\n' '  ')" \
  "Task0 0 Task1 0 Task2 0 hello 0 "
pass

step "az batch task show"
expect_eq "$(azb task show --job-id "$JOB" --task-id hello --query "[state, executionInfo.result]" -o tsv | tr '\t\n' '  ')" "completed success "
NODE="$(azb task show --job-id "$JOB" --task-id hello --query "nodeInfo.nodeId" -o tsv)"
pass

step "az batch task file list"
FILES="$(azb task file list --job-id "$JOB" --task-id hello --recursive true --query "[?isDirectory==\`false\`].name" -o tsv)"
expect_contains "$FILES" "stdout.txt"
expect_contains "$FILES" "out/f.txt"
pass

step "az batch task file download"
azb task file download --job-id "$JOB" --task-id hello --file-path stdout.txt --destination "$WORK/stdout.txt" -o none
expect_eq "$(cat "$WORK/stdout.txt")" "hello from az"
pass

step "az batch node list"
expect_eq "$(azb node list --pool-id "$POOL" --query "length(@)" -o tsv)" "2"
expect_contains "$(azb node list --pool-id "$POOL" --query "[].id" -o tsv)" "$NODE"
pass

step "az batch job delete / pool delete"
azb job delete --job-id "$JOB" --yes -o none
azb pool delete --pool-id "$POOL" --yes -o none
job_gone() { azb job show --job-id "$JOB" --query state -o tsv 2>/dev/null || echo gone; }
wait_for gone job_gone
POOL="" JOB=""
pass

echo "all az batch checks passed"
