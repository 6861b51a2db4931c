#!/usr/bin/env bash
# Property-based API fuzzing with schemathesis, from the service's own OpenAPI document.
#
# For each database (a temporary SQLite file, a fresh PostgreSQL database), it builds and starts
# the service, seeds a directory with one user per role and disputes in many states
# (scripts/fuzz_seed.py), then runs `schemathesis run` over every operation once per role and once
# anonymously. Checks: no 5xx, every error is application/problem+json (scripts/fuzz_hooks.py),
# status codes, content types, headers and bodies as documented, schema-invalid input refused,
# 405 with Allow for undocumented methods, 401 without a token. The server log must hold no
# warning or error of the service itself (a background task failing is a failure too).
# Not checked by default: positive_data_acceptance (schema-valid input that a rule of the
# procedure refuses, e.g. a date in the future, is a legitimate 422); add it with FUZZ_CHECKS.
#
# Environment:
#   FUZZ_MAX_EXAMPLES   examples per operation in the fuzzing phase (default 5: a CI pass;
#                       try 100 for a thorough one)
#   FUZZ_DATABASES      "sqlite postgres" (default), or one of them
#   FUZZ_ROLES          the runs, in order (default: anonymous and every role, admin last)
#   FUZZ_RANDOM_SEED    a number: the same generated cases again (default: random)
#   FUZZ_CHECKS         schemathesis checks (comma-separated; default: the list below)
#   FUZZ_WORKERS        schemathesis workers (default 1)
#   FUZZ_PG_URL         PostgreSQL server for the temporary database
#                       (default postgres://postgres@127.0.0.1:5432)
#   FUZZ_KEEP           1: keep the work directory (logs, reports, seed) after the run
# Exits non-zero on any failure; the servers it started are stopped in every case.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-5}
DATABASES=${FUZZ_DATABASES:-sqlite postgres}
ROLES=${FUZZ_ROLES:-anonymous panelist lmc_mediator commissioner accountable_officer practice_user panel_secretary admin}
WORKERS=${FUZZ_WORKERS:-1}
CHECKS=${FUZZ_CHECKS:-not_a_server_error,problem_json_errors,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,missing_required_header,unsupported_method,allow_header_conformance,ignored_auth}
PG_URL=${FUZZ_PG_URL:-postgres://postgres@127.0.0.1:5432}
SEED_TODAY=2026-03-02 # a Monday with no bank holiday in the next four weeks
ADMIN_EMAIL=admin@fuzz.test
ADMIN_PASSWORD=fuzz-admin-password-1
JWT_SECRET=fuzz-secret-fuzz-secret-fuzz-secret-0123456789

started=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ldr-fuzz.XXXXXX")
SERVER_PID=""
PG_DB=""
SERVER_LOG=""

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

drop_pg() {
    if [ -n "$PG_DB" ]; then
        dropdb --if-exists --force -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB" || true
        PG_DB=""
    fi
}

cleanup() {
    local rc=$?
    stop_server
    drop_pg
    if [ "${FUZZ_KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
        echo "fuzz: work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_server_log() {
    if [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ]; then
        echo "---- last 60 lines of the server log ($SERVER_LOG)"
        tail -n 60 "$SERVER_LOG"
        echo "----"
    fi
}

# ---------------------------------------------------------------- tools

echo "== fuzz: schemathesis $SCHEMATHESIS_VERSION in .venv"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv || {
        echo "fuzz: '$PYTHON -m venv' failed (on Debian: apt-get install python3-venv)" >&2
        exit 1
    }
fi
if [ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
ST=$ROOT/.venv/bin/schemathesis
"$ST" --version

echo "== fuzz: cargo build"
cargo build --quiet --bin ldr
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
BIN=$TARGET_DIR/debug/ldr
[ -x "$BIN" ] || { echo "fuzz: no binary at $BIN" >&2; exit 1; }

PG_HOST=$(.venv/bin/python -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).hostname or "127.0.0.1")' "$PG_URL")
PG_PORT=$(.venv/bin/python -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).port or 5432)' "$PG_URL")
PG_USER=$(.venv/bin/python -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).username or "postgres")' "$PG_URL")

free_port() {
    .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server DB_URL TODAY: starts the service in the background on a free port; sets BASE.
start_server() {
    local url=$1 today=$2 port
    port=$(free_port)
    BASE=http://127.0.0.1:$port
    echo "-- starting ldr on $BASE (today $today)" >>"$SERVER_LOG"
    env LDR_DATABASE_URL="$url" LDR_BIND="127.0.0.1:$port" LDR_JWT_SECRET="$JWT_SECRET" \
        LDR_BOOTSTRAP_ADMIN_EMAIL="$ADMIN_EMAIL" LDR_BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        LDR_TODAY="$today" LDR_DATA_DIR="$DATA_DIR" LDR_MAIL_DIR="$DATA_DIR/mail" \
        LDR_WORKERS=2 LDR_DB_POOL_SIZE=8 LDR_LOG="${LDR_LOG:-info}" NO_COLOR=1 \
        LDR_FILINGS_PER_HOUR=1000000 LDR_UPLOADS_PER_HOUR=1000000 LDR_NOTICE_EVENTS_PER_HOUR=1000000 \
        "$BIN" >>"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 150); do
        if .venv/bin/python -c 'import sys, urllib.request as r; r.urlopen(sys.argv[1] + "/readyz", timeout=2)' "$BASE" 2>/dev/null; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "fuzz: the service did not start" >&2
    show_server_log
    return 1
}

# No state kept between runs (schemathesis would otherwise replay earlier failures from
# ./.schemathesis): a run is reproduced with FUZZ_RANDOM_SEED. No automatic sign-up: the
# anonymous run stays anonymous (and schemathesis 4.32.5's sign-up step fails on POST /users).
cat >"$WORK/schemathesis.toml" <<'TOML'
[cache]
enabled = false

[auth]
auto-signup = false
TOML

# ---------------------------------------------------------------- one database

failures=()
passed=0

fuzz_database() {
    local db=$1 url
    DATA_DIR=$WORK/$db
    mkdir -p "$DATA_DIR"
    SERVER_LOG=$WORK/server-$db.log
    : >"$SERVER_LOG"
    case $db in
    sqlite) url="sqlite://$DATA_DIR/ldr.sqlite3" ;;
    postgres)
        PG_DB=ldr_fuzz_$$_$(date +%s)
        createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
        url="postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
        ;;
    *) echo "fuzz: unknown database $db" >&2; return 1 ;;
    esac

    echo "== fuzz [$db]: seeding"
    local seed=$WORK/seed-$db.json
    start_server "$url" "$SEED_TODAY"
    .venv/bin/python scripts/fuzz_seed.py setup "$BASE" "$seed" "$SEED_TODAY" ||
        { show_server_log; return 1; }
    stop_server
    # The hearings of the seeded cases are held on their day: restart on it.
    local hearing
    hearing=$(.venv/bin/python -c 'import json, sys; print(json.load(open(sys.argv[1]))["hearing"])' "$seed")
    start_server "$url" "$hearing"
    .venv/bin/python scripts/fuzz_seed.py later "$BASE" "$seed" || { show_server_log; return 1; }

    local role token rc
    for role in $ROLES; do
        echo "== fuzz [$db]: schemathesis as $role (max examples $MAX_EXAMPLES)"
        local args=(--config-file "$WORK/schemathesis.toml" run "$BASE/api/v1/openapi.json" --url "$BASE"
            --checks "$CHECKS"
            --phases examples,coverage,fuzzing
            --max-examples "$MAX_EXAMPLES" --workers "$WORKERS"
            --generation-database none --request-timeout 30 --no-color
            --report junit --report-junit-path "$WORK/junit-$db-$role.xml")
        if [ -n "${FUZZ_RANDOM_SEED:-}" ]; then
            args+=(--seed "$FUZZ_RANDOM_SEED")
        fi
        if [ "$role" != anonymous ]; then
            token=$(.venv/bin/python -c 'import json, sys; print(json.load(open(sys.argv[1]))["tokens"][sys.argv[2]])' "$seed" "$role")
            args+=(-H "Authorization: Bearer $token")
        fi
        rc=0
        FUZZ_SEED_FILE="$seed" FUZZ_ROLE="$role" SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$ROOT/scripts" \
            "$ST" "${args[@]}" >"$WORK/st-$db-$role.log" 2>&1 || rc=$?
        # The summary only, unless it failed.
        if [ "$rc" -ne 0 ]; then
            cat "$WORK/st-$db-$role.log"
            show_server_log
            failures+=("$db/$role")
        else
            grep -E '^  [0-9]+ generated' "$WORK/st-$db-$role.log" || true
            passed=$((passed + 1))
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "fuzz [$db]: the service died" >&2
            show_server_log
            failures+=("$db/server")
            break
        fi
    done
    stop_server
    drop_pg
    # Warnings and errors of the service itself, other than the expected ones (the pinned date,
    # deadlines breached by the seeded cases' clock), and panics.
    local unexpected
    unexpected=$(grep -E ' (WARN|ERROR) ldr|panicked' "$SERVER_LOG" |
        grep -vE 'LDR_TODAY pins|deadline breached' | head -n 20 || true)
    if [ -n "$unexpected" ]; then
        echo "fuzz [$db]: the server log holds unexpected warnings or errors:"
        echo "$unexpected"
        failures+=("$db/server-log")
    fi
}

for db in $DATABASES; do
    fuzz_database "$db"
done

elapsed=$(($(date +%s) - started))
if [ ${#failures[@]} -ne 0 ]; then
    echo "fuzz: FAILED (${elapsed}s): ${failures[*]}"
    echo "fuzz: $passed passed, ${#failures[@]} failed"
    exit 1
fi
echo "fuzz: every run passed (${elapsed}s; databases: $DATABASES; max examples $MAX_EXAMPLES)"
echo "fuzz: $passed passed, 0 failed"
