#!/usr/bin/env bash
# The checks a second compiler makes, run by scripts/test.sh after the main
# suite: clang's thread-safety analysis over every ABSL_GUARDED_BY
# (-Wthread-safety -Werror=thread-safety) and the test suite (engine, crash,
# domain, codec, crypto, transparency, projection and service tests) under
# AddressSanitizer + UndefinedBehaviorSanitizer, in their own build folder
# (build-asan/; override with ASAN_BUILD_DIR). Benchmarks are not built here.
# Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
# ccache: one cache for every clone of the project (CI builds in a fresh one).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
flags="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
flags="$flags -Wthread-safety -Werror=thread-safety"
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDUURZAAM_BUILD_TESTS=ON -DDUURZAAM_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
echo "sanitize: building with clang (thread-safety analysis, ASan + UBSan) in $BUILD_DIR"
cmake --build "$BUILD_DIR" -j"$JOBS"
cd "$BUILD_DIR"
echo "sanitize: running the test suite under ASan + UBSan"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1} \
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/sanitizers/lsan.supp:print_suppressions=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  ctest --output-on-failure --timeout 900 -j"${TEST_JOBS:-2}"
