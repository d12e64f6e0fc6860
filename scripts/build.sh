#!/usr/bin/env bash
# Configures and builds duurzaam into build/ (ccache, -j2 on this 2-core
# machine by default; override with JOBS=N). Pass extra CMake -D options.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
BUILD_DIR=${BUILD_DIR:-build}
# One ccache for every clone of the project (CI builds in a fresh one).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS"
