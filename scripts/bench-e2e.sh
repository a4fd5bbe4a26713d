#!/usr/bin/env bash
# End-to-end throughput: sitrep against the Python peer on real news folders.
#
#   scripts/bench-e2e.sh [bbc|reuters|all]        (default: bbc)
#
# Builds `cargo build --release`, prepares the input folders, then per corpus runs
#   target/release/sitrep ingest DIR --quiet
#   $PEER_VENV/bin/python ../shared/peer/peer.py batch DIR --out FILE
# each under /usr/bin/time -v, and prints one table: files, MB, wall seconds, reports/s,
# MB/s, peak RSS and the sitrep/peer ratio of reports/s. Wall time is the whole process
# (start-up and, for the peer, model loading included); every file counts as a report,
# duplicates included.
#
# Corpora (../shared/data/corpus beside the checkout, see its SOURCE.md):
#   bbc      the bbc/ folder as it is (2,225 files)
#   reuters  reuters21578.jsonl written out by scripts/corpus-to-files.py into
#            target/bench-corpus/reuters (19,043 files, `date:` header, title, body)
#
# Environment:
#   CORPUS_DIR    corpus folder               (default ../shared/data/corpus)
#   PEER_DIR      peer folder                 (default ../shared/peer)
#   PEER_VENV     peer virtualenv, created with `python3 -m venv` and pip when missing
#                 (default target/peer-venv)
#   PYTHON        interpreter for that venv   (default python3; the peer wants 3.11)
#   PEER_LIMIT    run the peer on the first N files only. Default: all of bbc, the first
#                 2225 of reuters (the full 19k would take the peer about 20 minutes).
#   PEER_FULL=1   run the peer on every file, whatever PEER_LIMIT says
#   SKIP_PEER=1   sitrep only
#   SITREP_RUNS   sitrep runs per corpus; the table shows the median (default 5)
#
# Relative paths are taken from the repository root. Logs, the peer's events and the
# table go to target/bench-e2e/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CORPUS_DIR=${CORPUS_DIR:-../shared/data/corpus}
PEER_DIR=${PEER_DIR:-../shared/peer}
PEER_VENV=${PEER_VENV:-target/peer-venv}
PYTHON=${PYTHON:-python3}
PEER_FULL=${PEER_FULL:-0}
SKIP_PEER=${SKIP_PEER:-0}
SITREP_RUNS=${SITREP_RUNS:-5}
PREP=target/bench-corpus
OUT=target/bench-e2e
SITREP=target/release/sitrep
TIME=/usr/bin/time

die() { echo "bench-e2e: $*" >&2; exit 1; }
say() { echo "bench-e2e: $*" >&2; }

case "${1:-bbc}" in
  bbc) corpora=(bbc) ;;
  reuters) corpora=(reuters) ;;
  all) corpora=(bbc reuters) ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown corpus '$1' (bbc, reuters or all)" ;;
esac
[[ $# -le 1 ]] || die "one argument at most"
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later needed (EPOCHREALTIME)"
[[ -x $TIME ]] || die "$TIME not found (GNU time; apt-get install time)"
[[ -d $CORPUS_DIR ]] || die "corpus folder $CORPUS_DIR not found"
[[ $SITREP_RUNS =~ ^[1-9][0-9]*$ ]] || die "SITREP_RUNS must be a positive number"
if [[ -n ${PEER_LIMIT:-} && ! $PEER_LIMIT =~ ^[1-9][0-9]*$ ]]; then
  die "PEER_LIMIT must be a positive number"
fi

mkdir -p "$PREP" "$OUT"

say "cargo build --release"
cargo build --release --quiet
[[ -x $SITREP ]] || die "$SITREP missing after the build"

# --- the peer's virtualenv ----------------------------------------------------------
# An existing venv is used as it is when it has the peer's packages; it is never deleted.
peer_ready() {
  [[ -x $PEER_VENV/bin/python ]] \
    && "$PEER_VENV/bin/python" -c 'import spacy, datasketch, watchdog' 2>/dev/null
}
ensure_peer() {
  [[ -f $PEER_DIR/peer.py && -f $PEER_DIR/requirements.txt ]] \
    || die "peer not found in $PEER_DIR"
  if peer_ready; then return 0; fi
  if [[ ! -x $PEER_VENV/bin/python ]]; then
    say "creating the peer venv in $PEER_VENV"
    "$PYTHON" -m venv "$PEER_VENV"
  fi
  say "installing the peer's requirements into $PEER_VENV (a few minutes)"
  "$PEER_VENV/bin/pip" install --quiet --disable-pip-version-check \
    --only-binary :all: -r "$PEER_DIR/requirements.txt"
  peer_ready || die "the peer venv $PEER_VENV still lacks spacy/datasketch/watchdog"
}
[[ $SKIP_PEER == 1 ]] || ensure_peer

# --- input folders --------------------------------------------------------------------
# Prints the folder for a corpus, writing it first when needed.
prepare() {
  case "$1" in
    bbc)
      [[ -d $CORPUS_DIR/bbc ]] || die "$CORPUS_DIR/bbc not found"
      echo "$CORPUS_DIR/bbc"
      ;;
    reuters)
      local src=$CORPUS_DIR/reuters21578.jsonl dir=$PREP/reuters
      local stamp=$PREP/reuters.stamp script=scripts/corpus-to-files.py
      [[ -f $src ]] || die "$src not found"
      if [[ ! -f $stamp || $src -nt $stamp || $script -nt $stamp || ! -d $dir ]]; then
        say "writing $dir from $src"
        rm -f "$stamp"
        "$PYTHON" "$script" "$src" "$dir" --clean >&2
        touch "$stamp"
      fi
      echo "$dir"
      ;;
  esac
}

# The first $2 report files of folder $1 (name order), hard-linked (or copied) into a
# folder of their own; prints that folder.
first_n() {
  local dir=$1 n=$2 sub
  sub=$PREP/$(basename "$dir")-first$n
  if [[ ! -d $sub || $(count_files "$sub") -ne $n ]]; then
    rm -rf "$sub"
    mkdir -p "$sub"
    # awk, not head: head would end the pipe early and pipefail would see a SIGPIPE.
    list_files "$dir" | awk -v n="$n" 'NR <= n' | while IFS= read -r f; do
      ln "$f" "$sub/" 2>/dev/null || cp "$f" "$sub/"
    done
  fi
  echo "$sub"
}

# Report files of a folder (top level, *.txt, not hidden), in name order.
list_files() { find "$1" -maxdepth 1 -type f -name '*.txt' ! -name '.*' -print | LC_ALL=C sort; }
count_files() { list_files "$1" | wc -l | tr -d ' '; }
# Total size in bytes.
total_bytes() { list_files "$1" | tr '\n' '\0' | xargs -0 cat | wc -c | tr -d ' '; }
# Reads the files once so that neither tool pays for a cold page cache.
warm_cache() { list_files "$1" | tr '\n' '\0' | xargs -0 cat >/dev/null; }

# --- measuring ------------------------------------------------------------------------
# timed LOG_PREFIX CMD...: runs CMD under time -v; prints "wall_seconds rss_kib". The wall
# time is read from the shell's microsecond clock around the run: time -v prints only
# hundredths, a step of 3% on a run of a third of a second. The clock also counts time's
# own start-up, which is under a millisecond.
timed() {
  local prefix=$1 t0 t1
  shift
  t0=${EPOCHREALTIME/,/.}
  if ! "$TIME" -v -o "$prefix.time" "$@" >"$prefix.stdout" 2>"$prefix.stderr"; then
    tail -n 20 "$prefix.stderr" >&2 || true
    die "failed: $* (logs: $prefix.*)"
  fi
  t1=${EPOCHREALTIME/,/.}
  awk -F': ' -v t0="$t0" -v t1="$t1" '
    /Maximum resident set size/ { rss = $2 }
    END { printf "%.3f %d\n", t1 - t0, rss }
  ' "$prefix.time"
}

rows=()
notes=()
# row CORPUS FILES BYTES TOOL WALL RSS_KIB RATIO
row() {
  rows+=("$(awk -v c="$1" -v f="$2" -v b="$3" -v t="$4" -v w="$5" -v r="$6" -v x="$7" '
    BEGIN {
      mb = b / 1e6; rate = (w > 0) ? f / w : 0; mbs = (w > 0) ? mb / w : 0
      printf "%-22s %7d %7.1f  %-6s %8.3f %10.1f %7.2f %10.0f  %s\n",
        c, f, mb, t, w, rate, mbs, r / 1024, x
    }')")
}
rate() { awk -v f="$1" -v w="$2" 'BEGIN { printf "%.6f", (w > 0) ? f / w : 0 }'; }

for corpus in "${corpora[@]}"; do
  dir=$(prepare "$corpus")
  files=$(count_files "$dir")
  bytes=$(total_bytes "$dir")
  [[ $files -gt 0 ]] || die "$dir holds no .txt files"
  warm_cache "$dir"

  # sitrep: SITREP_RUNS runs, the median by wall time.
  results=()
  for ((i = 1; i <= SITREP_RUNS; i++)); do
    say "$corpus: sitrep run $i/$SITREP_RUNS on $files files"
    r=$(timed "$OUT/$corpus.sitrep" "$SITREP" ingest "$dir" --quiet)
    results+=("$r")
  done
  median=$(printf '%s\n' "${results[@]}" | LC_ALL=C sort -n | sed -n "$(((SITREP_RUNS + 1) / 2))p")
  read -r s_wall s_rss <<<"$median"
  s_rate=$(rate "$files" "$s_wall")
  row "$corpus" "$files" "$bytes" sitrep "$s_wall" "$s_rss" ""

  [[ $SKIP_PEER == 1 ]] && continue

  # The peer: everything, or the first PEER_LIMIT files.
  limit=${PEER_LIMIT:-}
  [[ $corpus == reuters && -z $limit ]] && limit=2225
  [[ $PEER_FULL == 1 ]] && limit=
  p_dir=$dir p_label=$corpus p_files=$files p_bytes=$bytes
  if [[ -n $limit && $limit -lt $files ]]; then
    p_dir=$(first_n "$dir" "$limit")
    p_files=$(count_files "$p_dir")
    p_bytes=$(total_bytes "$p_dir")
    p_label="$corpus (first $p_files)"
    notes+=("peer on $corpus: first $p_files of $files files only (PEER_FULL=1 for all); the ratio compares rates")
    warm_cache "$p_dir"
  fi
  say "$corpus: peer on $p_files files (a minute or more for BBC)"
  r=$(timed "$OUT/$corpus.peer" \
    "$PEER_VENV/bin/python" "$PEER_DIR/peer.py" batch "$p_dir" --out "$OUT/$corpus.peer.events.jsonl")
  read -r p_wall p_rss <<<"$r"
  p_rate=$(rate "$p_files" "$p_wall")
  ratio=$(awk -v s="$s_rate" -v p="$p_rate" 'BEGIN { if (p > 0) printf "%.1fx", s / p; else print "-" }')
  row "$p_label" "$p_files" "$p_bytes" peer "$p_wall" "$p_rss" "$ratio"
done

{
  echo "sitrep $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo '+dirty'), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
  printf '%-22s %7s %7s  %-6s %8s %10s %7s %10s  %s\n' \
    corpus files MB tool "wall s" reports/s MB/s "RSS MiB" "sitrep/peer (reports/s)"
  printf '%s\n' "${rows[@]}"
  echo "wall = whole process (peer: model load included); sitrep = median of $SITREP_RUNS runs; MB = 10^6 bytes"
  for n in "${notes[@]+"${notes[@]}"}"; do echo "note: $n"; done
} | tee "$OUT/results.txt"
