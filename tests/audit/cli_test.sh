#!/usr/bin/env bash
# duurzaam-audit as an auditor runs it, against a real duurzaamd (dev mode,
# demo data, loopback): pinning the checkpoint key (a wrong fingerprint
# refused), checkpoints, replay, status in both clocks, status history with
# its chart, an evidence bundle verified offline and a tampered one caught,
# the whole log verified, the access log as CSV, the report as HTML and PDF
# (read back with pdftotext, the HTML rendered to a screenshot in Chromium),
# and a server forked after a common prefix caught (exit 5).
# Usage: cli_test.sh DUURZAAMD DUURZAAM_AUDIT DUURZAAMCTL OUT_DIR
set -uo pipefail
DUURZAAMD="$1" AUDIT="$2" CTL="$3" OUT="$4"
# The demo data is dated relative to the day it is seeded: so are the days asked about.
TODAY=$(date -u +%F)
ON=$(date -u -d "-35 days" +%F)
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() { [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$OUT"

start_server() {  # DATA_DIR; sets PORT and SERVER_PID
  "$DUURZAAMD" --dev --demo --listen=127.0.0.1:0 --data_dir="$1" --master_key_file="$WORK/master.keys" \
    >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.log" | tail -1)
    [[ -n "$PORT" ]] && return 0
    sleep 0.1
  done
  cat "$WORK/server.log" >&2
  fail "duurzaamd did not start"
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }

A() { "$AUDIT" --server=127.0.0.1:$PORT --state="$WORK/state" "$@"; }

"$AUDIT" --help | grep -q "Afsluitcodes" || fail "--help is not Dutch"
"$AUDIT" --help --lang=en | grep -q "Exit codes" || fail "--help --lang=en is not English"
"$AUDIT" frobnicate 2>/dev/null; [[ $? == 2 ]] || fail "an unknown command is not exit 2"

"$CTL" master-key init "$WORK/master.keys" >/dev/null || fail "master-key init"
start_server "$WORK/data"
FINGERPRINT=$(sed -n 's/.*SHA-256 fingerprint \([0-9a-f]*\).*/\1/p' "$WORK/server.log")
[[ ${#FINGERPRINT} == 64 ]] || fail "no fingerprint in the server log"

# Nothing is trusted before a key is pinned; a wrong fingerprint is refused.
A checkpoint 2>"$WORK/err"; [[ $? == 6 ]] || fail "checkpoint without a pinned key is not exit 6"
grep -q "pin" "$WORK/err" || fail "the error does not say to pin: $(cat "$WORK/err")"
A pin --fingerprint=$(printf '0%.0s' $(seq 1 64)) 2>"$WORK/err"; [[ $? == 1 ]] || fail "a wrong fingerprint was pinned"
A pin --fingerprint="$FINGERPRINT" >/dev/null || fail "pin"
A checkpoint | grep -q "eerste checkpoint" || fail "first checkpoint"
A checkpoint | grep -q "hetzelfde" || fail "second checkpoint is not the same"
# The kept checkpoint is a C2SP note: it verifies; a witness that never cosigned fails the quorum.
A verify-note "$WORK/state/duurzaam.checkpoint" | grep -q "Checkpoint in orde" || fail "verify-note"
WITNESS="witness.example+00000000+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
A verify-note "$WORK/state/duurzaam.checkpoint" --witness="$WITNESS" >/dev/null 2>"$WORK/err"; code=$?
[[ $code == 2 ]] || fail "a verifier key with a wrong hash is not a usage error (exit $code)"
WITNESS=$(python3 -c 'import base64,hashlib; k=bytes(range(32)); n=b"witness.example"
print("witness.example+"+hashlib.sha256(n+b"\n"+b"\x04"+k).hexdigest()[:8]+"+"+base64.b64encode(b"\x04"+k).decode())')
A verify-note "$WORK/state/duurzaam.checkpoint" --witness="$WITNESS" >"$WORK/out" 2>&1; code=$?
[[ $code == 1 ]] || fail "a missing cosignature is not exit 1 ($code): $(cat "$WORK/out")"
grep -q "0 van de vereiste 1 getuigen" "$WORK/out" || fail "the quorum is not explained: $(cat "$WORK/out")"

# Replay: every event, who and when, the employer-wide one joined in, sealed data marked.
A replay bram >"$WORK/replay" || fail "replay: $(cat "$WORK/replay")"
grep -q "^Geverifieerd: 14 vastleggingen" "$WORK/replay" || fail "replay is not verified: $(head -2 "$WORK/replay")"
grep -q "Reorganisatie.*(hele werkgever)" "$WORK/replay" || fail "the employer-wide event is not joined"
grep -q "expert:jdevries" "$WORK/replay" || fail "who recorded it is missing"
grep -q "persoonsgegevens versleuteld" "$WORK/replay" || fail "sealed data is not marked"
A --json replay bram | python3 -c 'import json,sys; e=json.load(sys.stdin); assert len(e) >= 15 and e[0]["type"]=="CaseOpened", e[0]' \
  || fail "replay --json"

# Status in both clocks: the demo was recorded today, so on 1 November nothing was known yet.
A --json status bram --on="$ON" >"$WORK/status" || fail "status"
python3 - "$WORK/status" <<'PY' || fail "status in both clocks: $(cat "$WORK/status")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["differ"] is True
assert s["as_now_known"]["level"] == "SUSTAINABLE", s["as_now_known"]
assert s["as_known"]["level"] == "VULNERABLE"
assert s["as_known"]["reasons"][0]["rule_id"] == "VULNERABLE.NOT_PLACED"
assert len(s["late_events"]) >= 14
assert s["as_now_known"]["ruleset_version"] == "2026.1"
PY
A --lang=en status bram --on="$ON" | grep -q "As now known" || fail "status --lang=en"

# History: each change with its cause and the ruleset version that judged the day.
A history bram --until="$TODAY" --svg="$OUT/status-history.svg" >"$WORK/history" || fail "history"
grep -qE "^20[0-9]{2}-[0-9]{2}-[0-9]{2} +- +kwetsbaar *2026.1 *gebeurtenissen" "$WORK/history" || fail "the first level has no version or cause: $(cat "$WORK/history")"
grep -q "risico .*AT_RISK.DISRUPTION_UNADDRESSED" "$WORK/history" || fail "the change to at risk has no cause"
grep -q "<svg" "$OUT/status-history.svg" || fail "no chart"

# An evidence bundle, verified offline (the server stopped), and tampered.
A bundle bram --out="$WORK/bram.dzb" >/dev/null || fail "bundle"
stop_server
A verify "$WORK/bram.dzb" | grep -q "In orde" || fail "the bundle does not verify offline"
"$CTL" verify "$WORK/data" | grep -q "^OK: [0-9]* records, hash chain intact" || fail "duurzaamctl verify DATA_DIR"
A replay bram --bundle="$WORK/bram.dzb" | grep -q "Reorganisatie" || fail "replay from the bundle"
python3 - "$WORK/bram.dzb" "$WORK/tampered.dzb" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find(b"PlacementHired")   # inside a stored record
b[i + 3] ^= 0x20
open(sys.argv[2], "wb").write(b)
PY
A verify "$WORK/tampered.dzb" 2>"$WORK/err"; [[ $? == 1 ]] || fail "a tampered bundle is not exit 1"
grep -q "NIET IN ORDE: vastlegging 1 (case-bram revisie 1" "$WORK/err" || fail "the tampered record is not named: $(cat "$WORK/err")"
A --json verify "$WORK/tampered.dzb" >"$WORK/out" 2>/dev/null
grep -q '"ok":false,"case_id":"bram".*"item":"record 1 (case-bram' "$WORK/out" || fail "verify --json: $(cat "$WORK/out")"

# The whole log, resumable; the access log; the report.
start_server "$WORK/data"
A verify-log >"$WORK/out" 2>"$WORK/progress" || fail "verify-log: $(cat "$WORK/out" "$WORK/progress")"
grep -q "^In orde: [0-9]* vastleggingen, keten en boom kloppen" "$WORK/out" || fail "verify-log: $(cat "$WORK/out")"
grep -q "100%" "$WORK/progress" || fail "no progress shown"
# Resumable: after the log grew, only the new records are read.
"$CTL" --server=127.0.0.1:$PORT --as=beheer --role=ADMIN append ext-notes Note '"later"' >/dev/null || fail "append"
A --json verify-log >"$WORK/out" 2>/dev/null || fail "verify-log again: $(cat "$WORK/out")"
grep -q '"verified_now":1,' "$WORK/out" || fail "verify-log did not resume: $(cat "$WORK/out")"
"$CTL" --server=127.0.0.1:$PORT --as=expert:jdevries --role=EXPERT timeline bram >/dev/null || fail "timeline read"
A access bram --out="$WORK/access.csv" >/dev/null || fail "access"
head -1 "$WORK/access.csv" | grep -q $'^read_at,principal,role,via,view,method,case_id\r$' || fail "CSV header"
grep -q "expert:jdevries,EXPERT,,timeline" "$WORK/access.csv" || fail "the expert's read is not in the CSV"
A report bram --on="$TODAY" --html="$OUT/report-bram.html" --pdf="$OUT/report-bram.pdf" >/dev/null \
  || fail "report"
pdftotext "$OUT/report-bram.pdf" "$WORK/report.txt" || fail "pdftotext"
for want in "Auditrapport zaak bram" "Verificatie" "Geslaagd" "Statusverloop" "Tijdlijn" "Wie las wat" "expert:jdevries"; do
  grep -q "$want" "$WORK/report.txt" || fail "the PDF does not say '$want'"
done
A --lang=en report bram --on="$TODAY" --html="$OUT/report-bram-en.html" >/dev/null || fail "report en"
grep -q "Status history" "$OUT/report-bram-en.html" || fail "the English report"
# In the browser: axe-core finds no WCAG 2.1 AA violation; full-page screenshots saved.
node "$(dirname "$0")/report_check.mjs" "$OUT/report-bram.html" "$OUT/report-bram-en.html" >"$WORK/out" 2>&1 \
  || fail "the report in Chromium: $(cat "$WORK/out")"
[[ -s "$OUT/report-bram.png" ]] || fail "no screenshot"

# A fork: the same data folder copied, two histories after the copy.
stop_server
cp -a "$WORK/data" "$WORK/data-b"
start_server "$WORK/data"
"$CTL" --server=127.0.0.1:$PORT --as=beheer --role=ADMIN append ext-notes Note '"A"' >/dev/null || fail "append A"
A checkpoint | grep -q "gegroeid" || fail "history A did not grow consistently"
stop_server
start_server "$WORK/data-b"
"$CTL" --server=127.0.0.1:$PORT --as=beheer --role=ADMIN append ext-notes Note '"B"' >/dev/null || fail "append B"
A checkpoint 2>"$WORK/err"; [[ $? == 5 ]] || fail "the fork is not exit 5: $(cat "$WORK/err")"
grep -q "VORK" "$WORK/err" || fail "the fork is not reported: $(cat "$WORK/err")"
ls "$WORK/state"/*.fork-* >/dev/null 2>&1 || fail "no fork evidence kept"
A replay bram >"$WORK/out" 2>&1; code=$?; [[ $code == 5 ]] || fail "a forked server's case is still replayed (exit $code): $(cat "$WORK/out")"
echo "PASS: duurzaam-audit as an auditor runs it (report in $OUT)"
