#!/usr/bin/env bash
# One large report: how sitrep's time grows with the size of a single file.
#
#   scripts/bench-large.sh [MB...]        (default: 1 2 4)
#
# For each size it writes one report of about that many megabytes (4 is the largest under
# the default 4 MiB `max_bytes`) into target/bench-large/MB/, made of generated sentences:
# three invented names each (words of syllables drawn with a fixed seed) and something the
# frame lexicon knows (a withdrawal, a ceasefire, a meeting, an evacuation, a
# deployment), so the file brings tens of thousands of names and claims. Then it runs
# `sitrep ingest DIR --quiet` RUNS times and prints the median wall time and the peak
# memory. A report's cost should grow in proportion to its size: a doubling of the size
# that more than doubles the time means some step compares everything in the report with
# everything else.
#
# Environment: RUNS (default 3), PYTHON (default python3), CARGO_TARGET_DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-3}
PYTHON=${PYTHON:-python3}
OUT=target/bench-large
SITREP=${CARGO_TARGET_DIR:-target}/release/sitrep
TIME=/usr/bin/time

die() { echo "bench-large: $*" >&2; exit 1; }
[[ -x $TIME ]] || die "GNU time (/usr/bin/time) not found"
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later needed (EPOCHREALTIME)"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || die "RUNS must be 1 or more, not '$RUNS'"
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1 2 4)

cargo build --release --quiet

printf '%-6s %10s %10s %10s\n' MB bytes "wall s" "RSS MiB"
for mb in "${sizes[@]}"; do
  [[ $mb =~ ^[0-9]+$ && $mb -ge 1 ]] || die "sizes are whole megabytes: '$mb'"
  dir=$OUT/$mb
  rm -rf "$dir"
  mkdir -p "$dir"
  "$PYTHON" - "$mb" "$dir/digest.txt" <<'EOF'
import random, sys
mb, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(9)
syl = ["ka", "lo", "ve", "dra", "min", "tor", "sel", "bar", "qu", "ren", "zo", "mal", "tek", "vin", "ost", "har"]
def name():
    return "".join(rng.choice(syl) for _ in range(rng.randint(2, 3))).capitalize()
verbs = ["began withdrawing from", "completed the withdrawal from", "agreed a ceasefire in",
         "met officials in", "halted the evacuation of", "plans to deploy troops to"]
lines = ["date: 2031-05-02", "", "Regional digest", ""]
size, limit = 0, mb * 1_000_000 - 2_000
while size < limit:
    s = f"Forces of the {name()} Front {rng.choice(verbs)} {name()} on Monday, {name()} {name()} said."
    lines.append(s)
    size += len(s) + 1
with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
EOF
  bytes=$(stat -c %s "$dir/digest.txt")
  walls=()
  rss=0
  for _ in $(seq "$RUNS"); do
    # The decimal separator of EPOCHREALTIME follows the locale.
    t0=${EPOCHREALTIME/,/.}
    $TIME -f '%M' -o "$OUT/time.txt" "$SITREP" ingest "$dir" --quiet >/dev/null 2>"$OUT/log.txt" \
      || die "sitrep failed on $dir (see $OUT/log.txt)"
    t1=${EPOCHREALTIME/,/.}
    # A report over the size cap would be timed as a quick rejection.
    if grep -q "rejected" "$OUT/log.txt"; then
      die "the $mb MB report was rejected (see $OUT/log.txt): raise source.max_bytes or pick a smaller size"
    fi
    walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
    kb=$(tail -1 "$OUT/time.txt")
    (( kb > rss )) && rss=$kb
  done
  median=$(printf '%s\n' "${walls[@]}" | LC_ALL=C sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  printf '%-6s %10s %10.2f %10.0f\n' "$mb" "$bytes" "$median" "$((rss / 1024))"
done
