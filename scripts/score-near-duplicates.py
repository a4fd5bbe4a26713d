#!/usr/bin/env python3
"""Score sitrep's duplicate and near-duplicate events against a generated load's manifest.

Usage:
    scripts/score-near-duplicates.py DIR [--manifest FILE] [--sitrep BIN] [--events FILE]

DIR is a folder written by the peer's load generator (`gen_load.py SEEDS DIR --n 2000
--seed 1`, beside the checkout in ../shared/peer/), whose manifest (`DIR.manifest.jsonl`
by default) says what each file is: `seed` and `novel` (originals), `exact` (an original
re-sent with cosmetic changes only: line endings, spaces, quotes, NFD, blank lines, an
`UPDATE` title prefix) or `near` (an original with 0.5-1.5% of its words edited), with the
original it was made from (`source`).

Runs `BIN ingest DIR` (default target/release/sitrep; `--events` reads the events of an
earlier run instead) and counts, per kind, how the files came out: `report.accepted`,
`report.duplicate` or `report.near_duplicate`. For a near duplicate it also checks the
report it names: right when that report was made from the same original (a copy of a copy
names either). Prints a table and the three figures the project holds itself to: near
duplicates reported as `report.near_duplicate`, cosmetic re-sends reported as a duplicate
or near duplicate, and originals reported as either (which must be none). Exit status 1
when a file of the manifest has no event, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

OUTCOMES = {
    "report.accepted": "accepted",
    "report.duplicate": "duplicate",
    "report.near_duplicate": "near_duplicate",
}


def read_events(lines) -> dict[str, dict]:
    """File name -> the report event about it (the last one, should a file come twice)."""
    out = {}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        ev = json.loads(line)
        kind = OUTCOMES.get(ev.get("type"))
        if kind:
            data = ev.get("data", {})
            out[data.get("file")] = {"outcome": kind, "id": ev.get("subject"), **data}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--manifest")
    ap.add_argument("--sitrep", default="target/release/sitrep")
    ap.add_argument("--events", help="read these events instead of running sitrep")
    args = ap.parse_args()

    manifest = Path(args.manifest or args.dir.rstrip("/") + ".manifest.jsonl")
    rows = [json.loads(l) for l in manifest.read_text(encoding="utf-8").splitlines() if l.strip()]
    if args.events:
        with open(args.events, encoding="utf-8") as f:
            events = read_events(f)
    else:
        run = subprocess.run([args.sitrep, "ingest", args.dir], capture_output=True, text=True)
        if run.returncode != 0:
            sys.stderr.write(run.stderr)
            return 2
        events = read_events(run.stdout.splitlines())

    # Which original each file was made from (an original is its own).
    root = {}
    for r in rows:
        root[r["file"]] = r["file"] if r["kind"] in ("seed", "novel") else root.get(r["source"], r["source"])
    by_id = {e["id"]: f for f, e in events.items() if e["outcome"] != "duplicate"}

    table = Counter()
    missing = []
    wrong_original = []
    flagged_originals = []
    for r in rows:
        e = events.get(r["file"])
        if e is None:
            missing.append(r["file"])
            continue
        table[(r["kind"], e["outcome"])] += 1
        if r["kind"] in ("seed", "novel") and e["outcome"] != "accepted":
            flagged_originals.append((r["file"], e.get("duplicate_of"), e.get("similarity")))
        if e["outcome"] == "near_duplicate":
            named = by_id.get(e.get("duplicate_of"))
            if named is None or root.get(named) != root[r["file"]]:
                wrong_original.append((r["file"], named))

    kinds = [k for k in ("seed", "novel", "exact", "near") if any(t[0] == k for t in table)]
    print(f"{'kind':8} {'files':>6} {'accepted':>9} {'duplicate':>10} {'near_dup':>9}")
    for k in kinds:
        n = sum(v for (kk, _), v in table.items() if kk == k)
        print(f"{k:8} {n:6d} {table[(k, 'accepted')]:9d} {table[(k, 'duplicate')]:10d} "
              f"{table[(k, 'near_duplicate')]:9d}")

    def share(kind: str, outcomes: tuple[str, ...]) -> str:
        n = sum(v for (k, _), v in table.items() if k == kind)
        hit = sum(table[(kind, o)] for o in outcomes)
        return f"{hit}/{n} ({100 * hit / max(1, n):.1f}%)"

    print(f"near duplicates as report.near_duplicate: {share('near', ('near_duplicate',))}")
    print(f"cosmetic re-sends as duplicate or near duplicate: "
          f"{share('exact', ('duplicate', 'near_duplicate'))}")
    originals = sum(v for (k, _), v in table.items() if k in ("seed", "novel"))
    print(f"originals flagged: {len(flagged_originals)}/{originals}")
    near_named = sum(v for (_, o), v in table.items() if o == "near_duplicate")
    print(f"near duplicates naming a report of the same original: "
          f"{near_named - len(wrong_original)}/{near_named}")
    for f, of, sim in flagged_originals[:10]:
        print(f"  original flagged: {f} (of {of}, similarity {sim})")
    for f, named in wrong_original[:10]:
        print(f"  names another original: {f} -> {named}")
    if missing:
        print(f"files without a report event: {len(missing)} (first: {missing[0]})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
