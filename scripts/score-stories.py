#!/usr/bin/env python3
"""Score sitrep's stories against storyline membership (B-cubed precision, recall, F1).

Usage:
    scripts/score-stories.py [--eval DIR] [--bbc DIR] [--bbc-files N] [--sitrep BIN]
                             [--config FILE] [--keep DIR] [--json]

Builds one folder from every storyline report under --eval (default ../shared/eval: each
sub-folder with an expected.json) and N files of the BBC News corpus (--bbc, default
../shared/data/corpus/bbc; N = 500, taken evenly over the name-sorted folder, so every
category is in). Each BBC file gets a `date:` header with the day of one of the storyline
reports, in turn, so that the distractors share the storylines' days; every file's name
starts with its day, so that the folder's name order (the order `ingest` reads it in) is
the order of publication. The files are written to a temporary folder (--keep DIR keeps
them there instead) and never into the repository.

Runs `BIN ingest FOLDER --state STATE --quiet` (default target/release/sitrep) and reads
each report's story from the snapshot. A report in no story is a cluster of its own.

Scores, B-cubed (Bagga and Baldwin 1998), averaged over the scored reports:

  main development   the reports each storyline's expected.json has a step for its main
                     development (D1) after: precision is the share of a report's story
                     that is of its storyline (BBC files and other storylines' reports are
                     wrong; its storyline's other reports neither), recall the share of its
                     storyline's main-development reports in its story
  all reports        every storyline report; precision the share of its story from its
                     storyline, recall the share of its storyline in its story

Prints both, then one line per storyline (its reports' story sizes). --json prints the
figures as JSON instead.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path


def build(eval_dir: Path, bbc_dir: Path, n_bbc: int, out: Path) -> tuple[dict, dict]:
    """Writes the mixed folder; returns file name -> storyline (or 'bbc'), and storyline ->
    names of its main-development reports."""
    owner: dict[str, str] = {}
    main: dict[str, set[str]] = defaultdict(set)
    days: list[str] = []
    for expected in sorted(eval_dir.glob("*/expected.json")):
        e = json.loads(expected.read_text(encoding="utf-8"))
        line = e["storyline"]
        d1 = {s["after"] for s in e.get("steps", []) if s.get("dev") == "D1"}
        for r in e["reports"]:
            name = f"{r['published']}_{line}_{r['file']}"
            (out / name).write_bytes((expected.parent / r["file"]).read_bytes())
            owner[name] = line
            days.append(r["published"])
            if r["file"] in d1:
                main[line].add(name)
    if not days:
        sys.exit(f"no storyline (expected.json) under {eval_dir}")
    bbc = sorted(p for p in bbc_dir.glob("*.txt") if not p.name.startswith("."))
    n = min(n_bbc, len(bbc))
    for i in range(n):
        src = bbc[i * len(bbc) // n]
        day = days[i % len(days)]
        name = f"{day}_bbc_{src.name}"
        text = src.read_text(encoding="utf-8", errors="replace")
        (out / name).write_text(f"date: {day}\n\n{text}", encoding="utf-8")
        owner[name] = "bbc"
    return owner, main


def b_cubed(items, predicted, gold, counts_against):
    """Mean precision and recall over `items`: predicted(i) and gold(i) are sets;
    counts_against(i, j) says whether j in i's cluster counts at all for precision."""
    p = r = 0.0
    for i in items:
        pred, g = predicted(i), gold(i)
        judged = {j for j in pred if counts_against(i, j)}
        p += len(judged & g) / max(1, len(judged))
        r += len(pred & g) / max(1, len(g))
    n = max(1, len(items))
    p, r = p / n, r / n
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> int:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", default=str(here / "../shared/eval"))
    ap.add_argument("--bbc", default=str(here / "../shared/data/corpus/bbc"))
    ap.add_argument("--bbc-files", type=int, default=500)
    ap.add_argument("--sitrep", default=str(here / "target/release/sitrep"))
    ap.add_argument("--config")
    ap.add_argument("--keep")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp) / "mix"
        folder.mkdir(parents=True, exist_ok=True)
        if any(folder.iterdir()):
            sys.exit(f"{folder} is not empty")
        owner, main_reports = build(Path(args.eval), Path(args.bbc), args.bbc_files, folder)
        state = Path(tmp) / "state.json"
        cmd = [args.sitrep] + (["--config", args.config] if args.config else [])
        cmd += ["ingest", str(folder), "--state", str(state), "--quiet"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            sys.stderr.write(run.stderr)
            return 2
        snapshot = json.loads(state.read_text(encoding="utf-8"))

    reports = {r["file"]: r for r in snapshot["reports"]}
    story_of = {f: (r.get("story") or "report:" + r["id"]) for f, r in reports.items()}
    members: dict[str, set[str]] = defaultdict(set)
    for f, s in story_of.items():
        members[s].add(f)
    line_of = {f: owner.get(f, "?") for f in reports}
    lines: dict[str, set[str]] = defaultdict(set)
    for f, l in line_of.items():
        if l != "bbc":
            lines[l].add(f)
    mains = {l: {f for f in fs if f in reports} for l, fs in main_reports.items()}

    main_items = sorted(f for fs in mains.values() for f in fs)
    main_scores = b_cubed(
        main_items,
        lambda f: members[story_of[f]],
        lambda f: mains[line_of[f]],
        # Another report of the same storyline, not about D1, is neither right nor wrong.
        lambda f, g: g in mains[line_of[f]] or line_of[g] != line_of[f],
    )
    all_items = sorted(f for fs in lines.values() for f in fs)
    all_scores = b_cubed(
        all_items,
        lambda f: members[story_of[f]],
        lambda f: lines[line_of[f]],
        lambda f, g: True,
    )
    result = {
        "reports": len(reports),
        "stories": len(snapshot.get("stories", [])),
        "main_development": dict(zip(("precision", "recall", "f1"), main_scores)),
        "all_reports": dict(zip(("precision", "recall", "f1"), all_scores)),
        "storylines": {
            l: [len(members[story_of[f]]) for f in sorted(fs)] for l, fs in sorted(lines.items())
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['reports']} reports ({len(all_items)} from storylines), "
          f"{result['stories']} stories")
    for name, (p, r, f1) in (("main development", main_scores), ("all reports", all_scores)):
        print(f"B-cubed, {name:16}: precision {p:.3f}  recall {r:.3f}  F1 {f1:.3f}")
    for l, fs in sorted(lines.items()):
        sizes = [len(members[story_of[f]]) for f in sorted(fs)]
        own = [len(members[story_of[f]] & fs) for f in sorted(fs)]
        print(f"  {l:46} story sizes {sizes}  of them from the storyline {own}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
