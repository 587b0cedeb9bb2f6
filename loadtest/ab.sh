#!/usr/bin/env bash
# A/B: bookings/s of two (or more) server builds, alternating, a fresh
# database and a fresh release server per run, so each change is measured
# against the build before it in the same sitting.
#
#   loadtest/ab.sh sqlite|postgres ROUNDS SECONDS old-binary new-binary …
#
# (build the old one from a git worktree with a target directory of its own —
# e.g. CARGO_TARGET_DIR=/tmp/ab-target — and copy the binary out: sharing this
# one lets the worktree's `actors`/`justbookme` libraries overwrite ours under
# the same names, and cargo then links the old code into the next "new" build;
# if it happened: cargo clean --release -p actors -p justbookme).
# PostgreSQL: a scratch database jbm_ab on 127.0.0.1:5432 (user postgres).
set -u
backend=$1; rounds=$2; secs=$3; shift 3
loadtest=${LOADTEST:-target/release/loadtest}
dir=$(mktemp -d)
for r in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    rm -rf "$dir/db" && mkdir -p "$dir/db"
    if [ "$backend" = sqlite ]; then
      url="sqlite://$dir/db/jbm.db?mode=rwc"
    else
      psql -q -h 127.0.0.1 -U postgres -c 'DROP DATABASE IF EXISTS jbm_ab WITH (FORCE)' -c 'CREATE DATABASE jbm_ab' >/dev/null 2>&1
      url='postgres://postgres@127.0.0.1:5432/jbm_ab'
    fi
    DATABASE_URL=$url DEV_LOGIN=1 RATE_SIGN_IN_PER_MIN=0 RATE_BOOKING_PER_MIN=0 RATE_BOOKING_PER_IP_PER_MIN=0 \
      RATE_WS_CONNECT_PER_MIN=0 BIND_ADDR=127.0.0.1:18090 RUST_LOG=warn "$bin" > "$dir/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18090/healthz >/dev/null && break; sleep 0.1; done
    out=$("$loadtest" --url http://127.0.0.1:18090 throughput --providers 100 --seconds "$secs" 2>&1)
    rate=$(echo "$out" | grep -oE '[0-9.]+ bookings/s' | head -1)
    echo "$backend round $r $bin: $rate"
    kill "$pid"; wait "$pid" 2>/dev/null
  done
done
[ "$backend" = postgres ] && psql -q -h 127.0.0.1 -U postgres -c 'DROP DATABASE IF EXISTS jbm_ab WITH (FORCE)' >/dev/null 2>&1
rm -rf "$dir"
