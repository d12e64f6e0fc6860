#!/usr/bin/env bash
# The peer benchmark: Message DB (PostgreSQL; the npm package
# @eventide/message-db) beside duurzaam, on this machine, in one run:
#   - Message DB write_message (durable: fsync and synchronous_commit on) at
#     1, 8 and 64 clients (pgbench), and a read of a whole category;
#   - duurzaam's durable appends (engine, and over gRPC with 64 in flight)
#     and its global-log read (duurzaam_bench, same run).
# Target (issue 11): our durable appends >= 5x Message DB's at 64 clients.
#
# Not part of CI (it installs PostgreSQL and takes a few minutes). Run as
# root after scripts/build.sh:   bash bench/peer/run.sh [seconds per row]
# Everything it starts binds a Unix socket in a temporary folder (and
# 127.0.0.1 only); the folder is removed at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECONDS_PER_ROW="${1:-10}"
MESSAGE_DB_VERSION=1.3.1
BENCH="$ROOT/build/bench/duurzaam_bench"
[ -x "$BENCH" ] || { echo "peer: build first (bash scripts/build.sh)"; exit 2; }

# What is missing: PostgreSQL from Debian, Message DB from npm (pinned).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v pgbench >/dev/null; then
  echo "peer: installing PostgreSQL (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    postgresql postgresql-contrib >/dev/null
fi
if ! command -v npm >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm >/dev/null
fi
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
WORK="$(mktemp -d /tmp/duurzaam-peer-XXXXXX)"
chmod 755 "$WORK"
cleanup() {
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
echo "peer: Message DB $MESSAGE_DB_VERSION from npm"
npm install --no-audit --no-fund --silent --prefix "$WORK/npm" \
  "@eventide/message-db@$MESSAGE_DB_VERSION" >/dev/null
MDB="$WORK/npm/node_modules/@eventide/message-db/database"

# A throwaway cluster: durable settings, Unix socket in $WORK, loopback only.
PORT=54329
mkdir -p "$WORK/pg" "$WORK/sock"
chown postgres:postgres "$WORK/pg" "$WORK/sock"
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" --auth=trust -U postgres >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/sock/pg.log" -w start -o \
  "-k $WORK/sock -p $PORT -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on \
   -c max_connections=100 -c shared_buffers=256MB" >/dev/null
export PGHOST="$WORK/sock" PGPORT="$PORT" PGUSER=postgres
(cd "$MDB" && bash ./install.sh >/dev/null 2>&1)
export PGOPTIONS="-c search_path=message_store,public -c client_min_messages=warning"
DB=message_store

# write_message of a ~300-byte event to 64 streams of one category.
PAYLOAD="$(head -c 300 /dev/zero | tr '\0' 'x')"
cat > "$WORK/write.sql" <<SQL
\set s random(0, 63)
SELECT write_message(gen_random_uuid()::varchar, 'bench-' || :s, 'Happened', '{"p": "$PAYLOAD"}'::jsonb);
SQL
declare -A MDB_TPS
for clients in 1 8 64; do
  threads=$(( clients < 2 ? 1 : 2 ))
  tps=$(pgbench -n -f "$WORK/write.sql" -c "$clients" -j "$threads" -T "$SECONDS_PER_ROW" "$DB" 2>/dev/null |
    awk '/^tps = /{print $3; exit}')
  MDB_TPS[$clients]="$tps"
  printf 'Message DB write_message, %2d clients   %12.1f /s\n' "$clients" "$tps"
done

# Reading the whole category back (server-side, in batches of 1000).
psql -q -v ON_ERROR_STOP=1 "$DB" >/dev/null <<'SQL'
CREATE OR REPLACE FUNCTION peer_category_read(category varchar, batch int)
RETURNS TABLE(messages bigint, seconds double precision) AS $$
DECLARE
  pos bigint := 1; n bigint := 0; got bigint; last bigint;
  t0 timestamptz := clock_timestamp();
BEGIN
  LOOP
    SELECT count(*), max(m.global_position) INTO got, last
      FROM get_category_messages(category, pos, batch) m;
    EXIT WHEN got = 0;
    n := n + got; pos := last + 1;
  END LOOP;
  RETURN QUERY SELECT n, extract(epoch FROM clock_timestamp() - t0)::double precision;
END $$ LANGUAGE plpgsql;
SQL
read -r messages secs < <(psql -At -F ' ' "$DB" -c "SELECT * FROM peer_category_read('bench', 1000)")
MDB_READ=$(awk -v n="$messages" -v s="$secs" 'BEGIN{printf "%.1f", n/s}')
printf 'Message DB category read, %d messages  %12.1f /s (server-side)\n' "$messages" "$MDB_READ"

# duurzaam, same run, same machine.
echo "peer: duurzaam_bench engine-append service-append engine-read"
OURS="$("$BENCH" --runs=1 engine-append service-append engine-read 2>/dev/null || true)"
echo "$OURS" | grep -E "^(engine|service)"
OUR64=$(echo "$OURS" | awk '/^service durable appends, 64 in flight/{print $7; exit}')
OURENGINE=$(echo "$OURS" | awk '/^engine durable appends, 64 writer threads/{print $7; exit}')
echo
awk -v ours="$OUR64" -v engine="$OURENGINE" -v peer="${MDB_TPS[64]}" 'BEGIN{
  printf "duurzaam durable appends over gRPC, 64 in flight: %.0f /s = %.2fx Message DB at 64 clients (%.0f /s); target >= 5x: %s\n",
    ours, ours/peer, peer, (ours >= 5*peer ? "met" : "MISSED");
  if (engine > 0) printf "duurzaam engine durable appends, 64 threads: %.0f /s = %.2fx\n", engine, engine/peer;
}'
