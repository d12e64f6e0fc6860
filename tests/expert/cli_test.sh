#!/usr/bin/env bash
# duurzaam-expert as its user runs it, against a real duurzaamd (dev mode,
# demo data, loopback): init, sync, cases, a local refusal, an offline entry
# while the server is down (exit 4, kept), the sync that sends it once the
# server is back, the outbox in JSON, a wrong passphrase, --help in both
# languages. Usage: cli_test.sh DUURZAAMD DUURZAAM_EXPERT
set -uo pipefail
DUURZAAMD="$1" EXPERT="$2"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() { [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

start_server() {  # data dir; sets PORT and SERVER_PID
  "$DUURZAAMD" --dev --demo --listen=127.0.0.1:${PORT:-0} --data_dir="$WORK/data" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.log" | tail -1)
    [[ -n "$PORT" ]] && grep -q "listening on 127.0.0.1:$PORT" "$WORK/server.log" && return 0
    sleep 0.1
  done
  cat "$WORK/server.log" >&2
  fail "duurzaamd did not start"
}

export DUURZAAM_EXPERT_PASSPHRASE="een lange wachtwoordzin"
X() { "$EXPERT" --dir="$WORK/device" "$@"; }

"$EXPERT" --help | grep -q "Afsluitcodes" || fail "--help is not Dutch"
"$EXPERT" --help --lang=en | grep -q "Exit codes" || fail "--help --lang=en is not English"
"$EXPERT" frobnicate 2>/dev/null; [[ $? == 2 ]] || fail "an unknown command is not exit 2"
X cases 2>"$WORK/err"; [[ $? == 5 ]] || fail "cases before init is not exit 5"
grep -q "init" "$WORK/err" || fail "before init, the error does not say to run init"

start_server
X init --dev --server=127.0.0.1:$PORT --as=jdevries --kdf-cost=12 >/dev/null || fail "init"
X sync >"$WORK/out" || fail "first sync: $(cat "$WORK/out")"
grep -q "Opgehaald: [1-9]" "$WORK/out" || fail "first sync pulled nothing: $(cat "$WORK/out")"
X cases | grep -q "^anna " || fail "anna is not among the cases"
grep -a -q "belafspraak\|orderpicker" "$WORK/device/replica.vault" && fail "plaintext in the replica file"

# The rules, locally: a fixed-term contract without an end.
X record anna contract --contract=fixed-term 2>"$WORK/err"; code=$?
[[ $code == 3 ]] || fail "a refused entry is exit $code, not 3"
grep -q "event.contract_changed.contract_end" "$WORK/err" || fail "the refusal does not name the field: $(cat "$WORK/err")"

# Offline: the server is gone; the entry is saved and kept.
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
X record anna contact --summary="bezoek op de werkvloer" --kind=visit >"$WORK/out" || fail "offline record"
X cases | grep "^anna " | grep -q "offline" || fail "anna is not marked offline"
X sync >/dev/null 2>&1; code=$?
[[ $code == 4 ]] || fail "sync without a server is exit $code, not 4"
X --json outbox | grep -q '"state":"pending"' || fail "the entry is not pending after a failed sync"

# The server is back (same data): the entry goes, once.
start_server
X --json sync >"$WORK/out" || fail "sync after restart"
grep -q '"appended":1' "$WORK/out" || fail "not appended once: $(cat "$WORK/out")"
X --json sync >"$WORK/out" || fail "second sync"
grep -q '"pushed":0' "$WORK/out" || fail "pushed again: $(cat "$WORK/out")"
X --json outbox | grep -q '"state":"appended"' || fail "outbox does not show it appended"
X timeline anna | grep -q "Contact" || X timeline anna | grep -qi "contact" || fail "timeline lacks the contact"
X --lang=en status anna | grep -q "ruleset" || fail "status --lang=en"

# A second device of the same expert: a contract change on each, offline;
# the later sync gets a conflict in words, settled by editing the entry.
Y() { "$EXPERT" --dir="$WORK/tablet" "$@"; }
Y init --dev --server=127.0.0.1:$PORT --as=jdevries --kdf-cost=12 >/dev/null || fail "init tablet"
Y sync >/dev/null || fail "tablet first sync"
X record anna contract --contract=permanent --hours=32 >/dev/null || fail "record on the laptop"
Y record anna contract --contract=fixed-term --end=2027-12-31 --hours=24 >/dev/null ||
  fail "record on the tablet"
X sync >/dev/null || fail "laptop sync"
Y sync >"$WORK/out"; code=$?
[[ $code == 1 ]] || fail "a conflicted sync is exit $code, not 1: $(cat "$WORK/out")"
Y outbox >"$WORK/out"
grep -q "conflict" "$WORK/out" || fail "the outbox does not show the conflict: $(cat "$WORK/out")"
grep -q "legde vast: 'Contract" "$WORK/out" || fail "the conflict is not in words: $(cat "$WORK/out")"
CONFLICTED=$(Y --json outbox | sed -n 's/.*"event_id":"\([^"]*\)","case_id":"anna","state":"conflict".*/\1/p')
[[ -n "$CONFLICTED" ]] || fail "no conflicted entry in the JSON outbox"
Y resolve "$CONFLICTED" --edit contract --contract=fixed-term 2>"$WORK/err"; code=$?
[[ $code == 3 ]] || fail "an edit the rules refuse is exit $code, not 3"
grep -q "contract_end" "$WORK/err" || fail "the refused edit does not name the field: $(cat "$WORK/err")"
Y resolve "$CONFLICTED" --edit contract --contract=fixed-term --end=2028-06-30 --hours=28 \
  >"$WORK/out" || fail "resolve --edit: $(cat "$WORK/out")"
EDITED=$(sed -n "s/.*vervangt $CONFLICTED als \([^;]*\);.*/\1/p" "$WORK/out")
[[ -n "$EDITED" ]] || fail "resolve --edit does not say what it replaces: $(cat "$WORK/out")"
Y --json sync >"$WORK/out" || fail "sync after the edit: $(cat "$WORK/out")"
grep -q '"appended":1' "$WORK/out" || fail "the edited entry is not appended: $(cat "$WORK/out")"
Y --json outbox | grep -q "\"event_id\":\"$CONFLICTED\",\"case_id\":\"anna\",\"state\":\"replaced\"" ||
  fail "the conflicted entry is not kept as replaced"
Y --json timeline anna | grep -q "\"event_id\":\"$EDITED\",[^}]*tijdelijk contract" ||
  fail "the edited entry is not on the timeline: $(Y --json timeline anna)"

# Leaving a team: the laptop's offline entry on anna goes with the case,
# and the outbox says so (by id only: the case is gone from the device).
X record anna contact --summary="nog niet verstuurd" >/dev/null || fail "offline entry on the laptop"
Y record anna --event-json='{"teamMemberAdded":{"expertId":"expert:pvisser"}}' >/dev/null ||
  fail "add pvisser"
Y record anna --event-json='{"teamMemberRemoved":{"expertId":"expert:jdevries"}}' >/dev/null ||
  fail "jdevries leaves anna"
Y sync >/dev/null || fail "tablet sync of the team change"
X sync >"$WORK/out" || fail "laptop sync after leaving: $(cat "$WORK/out")"
grep -q "[1-9] van je invoer ging mee" "$WORK/out" || fail "the sync does not say an entry went: $(cat "$WORK/out")"
X cases | grep -q "^anna " && fail "anna is still on the laptop"
X outbox | grep "purged" | grep -q "weg met de zaak (je staat niet meer in het team; niet vastgelegd)" ||
  fail "the outbox does not explain the purged entry: $(X outbox)"
X --json outbox | grep -q '"state":"purged","state_when_purged":"rejected","recorded":false' ||
  fail "the JSON outbox lacks the purged entry: $(X --json outbox)"

DUURZAAM_EXPERT_PASSPHRASE="verkeerde wachtwoordzin" X cases 2>/dev/null; code=$?
[[ $code == 5 ]] || fail "a wrong passphrase is exit $code, not 5"
echo "PASS: duurzaam-expert CLI"
