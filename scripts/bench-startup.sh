#!/usr/bin/env bash
# Start-up time after a restart, as the journal grows: the daemon's time from launch to
# "Ready." on a data directory holding N reports, with the snapshot (the normal case) and
# without it (every journal entry replayed: what start-up would cost without snapshots).
#
#   scripts/bench-startup.sh [N...]        (default: 10000 100000)
#
# For each N it writes N distinct reports (the Reuters-21578 files of
# target/bench-corpus/reuters, prepared by `scripts/bench-e2e.sh reuters`, cycled, each
# with a numbered closing line so no two are duplicates) into target/bench-startup/N/watch,
# lets `sitrep run` take them all, stops it with SIGTERM (which writes a snapshot), then
# restarts it RUNS times and reads the time to "Ready." from its log. Wall time is the
# whole process: launch, journal and snapshot reading, replay, the initial scan of the
# N files already in the watch folder.
#
# Environment: RUNS (default 3).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-3}
SRC=target/bench-corpus/reuters
OUT=target/bench-startup
SITREP=$PWD/target/release/sitrep

die() { echo "bench-startup: $*" >&2; exit 1; }
say() { echo "bench-startup: $*" >&2; }

[[ -d $SRC ]] || die "$SRC missing: run scripts/bench-e2e.sh reuters first"
cargo build --release --quiet
mkdir -p "$OUT"

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# Starts the daemon on $1 (folder with watch/ and data/), waits for "Ready.", prints the
# milliseconds it took, and leaves the pid in $1/pid (it may run in a subshell).
start_ready() {
  local dir=$1 log=$1/run.log t0 pid
  : >"$log"
  t0=$(now_ms)
  "$SITREP" run --watch-dir "$dir/watch" --data-dir "$dir/data" --quiet >/dev/null 2>"$log" &
  pid=$!
  echo "$pid" >"$dir/pid"
  until grep -q 'Ready\.' "$log"; do
    kill -0 "$pid" 2>/dev/null || die "daemon exited: $(tail -5 "$log")"
    sleep 0.01
  done
  echo $(( $(now_ms) - t0 ))
}

# Stops the daemon started on $1 and waits for it to exit.
stop() {
  local pid
  pid=$(cat "$1/pid")
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-8s %-10s %-12s %-12s %-14s %-16s\n' reports data_MiB snapshot_MiB "ready_ms" "replayed" "no_snapshot_ms"
for n in "${@:-10000 100000}"; do
  for n in $n; do
    dir=$OUT/$n
    rm -rf "$dir"
    mkdir -p "$dir/watch"
    say "writing $n reports"
    python3 - "$SRC" "$dir/watch" "$n" <<'PY'
import pathlib, sys
src, dst, n = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
files = sorted(src.glob("*.txt"))
for i in range(n):
    text = files[i % len(files)].read_bytes()
    (dst / f"{i:07d}.txt").write_bytes(text + f"\nReference {i} of the start-up benchmark.\n".encode())
PY
    say "first run: taking $n reports"
    : "$(start_ready "$dir")"  # in a subshell, like every start: the daemon is never our child
    until [[ $(grep -c '"type":"report\.' "$dir/data/events.ndjson" 2>/dev/null || echo 0) -ge $n ]]; do
      sleep 0.5
    done
    stop "$dir"
    data_mib=$(du -sm "$dir/data" | cut -f1)
    snap_mib=$(( $(stat -c %s "$dir/data/snapshot.json") / 1048576 ))
    times=()
    for ((r = 0; r < RUNS; r++)); do
      times+=("$(start_ready "$dir")")
      replayed=$(grep -o 'replayed=[0-9]*' "$dir/run.log" | head -1 | cut -d= -f2)
      stop "$dir"
    done
    ready=$(printf '%s\n' "${times[@]}" | median)
    # Without the snapshot: every entry replayed through the stages.
    mv "$dir/data/snapshot.json" "$dir/data/snapshot.json.aside"
    cold=$(start_ready "$dir")
    stop "$dir"
    # That run wrote a fresh snapshot; keep the original one.
    mv "$dir/data/snapshot.json.aside" "$dir/data/snapshot.json"
    printf '%-8s %-10s %-12s %-12s %-14s %-16s\n' "$n" "$data_mib" "$snap_mib" "$ready" "$replayed" "$cold"
  done
done
