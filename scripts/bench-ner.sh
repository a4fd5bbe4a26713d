#!/usr/bin/env bash
# Entity tagging speed: sitrep's tagger against the peer's spaCy NER, on the same tokens,
# in one run.
#
#   scripts/bench-ner.sh [CONLL_FILE]        (default: ../shared/data/ner/valid.txt)
#
# 1. spaCy: scripts/ner-spacy-speed.py with the peer's model and pipes (en_core_web_sm,
#    NER only), nlp.pipe over one Doc per document built from the file's tokens (its
#    tokenizer does not run), batch size 16; one warm-up pass, the median of 3 passes.
# 2. sitrep: `cargo bench --bench ner` (criterion) on the same file: the tagger on the
#    same tokens, document by document (features, weights, Viterbi, document memory);
#    the median time per pass of `ner_tag/conll_valid` (word cache warm, as in a running
#    daemon) and `ner_tag/conll_valid_cold` (a new tagger, and cache, every pass).
# Both run on one thread: BLAS and OpenMP are held to one thread for spaCy (set
# SPACY_THREADS to change that), and the tagger is single-threaded.
#
# Environment:
#   PEER_DIR     peer folder                          (default ../shared/peer)
#   PEER_VENV    peer virtualenv (see bench-e2e.sh)   (default target/peer-venv)
#   SPACY_THREADS  threads for spaCy's BLAS/OpenMP    (default 1)
#
# The table goes to standard output and target/bench-ner/results.txt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DATA=${1:-../shared/data/ner/valid.txt}
PEER_DIR=${PEER_DIR:-../shared/peer}
PEER_VENV=${PEER_VENV:-target/peer-venv}
SPACY_THREADS=${SPACY_THREADS:-1}
OUT=target/bench-ner

die() { echo "bench-ner: $*" >&2; exit 1; }
say() { echo "bench-ner: $*" >&2; }

[[ -f $DATA ]] || die "$DATA not found"
[[ -f $PEER_DIR/peer.py ]] || die "peer not found in $PEER_DIR"
[[ -x $PEER_VENV/bin/python ]] \
  || die "no peer virtualenv in $PEER_VENV (scripts/bench-e2e.sh creates one; or set PEER_VENV)"
mkdir -p "$OUT"
data_abs=$(cd "$(dirname "$DATA")" && pwd)/$(basename "$DATA")

say "spaCy ($SPACY_THREADS thread(s)) on $DATA"
OMP_NUM_THREADS=$SPACY_THREADS OPENBLAS_NUM_THREADS=$SPACY_THREADS MKL_NUM_THREADS=$SPACY_THREADS \
  "$PEER_VENV/bin/python" scripts/ner-spacy-speed.py "$data_abs" --peer-dir "$PEER_DIR" \
  >"$OUT/spacy.json"

say "cargo bench --bench ner on $DATA"
SITREP_BENCH_NER=$data_abs cargo bench --quiet --bench ner -- ner_tag/ >"$OUT/criterion.txt" 2>&1 \
  || { tail -n 20 "$OUT/criterion.txt" >&2; die "cargo bench failed"; }

# Median nanoseconds per pass from criterion's estimates.
median_ns() {
  "$PEER_VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' \
    "target/criterion/$1/new/estimates.json"
}
warm=$(median_ns ner_tag/conll_valid)
cold=$(median_ns ner_tag/conll_valid_cold)

"$PEER_VENV/bin/python" - "$OUT/spacy.json" "$warm" "$cold" "$DATA" <<'PY' | tee "$OUT/results.txt"
import json, subprocess, sys
spacy = json.load(open(sys.argv[1]))
warm, cold, data = float(sys.argv[2]) / 1e9, float(sys.argv[3]) / 1e9, sys.argv[4]
tok = spacy["tokens"]
rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print(f"{data}: {spacy['documents']} documents, {tok} tokens; sitrep {rev or '?'}")
print(f"{'tagger':<44} {'s/pass':>8} {'tokens/s':>12} {'x spaCy':>8}")
sp = tok / spacy["seconds"]
rows = [
    (f"spaCy NER ({'+'.join(spacy['pipes'])}, nlp.pipe)", spacy["seconds"], sp),
    ("sitrep tagger, word cache warm", warm, tok / warm),
    ("sitrep tagger, new tagger every pass", cold, tok / cold),
]
for name, s, r in rows:
    print(f"{name:<44} {s:>8.4f} {r:>12,.0f} {r / sp:>7.1f}x")
PY
