"""What hiding the records that hang off restricted ones costs a page of items, and a count.

A server reads every layer through ``sapper.store.query.where_sql``, which also leaves out the
rows whose links (an item's hazard and team) name another organisation's restricted record.
This times an items page (a 500 m window, 100 features, in id order) and a count of the whole
layer as one user sees them, with the link checks and without them (the record's own
``restricted`` flag only, as before), on GeoPackage and PostGIS.

    python bench/visibility_bench.py                      # 100,000 items, 1,000 hazards (10 % restricted)
    python bench/visibility_bench.py --items 20000 --backends gpkg

The data is synthetic (an assumption, not a survey): items scattered around Tadmur.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from shapely.geometry import Point, box

from sapper.model.records import Hazard, Item, Team
from sapper.store import init_register, query
from sapper.store.schema import layer
from sapper.testing.postgis import Cluster

LON, LAT = 38.272, 34.556  # Tadmur town centre
WINDOW = 0.005  # degrees, about 500 m


def build(target: str, n_items: int, n_hazards: int, seed: int) -> None:
    rnd = random.Random(seed)
    reg = init_register(target, user="bench")
    try:
        teams = reg.add_many(
            [Team(name=f"T{i}", kind="manual", geometry=Point(LON, LAT), organisation="mac") for i in range(20)]
        )
        side = 40
        hazards = reg.add_many(
            [
                Hazard(
                    name=f"H{i}",
                    geometry=box(*_cell(i, side), *(v + 0.0015 for v in _cell(i, side))),
                    organisation="ngo" if i % 10 == 0 else "mac",
                    restricted=i % 10 == 0,
                )
                for i in range(n_hazards)
            ]
        )
        items = [
            Item(
                category="uxo",
                geometry=Point(LON + rnd.random() * 0.08, LAT + rnd.random() * 0.05),
                hazard_id=hazards[rnd.randrange(n_hazards)].id,
                team_id=teams[rnd.randrange(len(teams))].id,
                organisation="mac",
                found_on=date(2016, 4, 1),
            )
            for _ in range(n_items)
        ]
        reg.add_many(items)
        if not target.endswith(".gpkg"):
            reg.backend.execute("ANALYZE")
    finally:
        reg.close()


def _cell(i: int, side: int) -> tuple[float, float]:
    return LON + (i % side) * 0.002, LAT + (i // side) * 0.002


def measure(target: str, pages: int, seed: int) -> dict[str, tuple[float, float]]:
    """Median page and count times (ms), with and without the link checks."""
    from sapper.store import open_register

    reg = open_register(target)
    lay = layer("item")
    links = dict(query.PARENTS)
    out: dict[str, list[tuple[float, float]]] = {"links checked": [], "own flag only": []}
    try:
        for label in ["own flag only", "links checked"] * 3:  # alternated: the machine's load weighs on both
            if label == "own flag only":
                query.PARENTS.clear()
            rnd = random.Random(seed)
            page_s = []
            for _ in range(pages):
                x, y = LON + rnd.random() * 0.075, LAT + rnd.random() * 0.045
                flt = query.Filter(bbox=(x, y, x + WINDOW, y + WINDOW), organisation="mac")
                start = time.perf_counter()
                query.select(reg.backend, lay, flt, limit=100)
                page_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            query.count(reg.backend, lay, query.Filter(organisation="mac"))
            out[label].append((statistics.median(page_s) * 1000, (time.perf_counter() - start) * 1000))
            query.PARENTS.update(links)
    finally:
        query.PARENTS.update(links)
        reg.close()
    return {k: (statistics.median(p for p, _ in v), statistics.median(c for _, c in v)) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--hazards", type=int, default=1_000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--backends", default="gpkg,postgis")
    parser.add_argument("--seed", type=int, default=2016)
    args = parser.parse_args()
    backends = args.backends.split(",")
    print(f"{args.items:,} items, {args.hazards:,} hazards (10 % restricted, of another organisation)")
    print("| backend | filter | page of 100 in a window, p50 ms | count of the layer, ms |")
    print("|---|---|---|---|")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        cluster = stack.enter_context(Cluster()) if "postgis" in backends else None
        for backend in backends:
            target = str(work / "r.gpkg") if backend == "gpkg" else cluster.new_database()  # type: ignore[union-attr]
            build(target, args.items, args.hazards, args.seed)
            for label, (page, count) in measure(target, args.pages, args.seed).items():
                print(f"| {backend} | {label} | {page:.2f} | {count:.0f} |")


if __name__ == "__main__":
    main()
