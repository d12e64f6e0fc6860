#!/usr/bin/env bash
# Quick start, command 1: installs what is missing, builds, and starts
# duurzaamd in dev mode on its embedded store under ./data, listening on
# 127.0.0.1:50051 (override with LISTEN=host:port, DATA_DIR=dir), seeding
# the demo data set when the store is empty.
# Extra arguments go to duurzaamd. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DDUURZAAM_BUILD_TESTS=OFF -DDUURZAAM_BUILD_BENCH=OFF
LISTEN=${LISTEN:-127.0.0.1:50051}
DATA_DIR=${DATA_DIR:-./data}
echo "run: duurzaamd (dev mode) on ${LISTEN}, data in ${DATA_DIR}"
exec ./build/services/duurzaamd --dev --demo --listen="${LISTEN}" --data_dir="${DATA_DIR}" "$@"
