#!/usr/bin/env python3
"""Write a JSONL news corpus out as a folder of report files, one per record.

Usage:
    scripts/corpus-to-files.py CORPUS.jsonl OUT_DIR [--limit N] [--clean] [--dateline]

Input: one JSON object per line with at least `title` and `body` (the benchmark corpora
`bbc.jsonl` and `reuters21578.jsonl` of ../shared/data/corpus; see its SOURCE.md).

Output, per record with a non-empty body, in record order: `OUT_DIR/<n>.txt`, `n` counting
from 1 and zero-padded to the width of the number of records (`00001.txt` ... for
Reuters), holding

    date: 1987-02-26T15:01:01Z      <- only when the record has a parseable `date`
                                     <- (blank line, ends the header block)
    <title>
                                     <- blank line
    <body>

The `date:` header is what sitrep's normalizer reads as the publication time. Reuters
dates look like `26-FEB-1987 15:01:01.79`, sometimes with trailing junk (`...35.68F`,
`... # date added by ...`); the timestamps have no zone and are taken as UTC, fractions of
a second are dropped, and a date whose time of day is impossible (`605:12:19`) keeps the
day only (`date: 1987-03-31`). Records without a `date` field (BBC) get no header.

`--dateline` puts a Reuters record's `dateline` (`SALVADOR, Feb 26 -`) back in front of
the body, as on the wire. Off by default: the files are then `title, blank, body`.

The output is a pure function of the input and the options (no clock, no randomness).
The folder must be empty or absent, unless `--clean` is given, which first deletes the
`*.txt` files in it. Files are UTF-8 with `\\n` line ends.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path

MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)}

DATE_RE = re.compile(
    r"^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4})(?:\s+(\d{1,3}):(\d{2}):(\d{2})(?:\.\d+)?)?")


def parse_date(value: object) -> str | None:
    """`26-FEB-1987 15:01:01.79` -> `1987-02-26T15:01:01Z`; day only when the time is bad;
    None when there is no valid day."""
    if not isinstance(value, str):
        return None
    m = DATE_RE.match(value)
    if not m:
        return None
    day, mon, year = int(m.group(1)), MONTHS.get(m.group(2).upper()), int(m.group(3))
    if mon is None:
        return None
    try:
        date = dt.date(year, mon, day)
    except ValueError:
        return None
    if m.group(4) is not None:
        try:
            t = dt.time(int(m.group(4)), int(m.group(5)), int(m.group(6)))
        except ValueError:
            return date.isoformat()
        return f"{date.isoformat()}T{t.isoformat()}Z"
    return date.isoformat()


def render(rec: dict, dateline: bool) -> str | None:
    body = str(rec.get("body") or "")
    if not body.strip():
        return None
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip("\n").rstrip()
    # One line; otherwise as given (Reuters titles are already collapsed, BBC ones kept
    # byte for byte so that bbc.jsonl gives back the files of bbc/).
    title = re.sub(r"\s*[\r\n]+\s*", " ", str(rec.get("title") or "")).strip()
    parts = []
    date = parse_date(rec.get("date"))
    if date:
        parts.append(f"date: {date}\n\n")
    if title:
        parts.append(f"{title}\n\n")
    line = " ".join(str(rec.get("dateline") or "").split()) if dateline else ""
    if line:
        body = f"{line} {body.lstrip()}"
    parts.append(body + "\n")
    return "".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="JSONL file (bbc.jsonl, reuters21578.jsonl)")
    ap.add_argument("out", type=Path, help="output folder")
    ap.add_argument("--limit", type=int, default=None,
                    help="stop after writing this many files")
    ap.add_argument("--clean", action="store_true",
                    help="delete *.txt already in the output folder first")
    ap.add_argument("--dateline", action="store_true",
                    help="prefix the body with the record's dateline")
    args = ap.parse_args()

    with args.corpus.open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]

    args.out.mkdir(parents=True, exist_ok=True)
    existing = sorted(args.out.glob("*.txt"))
    if existing:
        if not args.clean:
            print(f"{args.out}: already holds {len(existing)} .txt files (use --clean)",
                  file=sys.stderr)
            return 2
        for p in existing:
            p.unlink()

    width = len(str(len(records)))
    written = skipped = dated = 0
    for n, rec in enumerate(records, 1):
        if args.limit is not None and written >= args.limit:
            break
        text = render(rec, args.dateline)
        if text is None:
            skipped += 1
            continue
        dated += text.startswith("date: ")
        with (args.out / f"{n:0{width}d}.txt").open("w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        written += 1
    print(f"{args.out}: {written} files ({dated} with a date header), "
          f"{skipped} records skipped (empty body)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
