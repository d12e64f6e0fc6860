#!/usr/bin/env bash
# The expert sync's model-based campaign, run by hand (CI runs one 300-step
# run as ExpertModelTest): RUNS runs of STEPS steps, each with its own seed,
# each printing its verdict line; a one-line verdict at the end.
# Usage: tests/expert/model_campaign.sh [RUNS=20] [STEPS=1000] [BUILD=build]
set -uo pipefail
RUNS="${1:-20}" STEPS="${2:-1000}" BUILD="${3:-build}"
BIN="$BUILD/tests/expert_model_test"
[[ -x "$BIN" ]] || { echo "no $BIN: build first (scripts/build.sh)" >&2; exit 2; }
failed=0 start=$(date +%s) lines=()
for run in $(seq 1 "$RUNS"); do
  seed=$(( (start + run * 7919) % 2147483647 ))
  out=$(DUURZAAM_MODEL_SEED=$seed DUURZAAM_MODEL_STEPS=$STEPS timeout 1800 "$BIN" 2>&1)
  line=$(grep -m1 "^model: \(PASS\|FAIL\)" <<<"$out")
  if [[ $? -ne 0 || "$line" == *FAIL* ]] || ! grep -q "\[  PASSED  \] 1 test" <<<"$out"; then
    failed=$((failed + 1))
    echo "run $run (seed $seed) FAILED:"; grep -A4 "Failure" <<<"$out" | head -40
  fi
  echo "run $run/$RUNS: ${line:-no verdict}"
  lines+=("$line")
done
total() { printf '%s\n' "${lines[@]}" | sed -n "s/.* \([0-9]*\) $1.*/\1/p" | awk '{ n += $1 } END { print n + 0 }'; }
echo "model campaign: $([[ $failed == 0 ]] && echo PASS || echo FAIL): $RUNS runs x $STEPS steps," \
  "$failed failed; $(total "intents saved") intents, $(total "syncs") syncs," \
  "$(total "app kills") app kills, $(total "server kills") server kills," \
  "$(total "cut connections") cut connections, $(total "team changes") team changes;" \
  "$(( $(date +%s) - start )) s"
[[ $failed == 0 ]]
