#!/usr/bin/env bash
# az batch error answers against Lapis: az exits non-zero and prints Batch's
# error message (the code is not printed by az 2.45, only the message).
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh

POOL="$(unique az-err-pool)" JOB="$(unique az-err-job)"

step "a wrong key: AuthenticationFailed"
expect_error "Server failed to authenticate the request" \
  az batch pool list --account-name "$BATCH_ACCOUNT" --account-key d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk= --account-endpoint "$BATCH_URL"
pass

step "pool show of a missing pool: PoolNotFound"
expect_error "The specified pool does not exist." azb pool show --pool-id "$POOL"
pass

step "job show of a missing job: JobNotFound"
expect_error "The specified job does not exist." azb job show --job-id "$JOB"
pass

step "pool create twice: PoolExists"
azb pool create --id "$POOL" --vm-size STANDARD_DS1_V2 --target-dedicated-nodes 1 \
  --image canonical:0001-com-ubuntu-server-focal:20_04-lts --node-agent-sku-id "batch.node.ubuntu 20.04" -o none
expect_error "The specified pool already exists." azb pool create --id "$POOL" --vm-size STANDARD_DS1_V2 --target-dedicated-nodes 1 \
  --image canonical:0001-com-ubuntu-server-focal:20_04-lts --node-agent-sku-id "batch.node.ubuntu 20.04"
pass

step "job create twice: JobExists"
azb job create --id "$JOB" --pool-id "$POOL" -o none
expect_error "The specified job already exists." azb job create --id "$JOB" --pool-id "$POOL"
pass

step "task show of a missing task: TaskNotFound"
expect_error "The specified task does not exist." azb task show --job-id "$JOB" --task-id missing
pass

step "task create twice: TaskExists"
azb task create --job-id "$JOB" --task-id t1 --command-line "/bin/true" -o none
expect_error "The specified task already exists." azb task create --job-id "$JOB" --task-id t1 --command-line "/bin/true"
pass

step "task create --json-file with an existing id: a clienterror TaskExists result"
echo '[{"id": "t1", "commandLine": "/bin/true"}, {"id": "t2", "commandLine": "/bin/true"}]' > "$WORK/tasks.json"
expect_eq "$(azb task create --job-id "$JOB" --json-file "$WORK/tasks.json" --query "sort_by(@, &taskId)[].[taskId, status, error.code]" -o tsv | tr '\t\n' '  ')" \
  "t1 clienterror TaskExists t2 success None "
pass

step "task file download of a missing file: FileNotFound"
task_state() { azb task show --job-id "$JOB" --task-id t1 --query state -o tsv; }
wait_for completed task_state
expect_error "The specified file does not exist." \
  azb task file download --job-id "$JOB" --task-id t1 --file-path missing.txt --destination "$WORK/missing.txt"
pass

step "clean-up"
azb job delete --job-id "$JOB" --yes -o none
azb pool delete --pool-id "$POOL" --yes -o none
POOL="" JOB=""
pass

echo "all az batch error checks passed"
