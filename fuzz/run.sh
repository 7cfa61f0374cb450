#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and prints executions and
# crashes per target (README, "Reliability"). Needs nightly and cargo-fuzz
# (`cargo install cargo-fuzz`); not run by CI.
#
#   fuzz/run.sh [seconds per target, default 600] [target...]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(names_round_trip names_parse front_end_bytes front_end_smith)
# The fuzz crate resolves the same versions as the workspace.
[ -f Cargo.lock ] || cp ../Cargo.lock Cargo.lock
cargo +nightly fuzz build -O "${targets[@]/#/}" >/dev/null 2>&1 || cargo +nightly fuzz build -O
printf '%-18s %12s %10s %s\n' target executions exec/s crashes
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  log=$(mktemp)
  # -fork would hide per-run counts: one process, a time limit, and keep
  # going after a crash is not what libFuzzer does, so a crash ends the run
  # and is reported.
  cargo +nightly fuzz run -O "$target" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || true
  execs=$(grep -m1 -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  rate=$(grep -m1 -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  crashes=$(find "artifacts/$target" -type f | wc -l)
  printf '%-18s %12s %10s %s\n' "$target" "$execs" "$rate" "$crashes"
  if [ "$crashes" -gt 0 ]; then
    grep -E "panicked|ERROR|SUMMARY" "$log" | head -5
  fi
  rm -f "$log"
done
