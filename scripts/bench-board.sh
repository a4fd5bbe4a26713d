#!/usr/bin/env bash
# The board's first view with a thousand developments, against the release build.
#
#   scripts/bench-board.sh            (RUNS=3 by default)
#
# Runs the end-to-end test `the_board_first_view_with_a_thousand_developments` RUNS times
# with the release daemon (SITREP_BIN): 300 invented reports make over 1,000 developments, then
# headless Chromium (scripts/install-browser.sh) loads the board five times in each run and
# the page reports, after navigation start, when its first view was built and when it was
# on the screen, and how long /situation took. Prints each run's line.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-3}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || { echo "bench-board: RUNS must be 1 or more" >&2; exit 1; }
cargo build --release --locked --quiet
bin=$(realpath "${CARGO_TARGET_DIR:-target}/release/sitrep")
for _ in $(seq "$RUNS"); do
  SITREP_REQUIRE_BROWSER=1 SITREP_BIN="$bin" \
    cargo test --locked --quiet --test it the_board_first_view_with_a_thousand_developments -- --nocapture 2>&1 \
    | grep '^board first view'
done
