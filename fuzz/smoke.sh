#!/usr/bin/env bash
# Runs every fuzz target for a few seconds each (default 30), so that a
# regression shows up in CI. Uses the machine's stable toolchain with
# RUSTC_BOOTSTRAP=1, since cargo-fuzz needs unstable rustc flags.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-20}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
if [ ! -f Cargo.toml ]; then
  echo "fuzz/smoke.sh: no fuzz crate yet" >&2
  exit 0
fi
export RUSTC_BOOTSTRAP=1
for t in $(cargo fuzz list); do
  mkdir -p "corpus/$t"
  echo "-- fuzz target $t for ${secs}s"
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=4096 2>&1 | tail -n 5
done
