#!/usr/bin/env bash
# The board's screenshots in docs/board/, from the end-to-end test setup: the real daemon on
# the seed story (../shared/seeds) and on one real-news storyline (../shared/eval/NAME),
# shown in headless Chromium (scripts/install-browser.sh installs it).
#
#   scripts/board-screenshots.sh [STORYLINE]     (default: israel-hezbollah-ceasefire-lebanon-2024)
#
# The pictures show the reports' evidence sentences as the board does; they are images of
# the board, and no report text is written into the repository otherwise.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

storyline=${1:-israel-hezbollah-ceasefire-lebanon-2024}
[[ -d ../shared/eval/$storyline ]] || { echo "board-screenshots: no storyline ../shared/eval/$storyline" >&2; exit 1; }
mkdir -p docs/board
SITREP_REQUIRE_BROWSER=1 SITREP_STORYLINE="$storyline" SITREP_SCREENSHOTS="$PWD/docs/board" \
  cargo test --locked --test it board_screenshots -- --ignored --nocapture 2>&1 \
  | grep -E '^(wrote|test result)'
