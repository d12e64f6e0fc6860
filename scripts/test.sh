#!/usr/bin/env bash
# Quick start, command 2: installs what is missing, builds, and runs the
# whole test suite (unit, crash, service and benchmark smoke tests) with
# CTest, then the clang checks (thread-safety analysis, ASan + UBSan runs of
# the tests: scripts/sanitize.sh). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DDUURZAAM_BUILD_TESTS=ON -DDUURZAAM_BUILD_BENCH=ON
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure --timeout 900 -j"${TEST_JOBS:-1}")
bash scripts/sanitize.sh
