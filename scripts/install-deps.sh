#!/usr/bin/env bash
# Installs the Debian 12 packages duurzaam needs to build, test and run.
# Idempotent: does nothing when everything is present. Run as root (or with
# sudo available).
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config git
  libgrpc++-dev libabsl-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  librocksdb-dev libssl-dev openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format
  clang libclang-rt-14-dev
  libcpp-httplib-dev nlohmann-json3-dev
  chromium fonts-liberation
  poppler-utils
  prometheus-cpp-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the portal's browser tests; this machine kind has it (20.x),
# otherwise Debian's.
command -v node >/dev/null || missing+=(nodejs npm)

SUDO=""
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The npm packages of the portal's browser tests, exactly as
# tests/portal/package-lock.json pins them (playwright-core drives Debian's
# Chromium: no browser is downloaded).
cd "$(dirname "$0")/../tests/portal"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "install-deps: installing the portal tests' npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
