#!/bin/bash
# Instructions per request in the service, counted by callgrind (repeatable to about 0.1% for
# the same binary and database, whatever else the machine is doing).
#
#   benches/callgrind/requests.sh DB BINARY MODE N OFFSET
#
# DB: a PostgreSQL database seeded by the load tool and kept, e.g.
#   LOAD_KEEP=1 LOAD_DB=postgres LOAD_DISPUTES=2000 LOAD_OPS=get LOAD_CONNECTIONS=1 \
#     LOAD_SECONDS=1 cargo bench --bench load     # prints "kept PostgreSQL databases [...]"
# BINARY: the service to measure (copy target/release/ldr aside to compare two builds).
# MODE: get, note (add_note), assign (assign_mediator, which also queues and delivers a notice)
# or mine (the first page of GET /disputes?mine=true of the mediator with 500 cases).
# N requests on the disputes that are unassigned when it starts, from the OFFSET-th (an assign
# uses its dispute up, so the next run starts on fresh ones with the same OFFSET). One HTTP
# worker; a login and 20 requests of the same kind first, uncounted (prepared statements,
# caches); the notices' delivery is counted (3 s after).
# Prints the instructions of the whole process per request. Drop the database afterwards.
set -euo pipefail
db=$1 bin=$2 mode=$3 n=$4 off=$5
here=$(cd "$(dirname "$0")" && pwd)
export CG_WORK=${CG_WORK:-/tmp/ldr-callgrind}
mkdir -p "$CG_WORK"
url=postgres://postgres@127.0.0.1:5432/$db
psql -qAt "$url" -c "SELECT id FROM disputes WHERE mediator_id IS NULL ORDER BY id" > "$CG_WORK/ids.txt"
psql -qAt "$url" -c "SELECT id FROM users WHERE email = 'assigner@load.test'" > "$CG_WORK/assigner.id"
port=18557
out=$CG_WORK/callgrind.$mode.$$
LDR_DATABASE_URL=$url LDR_BIND=127.0.0.1:$port LDR_DATA_DIR=$CG_WORK/data LDR_MAIL_DIR=$CG_WORK/mail \
  LDR_JWT_SECRET=load-test-secret-load-test-secret-0123456789 LDR_TODAY=2026-03-02 LDR_WORKERS=1 \
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" "$bin" > "$CG_WORK/service.log" 2>&1 &
pid=$!
trap 'kill $pid 2> /dev/null || true' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.3; done
python3 "$here/client.py" $port login
python3 "$here/client.py" $port "$mode" 20 "$off"
sleep 2
callgrind_control -i on $pid > /dev/null 2>&1
python3 "$here/client.py" $port "$mode" "$n" $((off + 20))
sleep 3
callgrind_control -i off $pid > /dev/null 2>&1
callgrind_control -d $pid > /dev/null 2>&1
kill -INT $pid; wait $pid || true
trap - EXIT
total=$(cat "$out"* | awk '/^(summary|totals):/ {s += $2} END {print s}')
echo "$mode: $n requests, $total instructions, $((total / n)) per request ($(basename "$bin"))"
echo "profile: callgrind_annotate --inclusive=yes $(ls -S "$out"* | head -1)"
