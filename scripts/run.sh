#!/usr/bin/env bash
# Quick start, command 1: installs what is missing, builds, and starts
# duurzaamd on its embedded store under ./data, listening on 127.0.0.1:50051
# (override with LISTEN=host:port, DATA_DIR=dir), seeding the demo data set
# when the store is empty, with Prometheus metrics at
# http://127.0.0.1:9464/metrics (METRICS_LISTEN=host:port).
#
# Secure by default: on first run it creates a private CA and certificates
# under ./pki (PKI_DIR=dir) with deploy/duurzaam-pki: the server's, and one
# client certificate per demo user (expert jdevries, employer acme-hr at
# acme, auditor, beheer the administrator). The server speaks mutual TLS
# only. Personal data is sealed with per-case keys under the master key in
# ./secrets/master.keys (MASTER_KEY=file; created on first run, kept outside
# the data folder). DEV=1 starts a plaintext dev-mode server instead.
# Extra arguments go to duurzaamd. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DDUURZAAM_BUILD_TESTS=OFF -DDUURZAAM_BUILD_BENCH=OFF
LISTEN=${LISTEN:-127.0.0.1:50051}
METRICS_LISTEN=${METRICS_LISTEN:-127.0.0.1:9464}
DATA_DIR=${DATA_DIR:-./data}
PKI_DIR=${PKI_DIR:-./pki}
MASTER_KEY=${MASTER_KEY:-./secrets/master.keys}
if [[ "${DEV:-0}" == 1 ]]; then
  echo "run: duurzaamd (DEV MODE, plaintext) on ${LISTEN}, data in ${DATA_DIR}"
  exec ./build/server/duurzaamd --dev --demo --listen="${LISTEN}" --data_dir="${DATA_DIR}" "$@"
fi
if [[ ! -f "${PKI_DIR}/ca.key" ]]; then
  deploy/duurzaam-pki init "${PKI_DIR}"
  deploy/duurzaam-pki issue "${PKI_DIR}" EXPERT jdevries
  deploy/duurzaam-pki issue "${PKI_DIR}" EMPLOYER acme-hr --org acme
  deploy/duurzaam-pki issue "${PKI_DIR}" AUDITOR auditor
  deploy/duurzaam-pki issue "${PKI_DIR}" ADMIN beheer
fi
if [[ ! -f "${MASTER_KEY}" ]]; then
  mkdir -p -m 700 "$(dirname "${MASTER_KEY}")"
  ./build/clients/duurzaamctl master-key init "${MASTER_KEY}"
fi
echo "run: duurzaamd (mutual TLS) on ${LISTEN}, data in ${DATA_DIR}, certificates in ${PKI_DIR}"
echo "run: metrics at http://${METRICS_LISTEN}/metrics"
echo "try: ./build/clients/duurzaamctl --pki=${PKI_DIR} --user=jdevries portfolio --lang=en"
exec ./build/server/duurzaamd --demo --listen="${LISTEN}" --data_dir="${DATA_DIR}" \
  --tls_cert="${PKI_DIR}/server.pem" --tls_key="${PKI_DIR}/server.key" \
  --tls_client_ca="${PKI_DIR}/ca.pem" --revoked_serials="${PKI_DIR}/revoked-serials" \
  --master_key_file="${MASTER_KEY}" --metrics_listen="${METRICS_LISTEN}" "$@"
