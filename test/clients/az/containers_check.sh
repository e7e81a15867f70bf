#!/usr/bin/env bash
# az batch runs a container workload: a pool whose containerConfiguration
# names the locally built CONTAINER_IMAGE and a task with containerSettings
# (its run options' --env X=1), both from JSON files (REST bodies); the task's
# stdout is read with `az batch task file download`. Without CONTAINER_IMAGE
# (no engine or no test image here) the script says SKIP and why.
set -euo pipefail
cd "$(dirname "$0")"
if [ -z "${CONTAINER_IMAGE:-}" ]; then
  echo "SKIP container pool and task: CONTAINER_IMAGE is not set (no container engine or test image here; scripts/build-test-node-image.sh)"
  exit 0
fi
source ./lib.sh

POOL="$(unique az-container-pool)" JOB="$(unique az-container-job)"

step "az batch pool create --json-file (containerConfiguration with containerImageNames)"
cat > "$WORK/pool.json" <<JSON
{
  "id": "$POOL",
  "vmSize": "STANDARD_DS1_V2",
  "virtualMachineConfiguration": {
    "imageReference": {"publisher": "microsoft-azure-batch", "offer": "ubuntu-server-container", "sku": "20-04-lts", "version": "latest"},
    "nodeAgentSKUId": "batch.node.ubuntu 20.04",
    "containerConfiguration": {"type": "dockerCompatible", "containerImageNames": ["$CONTAINER_IMAGE"]}
  },
  "targetDedicatedNodes": 1
}
JSON
azb pool create --json-file "$WORK/pool.json" -o none
expect_eq "$(azb pool show --pool-id "$POOL" --query "virtualMachineConfiguration.containerConfiguration.containerImageNames[0]" -o tsv)" "$CONTAINER_IMAGE"
pass

step "the pool's node becomes idle (its image checked)"
node_states() { azb node list --pool-id "$POOL" --query "[].state" -o tsv | tr '\n' ' '; }
wait_for "idle " node_states
pass

step "az batch job create / task create --json-file (containerSettings, --env X=1)"
azb job create --id "$JOB" --pool-id "$POOL" -o none
# pid 1 is the command line's shell in a container; the host's Python is not in the image.
cat > "$WORK/task.json" <<JSON
{
  "id": "boxed",
  "commandLine": "/bin/bash -c \"echo \$AZ_BATCH_TASK_ID x=\$X pid1=\$(cat /proc/1/comm); test -e /usr/bin/python3 && echo host || echo image\"",
  "containerSettings": {"imageName": "$CONTAINER_IMAGE", "containerRunOptions": "--rm --env X=1"}
}
JSON
azb task create --job-id "$JOB" --json-file "$WORK/task.json" -o none
expect_eq "$(azb task show --job-id "$JOB" --task-id boxed --query "containerSettings.containerRunOptions" -o tsv)" "--rm --env X=1"
pass

step "the task completes with exit code 0"
task_state() { azb task show --job-id "$JOB" --task-id boxed --query state -o tsv; }
wait_for completed task_state
expect_eq "$(azb task show --job-id "$JOB" --task-id boxed --query "[executionInfo.result, executionInfo.exitCode]" -o tsv | tr '\t\n' '  ')" "success 0 "
pass

step "az batch task file download: the task ran in the image and saw X=1"
azb task file download --job-id "$JOB" --task-id boxed --file-path stdout.txt --destination "$WORK/stdout.txt" -o none
expect_eq "$(cat "$WORK/stdout.txt")" "boxed x=1 pid1=bash
image"
pass

step "az batch job delete / pool delete"
azb job delete --job-id "$JOB" --yes -o none
azb pool delete --pool-id "$POOL" --yes -o none
POOL="" JOB=""
pass

echo "all az batch container checks passed"
