"""Generate a synthetic register source around Palmyra for the benchmarks.

Writes one GeoPackage with two layers, ``hazards`` (polygons) and ``items`` (points),
whose fields carry sapper's field names, so the file can be imported as is. The data is
made up (an assumption, not a survey): hazard centres crowd into neighbourhoods, with
more of them near the town, and items lie in and around hazards. Everything is drawn
from one seeded generator with numpy and shapely arrays, so a million points take
seconds and the same seed gives the same file.

    python bench/generate.py                      # 100,000 hazards, 1,000,000 items
    python bench/generate.py --small              # 2,000 hazards, 20,000 items
    python bench/generate.py --hazards 500 --items 5000 --out /some/dir
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

# The area covered: Palmyra's ruins, the town of Tadmur, the airfield and the land around
# them, lon 38.20-38.40, lat 34.50-34.60 (about 18 x 11 km).
EXTENT = (38.20, 34.50, 38.40, 34.60)
TOWN = (38.272, 34.556)  # Tadmur town centre, next to the ancient city
METRES_PER_DEGREE_LAT = 111_320.0  # WGS 84 mean, good to 0.5 % here
DEFAULT_HAZARDS, DEFAULT_ITEMS = 100_000, 1_000_000
SMALL_HAZARDS, SMALL_ITEMS = 2_000, 20_000
DATA_DIR = Path(__file__).resolve().parent / "data"

# Assumptions of this synthetic data set (not published figures).
NEIGHBOURHOODS = 60  # clusters of hazards
CLUSTERED_SHARE = 0.75  # the rest is spread evenly over the extent
HAZARD_RADIUS_M = (40.0, 0.7, 10.0, 400.0)  # lognormal median, sigma, clip min, clip max
HAZARD_VERTICES = 10
FIRST_DAY = np.datetime64("2016-03-27")  # Palmyra retaken (shared/data README)

HAZARD_STATUS = (["suspected", "confirmed", "in_clearance"], [0.6, 0.25, 0.15])
CONTAMINATION = ["ap_mines", "at_mines", "mixed_mines", "ied", "booby_traps", "uxo", "axo", "mixed", "unknown"]
LAND_USE = ["residential", "heritage", "road", "water", "power", "health", "education", "agriculture", "open_ground"]
ITEM_CATEGORY = (
    ["ap_mine", "at_mine", "ied_victim_operated", "ied_command_operated", "ied_time", "booby_trap", "uxo", "axo"],
    [0.12, 0.05, 0.10, 0.03, 0.01, 0.04, 0.55, 0.10],
)
ITEM_STATE = (["found", "rendered_safe", "removed", "destroyed_in_place"], [0.4, 0.1, 0.2, 0.3])
ITEM_MODELS = ["PMN-2", "TM-62", "VS-50", "PROM-1", "OF-462", "RGD-5", "M-15", "pressure plate IED", ""]


def metres_to_degrees(metres: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dlon, dlat) for a distance in metres at a latitude (local flat approximation)."""
    dlat = metres / METRES_PER_DEGREE_LAT
    return dlat / np.cos(np.radians(lat)), dlat


def _choice(rng: np.random.Generator, table: tuple[list[str], list[float]] | list[str], n: int) -> np.ndarray:
    values, weights = table if isinstance(table, tuple) else (table, None)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=weights)]


def _keys(prefix: str, n: int) -> np.ndarray:
    width = max(7, len(str(n)))
    return np.asarray([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _centres(rng: np.random.Generator, n: int) -> np.ndarray:
    """Hazard centres: neighbourhoods (denser near the town) plus an even spread, inside EXTENT."""
    minx, miny, maxx, maxy = EXTENT
    hoods = np.column_stack([rng.normal(TOWN[0], 0.04, NEIGHBOURHOODS), rng.normal(TOWN[1], 0.02, NEIGHBOURHOODS)])
    spread_m = rng.uniform(200.0, 900.0, NEIGHBOURHOODS)
    clustered = rng.random(n) < CLUSTERED_SHARE
    which = rng.integers(0, NEIGHBOURHOODS, n)
    dlon, dlat = metres_to_degrees(spread_m[which], hoods[which, 1])
    xy = np.column_stack([rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)])
    near = hoods[which] + rng.normal(size=(n, 2)) * np.column_stack([dlon, dlat])
    xy[clustered] = near[clustered]
    margin = 0.005  # keep whole polygons inside the extent
    xy[:, 0] = np.clip(xy[:, 0], minx + margin, maxx - margin)
    xy[:, 1] = np.clip(xy[:, 1], miny + margin, maxy - margin)
    return xy


def hazards(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Hazard polygons (star-shaped around their centre, so always valid), centres and fields."""
    centre = _centres(rng, n)
    median, sigma, low, high = HAZARD_RADIUS_M
    radius = np.clip(rng.lognormal(math.log(median), sigma, n), low, high)
    k = HAZARD_VERTICES
    step = 2 * math.pi / k
    angles = np.arange(k) * step + rng.uniform(-0.4, 0.4, (n, k)) * step  # stays increasing
    reach = radius[:, None] * rng.uniform(0.6, 1.0, (n, k))
    dlon, dlat = metres_to_degrees(reach, centre[:, 1:2])
    ring = np.stack([centre[:, 0:1] + dlon * np.cos(angles), centre[:, 1:2] + dlat * np.sin(angles)], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    polygons = shapely.polygons(ring)
    status = _choice(rng, HAZARD_STATUS, n)
    confirmed = status != "suspected"
    hazard_class = np.where(confirmed | (rng.random(n) < 0.1), "cha", "sha").astype(object)
    fields = {
        "source_key": _keys("BENCH-H-", n),
        "organisation": np.full(n, "MAC", dtype=object),
        "restricted": rng.random(n) < 0.02,
        "name": _keys("Hazard ", n),
        "hazard_class": hazard_class,
        "status": status,
        "contamination": _choice(rng, CONTAMINATION, n),
        "evidence": _choice(rng, ["witness report", "item seen", "accident", "drone imagery", ""], n),
        "land_use": _choice(rng, LAND_USE, n),
        "priority": rng.integers(1, 6, n),
        "blocks_access": rng.random(n) < 0.3,
        "estimated_items": rng.poisson(10, n),
        "clearance_depth_cm": rng.choice([13, 20, 30, 50, 100], n),
        "reported_on": FIRST_DAY + rng.integers(0, 400, n),
        "notes": np.full(n, "", dtype=object),
    }
    return polygons, np.column_stack([centre, radius]), fields


def items(rng: np.random.Generator, n: int, hazard_shape: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Item points scattered around randomly chosen hazards (within about their radius)."""
    which = rng.integers(0, len(hazard_shape), n)
    centre, radius = hazard_shape[which, :2], hazard_shape[which, 2]
    dlon, dlat = metres_to_degrees(radius * 0.5, centre[:, 1])
    x = centre[:, 0] + rng.normal(size=n) * dlon
    y = centre[:, 1] + rng.normal(size=n) * dlat
    points = shapely.points(x, y)
    category = _choice(rng, ITEM_CATEGORY, n)
    fields = {
        "source_key": _keys("BENCH-I-", n),
        "organisation": np.full(n, "MAC", dtype=object),
        "restricted": rng.random(n) < 0.02,
        "category": category,
        "state": _choice(rng, ITEM_STATE, n),
        "model": _choice(rng, ITEM_MODELS, n),
        "condition": _choice(rng, ["intact", "damaged", "corroded", ""], n),
        "depth_cm": np.round(rng.exponential(8.0, n), 1),
        "weight_kg": np.round(rng.lognormal(0.5, 1.0, n), 2),
        "found_on": FIRST_DAY + rng.integers(0, 400, n),
        "notes": np.full(n, "", dtype=object),
    }
    return points, fields


def write_layer(path: Path, layer: str, geoms: np.ndarray, fields: dict[str, np.ndarray], geometry_type: str) -> None:
    """One layer through GDAL's GeoPackage driver (which also builds its R-tree index)."""
    pyogrio.raw.write(
        str(path),
        shapely.to_wkb(geoms, output_dimension=2),
        list(fields.values()),
        list(fields),
        layer=layer,
        driver="GPKG",
        geometry_type=geometry_type,
        crs="EPSG:4326",
        append=path.exists(),
    )


def generate(path: Path, n_hazards: int, n_items: int, seed: int = 2016) -> Path:
    """Write the source GeoPackage (replacing any file there) and return its path."""
    if n_hazards < 1 or n_items < 0:
        raise ValueError("need at least one hazard and no negative number of items")
    rng = np.random.default_rng(seed)
    polygons, shape, hazard_fields = hazards(rng, n_hazards)
    points, item_fields = items(rng, n_items, shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    write_layer(path, "hazards", polygons, hazard_fields, "Polygon")
    if n_items:
        write_layer(path, "items", points, item_fields, "Point")
    return path


def default_path(n_hazards: int, n_items: int, seed: int = 2016, directory: Path = DATA_DIR) -> Path:
    return directory / f"palmyra-{n_hazards}h-{n_items}i-s{seed}.gpkg"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hazards", type=int, default=None, help=f"hazard polygons (default {DEFAULT_HAZARDS:,})")
    parser.add_argument("--items", type=int, default=None, help=f"item points (default {DEFAULT_ITEMS:,})")
    parser.add_argument("--small", action="store_true", help=f"{SMALL_HAZARDS:,} hazards and {SMALL_ITEMS:,} items")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="directory for the file (default bench/data)")
    args = parser.parse_args(argv)
    args.hazards = args.hazards or (SMALL_HAZARDS if args.small else DEFAULT_HAZARDS)
    args.items = args.items if args.items is not None else (SMALL_ITEMS if args.small else DEFAULT_ITEMS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = default_path(args.hazards, args.items, args.seed, args.out)
    start = time.perf_counter()
    generate(path, args.hazards, args.items, args.seed)
    seconds = time.perf_counter() - start
    size = path.stat().st_size / 1e6
    print(f"{path}: {args.hazards:,} hazards, {args.items:,} items, {size:.0f} MB in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
