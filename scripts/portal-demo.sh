#!/usr/bin/env bash
# The employer portal on the demo server of the quick start (scripts/run.sh,
# running in another terminal): starts a local OpenID Connect provider that
# stands in for an eHerkenning broker (tests/portal/provider.mjs, the one the
# browser tests use) and duurzaam-portal with its own PORTAL certificate.
# Then open https://localhost:8443 (your browser will warn: the certificate
# is the demo CA's) and sign in as acme-hr (any password) to act for Acme.
# Other demo accounts: techniek-hr (Techniek BV), korf-hr (Bakkerij de Korf).
# Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PKI_DIR=${PKI_DIR:-./pki}
SERVER=${SERVER:-localhost:50051}
PORTAL_PORT=${PORTAL_PORT:-8443}
PROVIDER_PORT=${PROVIDER_PORT:-8444}
[[ -f "${PKI_DIR}/ca.key" ]] || { echo "portal-demo: no ${PKI_DIR}: start the server first (bash scripts/run.sh)" >&2; exit 1; }
bash scripts/install-deps.sh
[[ -x build/clients/duurzaam-portal ]] || bash scripts/build.sh
[[ -f "${PKI_DIR}/clients/werkgeversportaal.pem" ]] ||
  deploy/duurzaam-pki issue "${PKI_DIR}" PORTAL werkgeversportaal
mkdir -p -m 700 ./secrets
[[ -f ./secrets/portal-client-secret ]] ||
  (umask 077 && openssl rand -hex 24 >./secrets/portal-client-secret)
node tests/portal/provider.mjs --port="${PROVIDER_PORT}" \
  --cert="${PKI_DIR}/server.pem" --key="${PKI_DIR}/server.key" \
  --client-secret-file=./secrets/portal-client-secret \
  --redirect-uri="https://localhost:${PORTAL_PORT}/auth/callback" \
  --post-logout-redirect-uri="https://localhost:${PORTAL_PORT}/?uitgelogd=1" &
provider=$!
trap 'kill ${provider} 2>/dev/null' EXIT
sleep 1
echo "portal-demo: open https://localhost:${PORTAL_PORT} and sign in as acme-hr (any password)"
./build/clients/duurzaam-portal --listen="127.0.0.1:${PORTAL_PORT}" \
  --tls_cert="${PKI_DIR}/server.pem" --tls_key="${PKI_DIR}/server.key" \
  --public_url="https://localhost:${PORTAL_PORT}" --server="${SERVER}" --pki="${PKI_DIR}" \
  --oidc_issuer="https://127.0.0.1:${PROVIDER_PORT}" --oidc_client_id=duurzaam-portal \
  --oidc_client_secret_file=./secrets/portal-client-secret --oidc_ca="${PKI_DIR}/ca.pem" "$@"
