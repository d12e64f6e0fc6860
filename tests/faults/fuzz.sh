#!/usr/bin/env bash
# The fuzzing campaign: every libFuzzer target (tests/fuzz) for SECONDS each
# on its corpus in tests/fuzz/corpus/<target>; new inputs that add coverage
# are merged back into that corpus (commit them). One line per target and a
# verdict line with the executions in all. Needs the ASan build of
# scripts/sanitize.sh (build-asan, which builds the targets).
#
#   bash tests/faults/fuzz.sh [SECONDS_PER_TARGET=600] [--smoke]
#
# --smoke (CI): the corpus is copied, nothing is merged back.
# Exit: 0 no crash, 1 a crash (the input is kept as crash-* in the work
# folder named), 2 usage.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECONDS_PER=${1:-600}
SMOKE=0
[[ "${2:-}" == "--smoke" || "${1:-}" == "--smoke" ]] && SMOKE=1
[[ "$SECONDS_PER" == "--smoke" ]] && SECONDS_PER=60
[[ "$SECONDS_PER" =~ ^[0-9]+$ ]] || { echo "usage: fuzz.sh [SECONDS_PER_TARGET] [--smoke]" >&2; exit 2; }
BUILD=${ASAN_BUILD_DIR:-build-asan}
TARGETS=(record requests transparency keys config journal)
WORK=$(mktemp -d /tmp/duurzaam-fuzz-XXXXXX)
total=0
status=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "${TARGETS[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz_$t"
  [[ -x "$bin" ]] || { echo "fuzz: $bin is missing: run scripts/sanitize.sh first" >&2; exit 2; }
  corpus="$ROOT/tests/fuzz/corpus/$t"
  mkdir -p "$corpus" "$WORK/$t"
  cp -r "$corpus/." "$WORK/$t/" 2>/dev/null || true
  log="$WORK/$t.log"
  if (cd "$WORK" && "$ROOT/$bin" -max_total_time="$SECONDS_PER" -print_final_stats=1 \
        -artifact_prefix="$WORK/$t-" -timeout=25 -rss_limit_mb=2048 "$WORK/$t" >"$log" 2>&1); then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    runs=${runs:-0}
    total=$((total + runs))
    printf 'fuzz: %-13s %12s executions, %5s inputs in its corpus\n' "$t" "$runs" \
      "$(ls "$WORK/$t" | wc -l)"
    if ((SMOKE == 0)); then
      "$ROOT/$bin" -merge=1 "$corpus" "$WORK/$t" >/dev/null 2>&1 || true
    fi
  else
    status=1
    echo "fuzz: $t FOUND A CRASH; input and log in $WORK:"
    grep -E "ERROR|SUMMARY|#[0-9] " "$log" | head -20
  fi
done
if ((status == 0)); then
  echo "fuzz: OK: $total executions over ${#TARGETS[@]} targets, ${SECONDS_PER} s each, 0 crashes"
  rm -rf "$WORK"
else
  echo "fuzz: FAILED: a target crashed (see above); $total executions"
fi
exit $status
