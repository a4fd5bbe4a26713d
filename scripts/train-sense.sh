#!/usr/bin/env bash
# Retrains the sense filter from `labels/triggers.jsonl` and writes `config/sense.model`.
#
#   scripts/train-sense.sh [DATA_DIR]        (default: ../shared/data)
#
# The labels name documents of four corpora by id: the BBC and Reuters-21578 JSON-lines
# corpora, the CoNLL-2003 training and validation splits (Reuters, 1996), and the
# real-news storylines (DATA_DIR/../eval). All must be given, in any order, or the labels
# on the missing ones are reported as unmatched. The same labels and corpora give the same
# model byte for byte (fixed seed). Rebuild afterwards: the binary compiles the model in.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
data=${1:-../shared/data}
cargo build --release --locked --quiet
target/release/sitrep train-sense labels/triggers.jsonl \
  "$data/corpus/bbc.jsonl" "$data/corpus/reuters21578.jsonl" \
  "$data/ner/train.txt" "$data/ner/valid.txt" "$data/../eval"
cargo build --release --locked --quiet
