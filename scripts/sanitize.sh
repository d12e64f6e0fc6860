#!/usr/bin/env bash
# The checks a second compiler makes, run by scripts/test.sh after the main
# suite, each in its own build folder (benchmarks are not built there):
# 1. build-asan/ (ASAN_BUILD_DIR): clang's thread-safety analysis over every
#    ABSL_GUARDED_BY (-Wthread-safety -Werror=thread-safety) and the whole test
#    suite under AddressSanitizer + UndefinedBehaviorSanitizer, then a
#    60-second smoke of each libFuzzer target (tests/fuzz) on its corpus;
# 2. build-tsan/ (TSAN_BUILD_DIR): ThreadSanitizer runs of the engine,
#    projection and crypto tests (only RocksDB's lock-free memtable
#    suppressed, tests/sanitizers/tsan.supp) and of the service tests (with
#    gRPC's uninstrumented libraries suppressed too, tsan-grpc.supp, which says
#    what that run can and cannot see). Locks are common/mutex.h, which tells
#    TSan about them (Debian's Abseil does not).
# Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
TSAN_DIR=${TSAN_BUILD_DIR:-build-tsan}
# ccache: one cache for every clone of the project (CI builds in a fresh one).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
flags="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
flags="$flags -Wthread-safety -Werror=thread-safety"
# Coverage for libFuzzer: the fuzz targets (tests/fuzz) are built here too.
flags="$flags -fsanitize=fuzzer-no-link"
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDUURZAAM_BUILD_TESTS=ON -DDUURZAAM_BUILD_BENCH=OFF -DDUURZAAM_BUILD_FUZZ=ON \
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

cd "$ROOT"
echo "sanitize: each libFuzzer target for 60 s on its corpus (tests/faults/fuzz.sh --smoke)"
ASAN_BUILD_DIR="$BUILD_DIR" bash tests/faults/fuzz.sh 60 --smoke
echo "sanitize: building the engine, projection, crypto and service tests with ThreadSanitizer in $TSAN_DIR"
CC=clang CXX=clang++ cmake -S . -B "$TSAN_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDUURZAAM_BUILD_TESTS=ON -DDUURZAAM_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-O1 -fno-omit-frame-pointer -fsanitize=thread" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$TSAN_DIR" -j"$JOBS" --target eventstore_test projection_test crypto_test services_test
echo "sanitize: engine, projection and crypto tests under ThreadSanitizer"
for t in eventstore_test projection_test crypto/crypto_test; do
  TSAN_OPTIONS="suppressions=$ROOT/tests/sanitizers/tsan.supp halt_on_error=1" \
    "$TSAN_DIR/tests/$t" --gtest_brief=1
done
echo "sanitize: service tests under ThreadSanitizer (gRPC's libraries suppressed)"
TSAN_OPTIONS="suppressions=$ROOT/tests/sanitizers/tsan-grpc.supp halt_on_error=1" \
  "$TSAN_DIR/tests/services/services_test" --gtest_brief=1
echo "sanitize: all clean"
