#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 600), one after another, and
# prints libFuzzer's closing figures (executions, speed, corpus size).
#   fuzz/run-all.sh 600                          # every target, 10 minutes each
#   TARGETS="ws_frame user_agent" fuzz/run-all.sh 60
# The corpus grows in fuzz/corpus/<target> (seeded from fuzz/seeds/<target>),
# crashes land in fuzz/artifacts/<target>/, logs in fuzz/logs/. Needs
# cargo-fuzz (`cargo install cargo-fuzz --locked`); stable Rust, no sanitizer.
set -euo pipefail

seconds="${1:-600}"
cd "$(dirname "$0")"
targets="${TARGETS:-init_data ws_frame json_bodies query_parsers user_agent ical}"
# The same flags every time, or cargo rebuilds the whole instrumented server.
build_flags=(-s none -O --codegen-units 16)

cargo fuzz build "${build_flags[@]}"
bin_dir="target/x86_64-unknown-linux-gnu/release"
mkdir -p logs

for target in $targets; do
    mkdir -p "corpus/$target" "artifacts/$target"
    log="logs/$target.log"
    echo "== $target: ${seconds}s"
    status=0
    "$bin_dir/$target" "corpus/$target" "seeds/$target" \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -artifact_prefix="artifacts/$target/" >"$log" 2>&1 || status=$?
    # libFuzzer's closing lines: "Done N runs in S second(s)" and its stat:: lines.
    grep -E '^(Done [0-9]+ runs|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))' "$log" || true
    echo "corpus files: $(find "corpus/$target" -type f | wc -l)"
    if [ "$status" -ne 0 ]; then
        echo "!! $target stopped with status $status: see $log and artifacts/$target/"
        grep -m1 -E 'panicked at|ERROR: libFuzzer' "$log" || true
    fi
done
