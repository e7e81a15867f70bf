#!/usr/bin/env bash
# az batch job-schedule against Lapis: create from a JSON file (no
# doNotRunUntil, so `<id>:job-1` is created at once), show, list (with
# --filter), job list --job-schedule-id, disable / enable, set (patch), stop
# (its job ends with TerminateJobSchedule), delete. The schedule's jobs need no
# nodes, so its pool is never created.
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh

SCHEDULE="$(unique az-sched)"
schedule_state() { azb job-schedule show --job-schedule-id "$SCHEDULE" --query state -o tsv; }

step "az batch job-schedule create --json-file (hourly, priority 7)"
cat > "$WORK/schedule.json" <<JSON
{
  "id": "$SCHEDULE",
  "schedule": {"recurrenceInterval": "PT1H"},
  "jobSpecification": {"poolInfo": {"poolId": "$(unique az-sched-pool)"}, "priority": 7},
  "metadata": [{"name": "owner", "value": "az"}]
}
JSON
azb job-schedule create --json-file "$WORK/schedule.json" -o none
pass

step "az batch job-schedule show: active, the JSON file's properties, its first job at once"
shown() { azb job-schedule show --job-schedule-id "$SCHEDULE" --query "[state, jobSpecification.priority, metadata[0].value, executionInfo.recentJob.id]" -o tsv | tr '\t\n' '  '; }
wait_for "active 7 az $SCHEDULE:job-1 " shown
pass

step "az batch job-schedule list --filter"
expect_eq "$(azb job-schedule list --filter "id eq '$SCHEDULE'" --query "[].id" -o tsv)" "$SCHEDULE"
pass

step "az batch job list --job-schedule-id: the schedule's job, with its job specification"
expect_eq "$(azb job list --job-schedule-id "$SCHEDULE" --query "[].[id, priority]" -o tsv | tr '\t\n' '  ')" "$SCHEDULE:job-1 7 "
pass

step "az batch job-schedule disable"
azb job-schedule disable --job-schedule-id "$SCHEDULE" -o none
expect_eq "$(schedule_state)" "disabled"
pass

step "az batch job-schedule enable, then set (JobSchedule_Patch merges)"
azb job-schedule enable --job-schedule-id "$SCHEDULE" -o none
azb job-schedule set --job-schedule-id "$SCHEDULE" --metadata owner=patched -o none
expect_eq "$(azb job-schedule show --job-schedule-id "$SCHEDULE" --query "[state, metadata[0].value, jobSpecification.priority, schedule.recurrenceInterval]" -o tsv | tr '\t\n' '  ')" \
  "active patched 7 1:00:00 "
pass

step "az batch job-schedule stop: completed, its job ends with TerminateJobSchedule"
azb job-schedule stop --job-schedule-id "$SCHEDULE" -o none
wait_for completed schedule_state
expect_eq "$(azb job show --job-id "$SCHEDULE:job-1" --query "[state, executionInfo.terminateReason]" -o tsv | tr '\t\n' '  ')" \
  "completed TerminateJobSchedule "
pass

step "az batch job-schedule delete: gone"
azb job-schedule delete --job-schedule-id "$SCHEDULE" --yes -o none
schedule_gone() { azb job-schedule show --job-schedule-id "$SCHEDULE" --query state -o tsv 2>/dev/null || echo gone; }
wait_for gone schedule_gone
SCHEDULE=""
pass

echo "all az batch job-schedule checks passed"
