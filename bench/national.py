"""A synthetic national register: 200,000 hazards, 5,000,000 items, 2,000 teams over Syria's extent.

SYNTHETIC DATA (an assumption, not a survey): every record's notes say so. Hazards crowd
around towns (the Palmyra pattern of generate.py: neighbourhoods near the centre and a
spread over 18 x 11 km, moved to each town), with a share spread over the whole country;
items lie in and around hazards; teams are based in the towns, in proportion to the
hazards there. Towns and their weights are in TOWNS. It goes through sapper's own file
importer (``sapper.formats.import_file``: checks, metric areas, an audit entry per
record, all or nothing), into a GeoPackage and/or a PostGIS database, and times each
layer. ``--tiles`` then times vector tiles at national zooms (z5-z7) over real HTTP: built, cached, and
asked again after an item is added elsewhere in the country or in the tile (the field teams' writes; the
kept tile is then served stale while it is built again, and the time until the new one is served).

    python bench/national.py --scale 0.01                     # 2,000 hazards, 50,000 items, 20 teams
    python bench/national.py --scale 0.01 --tiles --backends gpkg,postgis
    python bench/national.py --keep /some/dir/national.gpkg    # keep the GeoPackage (to plan or view it)
    python bench/national.py                                  # the whole country: tens of minutes
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import generate
import httpx
import numpy as np
import register_imports as imports
import shapely
import tile_timing
from shapely.geometry import Point
from tiles_bench import tile_of

from sapper.model.records import Item
from sapper.server import create_app
from sapper.store import open_register
from sapper.testing.postgis import Cluster
from sapper.testing.server import serving

HAZARDS, ITEMS, TEAMS = 200_000, 5_000_000, 2_000  # the national register
EXTENT = (35.7, 32.3, 42.4, 37.3)  # Syria, roughly: lon 35.7-42.4 E, lat 32.3-37.3 N
NOTE = "synthetic (bench/national.py), not a survey"
# Approximate town centres (lon, lat; rounded from public maps) and their share of the hazards:
# the shares are ASSUMPTIONS of this synthetic data set, not published figures.
TOWNS = {
    "Aleppo": (37.16, 36.20, 0.14),
    "Homs": (36.72, 34.73, 0.10),
    "Damascus": (36.29, 33.51, 0.08),
    "Raqqa": (39.01, 35.95, 0.10),
    "Deir ez-Zor": (40.14, 35.33, 0.09),
    "Idlib": (36.63, 35.93, 0.07),
    "Hama": (36.75, 35.13, 0.06),
    "Palmyra": (38.27, 34.56, 0.06),
    "Daraa": (36.10, 32.62, 0.05),
    "Manbij": (37.95, 36.53, 0.04),
    "Al-Bab": (37.52, 36.37, 0.04),
    "Tabqa": (38.55, 35.84, 0.03),
    "Abu Kamal": (40.92, 34.45, 0.03),
    "Al-Hasakah": (40.75, 36.50, 0.02),
    "Qamishli": (41.23, 37.05, 0.02),
    "Latakia": (35.78, 35.52, 0.02),
}
RURAL_SHARE = 0.05  # hazards spread evenly over the country, outside the towns (assumption)
TEAM_KINDS = (["manual", "dog", "robot", "mechanical", "eod", "survey"], [0.5, 0.1, 0.08, 0.07, 0.15, 0.1])
ZOOMS = (5, 6, 7)  # national zooms: z5 holds the whole north of the country in one tile


def places(rng: np.random.Generator, n: int) -> np.ndarray:
    """Where each hazard's Palmyra-pattern centre moves: a town (by weight) or anywhere in the country."""
    lon, lat, weight = (np.array(v) for v in zip(*TOWNS.values(), strict=True))
    town = rng.choice(len(weight), size=n, p=weight / weight.sum())
    where = np.column_stack([lon[town], lat[town]])
    rural = rng.random(n) < RURAL_SHARE
    minx, miny, maxx, maxy = EXTENT
    margin = 0.15  # the Palmyra pattern reaches about 0.1 degree around its centre: stays inside the extent
    lons, lats = rng.uniform(minx + margin, maxx - margin, n), rng.uniform(miny + margin, maxy - margin, n)
    where[rural] = np.column_stack([lons, lats])[rural]
    return where


def moved(polygons: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each polygon shifted by its own (dlon, dlat)."""
    coords, index = shapely.get_coordinates(polygons, return_index=True)
    return shapely.set_coordinates(polygons.copy(), coords + offsets[index])


def teams(rng: np.random.Generator, n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    where = places(rng, n) + rng.normal(0.0, 0.05, (n, 2))  # bases within a few km of a town
    kind = generate._choice(rng, TEAM_KINDS, n)
    fields = {
        "source_key": generate._keys("NAT-T-", n),
        "organisation": np.full(n, "MAC", dtype=object),
        "name": np.asarray([f"{k} team {i + 1}" for i, k in enumerate(kind)], dtype=object),
        "kind": kind,
        "personnel": rng.integers(4, 13, n),
        "notes": np.full(n, NOTE, dtype=object),
    }
    return shapely.points(where), fields


def write_source(path: Path, n_hazards: int, n_items: int, n_teams: int, seed: int) -> Path:
    """The source GeoPackage: layers hazards, items and teams in sapper's field names."""
    rng = np.random.default_rng(seed)
    polygons, shape, hazard_fields = generate.hazards(rng, n_hazards)
    offsets = places(rng, n_hazards) - np.asarray(generate.TOWN)
    polygons = moved(polygons, offsets)
    shape[:, :2] += offsets
    hazard_fields["source_key"] = generate._keys("NAT-H-", n_hazards)
    hazard_fields["notes"] = np.full(n_hazards, NOTE, dtype=object)
    points, item_fields = generate.items(rng, n_items, shape)
    item_fields["source_key"] = generate._keys("NAT-I-", n_items)
    item_fields["notes"] = np.full(n_items, NOTE, dtype=object)
    bases, team_fields = teams(rng, n_teams)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    generate.write_layer(path, "hazards", polygons, hazard_fields, "Polygon")
    generate.write_layer(path, "items", points, item_fields, "Point")
    generate.write_layer(path, "teams", bases, team_fields, "Point")
    return path


def import_all(source: Path, target: str, counts: dict[str, int]) -> None:
    """Each layer through sapper's importer, timed."""
    for layer in ("teams", "hazards", "items"):
        seconds = imports.sapper_import_file(source, layer, target)
        rate = counts[layer] / seconds if seconds else 0.0
        print(f"  import {layer:<8} {counts[layer]:>10,} in {seconds:8.1f} s  ({rate:,.0f} a second)", flush=True)


def tile_times(target: str, repeat: int, stale_s: float) -> None:
    """p50/p95 of tiles at national zooms over the largest town, as an anonymous visitor: built (cold),
    from the tile cache (warm), and the peer (a plain ST_AsMVT of every feature, PostGIS only); then
    items tiles asked again after an item is added far away, and after one is added in the tile."""
    lon, lat, _ = max(TOWNS.values(), key=lambda t: t[2])
    postgis = target.startswith("postgresql://")
    print("\n  | tile | cold p50 | cold p95 | warm p50 | warm p95 | size | peer p50 | peer p95 | peer size |")
    print("  |---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with (
        serving(create_app(target, public=True, tile_stale_s=stale_s)) as server,
        httpx.Client(base_url=server.url, timeout=600) as client,
    ):
        for name in ("hazards", "items"):
            for zoom in ZOOMS:
                tile = tile_of(lon, lat, zoom)
                app = tile_timing.cold_and_warm(client, target, name, tile, repeat)
                other = tile_timing.peer(target, name, tile, repeat) if postgis else None
                cells = [f"{app[k]:,.1f}" for k in ("cold p50", "cold p95", "warm p50", "warm p95")]
                cells.append(f"{app['size'] / 1024:,.1f} KiB")
                if other:
                    cells += [f"{other['p50']:,.1f}", f"{other['p95']:,.1f}", f"{other['size'] / 1024:,.0f} KiB"]
                else:
                    cells += ["", "", ""]
                print(f"  | {name} z{tile[0]}/{tile[1]}/{tile[2]} | {' | '.join(cells)} |", flush=True)
        after_writes(client, target, (lon, lat), repeat)


def after_writes(client: httpx.Client, target: str, town: tuple[float, float], repeat: int) -> None:
    """Items tiles over ``town`` asked again after an item is added far away (Deir ez-Zor, 300 km east: in
    another tile from z6) and after one is added in the tile, as field teams' phones send them all day: how
    many of the latter answers were the kept tile served stale, and how long after a write in the tile
    until the new tile is served."""
    far = TOWNS["Deir ez-Zor"][:2]
    columns = (
        "after a write elsewhere p50 | p95 | after a write in the tile p50 | p95 | stale | current after p50 | p95"
    )
    print(f"\n  | tile | {columns} |")
    print("  |---|---:|---:|---:|---:|---:|---:|---:|")
    reg = open_register(target, user="bench")
    rng = np.random.default_rng(7)
    try:

        def adding(lon: float, lat: float) -> Callable[[], None]:
            def add() -> None:
                dlon, dlat = rng.uniform(-0.05, 0.05, 2)
                reg.add(Item(category="uxo", geometry=Point(lon + dlon, lat + dlat), organisation="MAC", notes=NOTE))

            return add

        for zoom in ZOOMS:
            tile = tile_of(*town, zoom)
            away = tile_timing.after_writes(client, "items", tile, repeat, adding(*far))
            near = tile_timing.after_writes(client, "items", tile, repeat, adding(*town))
            current = tile_timing.until_current(client, "items", tile, repeat, adding(*town))
            cells = [f"{v:,.1f}" for v in (away["p50"], away["p95"], near["p50"], near["p95"])]
            cells += [f"{near['stale']:.0f}/{repeat}", f"{current['p50']:,.0f}", f"{current['p95']:,.0f}"]
            print(f"  | items z{tile[0]}/{tile[1]}/{tile[2]} | {' | '.join(cells)} |", flush=True)
    finally:
        reg.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the national size (0.01: a quick run)")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--backends", default="gpkg", help="gpkg, postgis or gpkg,postgis")
    parser.add_argument("--tiles", action="store_true", help="time vector tiles at z5-z7 after the import")
    parser.add_argument("--repeat", type=int, default=20, help="requests per tile figure")
    parser.add_argument(
        "--tile-stale-s", type=float, default=60.0, help="the server's bound on serving a tile stale (0: never)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="write the GeoPackage register here and keep it")
    args = parser.parse_args(argv)
    counts = {
        "hazards": max(1, round(HAZARDS * args.scale)),
        "items": round(ITEMS * args.scale),
        "teams": max(1, round(TEAMS * args.scale)),
    }
    print(
        f"national register x{args.scale:g}: {counts['hazards']:,} hazards, {counts['items']:,} items, "
        f"{counts['teams']:,} teams (seed {args.seed}); {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    source = generate.DATA_DIR / f"national-x{args.scale:g}-s{args.seed}.gpkg"
    began = time.perf_counter()
    write_source(source, counts["hazards"], counts["items"], counts["teams"], args.seed)
    print(f"source {source.name}: {source.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - began:.1f} s")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sapper-national-")))
        for backend in args.backends.split(","):
            if backend == "postgis":
                target = stack.enter_context(Cluster()).new_database("national")
            else:
                target = str(args.keep or work / "national.gpkg")
                Path(target).unlink(missing_ok=True)
            print(f"\n{backend}:", flush=True)
            began = time.perf_counter()
            import_all(source, target, counts)
            print(f"  register: {imports.size_mb(target):,.0f} MB, {time.perf_counter() - began:.1f} s in all")
            if args.tiles:
                tile_times(target, args.repeat, args.tile_stale_s)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
