"""Files in and out of the register, timed side by side with GDAL's ogr2ogr on the same data.

Import: the items layer of the generated source, written once as GeoJSON, Shapefile and
CSV (WKT column), is imported by ``sapper.formats.import_file`` into a fresh register and
by ``ogr2ogr`` into a fresh GeoPackage (or PostGIS database). sapper reads, maps, checks
every row, writes the audit log and does it in one transaction; ogr2ogr copies.

Export: the items layer of a register is written by ``sapper.formats.export_layer`` and by
``ogr2ogr`` reading the same register (a GeoPackage file, or the PostGIS database) to
GeoPackage, GeoJSON, Shapefile, CSV and KML. For KML, ogr2ogr uses GDAL's ``KML`` writer:
Debian GDAL 3.6's LIBKML writer took over ten minutes for 100,000 points.

    python bench/transfer_bench.py                      # 100,000 items, GeoPackage and PostGIS
    python bench/transfer_bench.py --items 20000 --backends gpkg
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlparse

import generate  # bench/ is on sys.path when run as a script

from sapper import init_register
from sapper.formats import export_layer, import_file
from sapper.store import is_postgres
from sapper.testing.postgis import Cluster

IMPORT_FORMATS = {"GeoJSON": ("GeoJSON", "geojson", []), "Shapefile": ("ESRI Shapefile", "shp", [])}
IMPORT_FORMATS["CSV (WKT)"] = ("CSV", "csv", ["-lco", "GEOMETRY=AS_WKT", "-lco", "GEOMETRY_NAME=wkt"])
EXPORT_FORMATS = {
    "GeoPackage": ("GPKG", "gpkg"),
    "GeoJSON": ("GeoJSON", "geojson"),
    "Shapefile": ("ESRI Shapefile", "shp"),
    "CSV": ("CSV", "csv"),
    "KML": ("KML", "kml"),
}


def ogr2ogr(*args: str) -> float:
    exe = shutil.which("ogr2ogr")
    if not exe:
        raise SystemExit("ogr2ogr not found: install gdal-bin (the reference of this benchmark)")
    start = time.perf_counter()
    subprocess.run([exe, *args], check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def gdal_name(target: str) -> str:
    if not is_postgres(target):
        return target
    url = urlparse(target)
    return f"PG:host={url.hostname} port={url.port} dbname={url.path.lstrip('/')} user={url.username}"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sapper_import(path: Path, target: str) -> float:
    reg = init_register(target, user="bench")
    try:
        seconds = timed(lambda: check(import_file(reg, path, "items")))
    finally:
        reg.close()
    return seconds


def check(result) -> None:
    if result.added != result.rows:
        raise RuntimeError(f"import of {result.path.name}: {result.counts()} of {result.rows:,} rows")


def ogr2ogr_import(path: Path, target: str, driver_options: list[str]) -> float:
    if is_postgres(target):
        return ogr2ogr("-f", "PostgreSQL", gdal_name(target), str(path), "-nln", "items", "-lco", "GEOMETRY_NAME=geom")
    open_options = ["-oo", "GEOM_POSSIBLE_NAMES=wkt", "-oo", "KEEP_GEOM_COLUMNS=NO"] if path.suffix == ".csv" else []
    return ogr2ogr("-f", "GPKG", target, str(path), *open_options, "-nln", "items", "-a_srs", "EPSG:4326")


def run(backend: str, source: Path, work: Path, cluster: Cluster | None) -> list[tuple[str, str, float, float]]:
    def fresh(name: str) -> str:
        return cluster.new_database(name) if cluster else str(work / f"{name}.gpkg")

    rows: list[tuple[str, str, float, float]] = []
    for label, (driver, ext, options) in IMPORT_FORMATS.items():
        path = work / f"items.{ext}"
        if not path.exists():  # the same file for both backends
            ogr2ogr("-f", driver, str(path), str(source), "items", *options)
        sapper_s = sapper_import(path, fresh(f"imp_{ext}"))
        gdal_s = ogr2ogr_import(path, fresh(f"ogr_{ext}"), options)
        rows.append(("import", label, sapper_s, gdal_s))
        print(line(backend, *rows[-1]), flush=True)

    register = fresh("register")
    with init_register(register, user="bench") as reg:
        check(import_file(reg, source, "items", source_layer="items"))
        out = work / f"out-{backend}"
        out.mkdir(exist_ok=True)
        for label, (driver, ext) in EXPORT_FORMATS.items():
            sapper_s = timed(lambda ext=ext: export_layer(reg, "items", out / f"sapper.{ext}"))
            gdal_s = ogr2ogr("-f", driver, str(out / f"ogr2ogr.{ext}"), gdal_name(register), "items")
            rows.append(("export", label, sapper_s, gdal_s))
            print(line(backend, *rows[-1]), flush=True)
    return rows


def line(backend: str, what: str, label: str, sapper_s: float, gdal_s: float) -> str:
    return f"| {backend} | {what} | {label} | {sapper_s:.1f} | {gdal_s:.1f} | {sapper_s / gdal_s:.2f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--backends", default="gpkg,postgis")
    parser.add_argument("--seed", type=int, default=2016)
    args = parser.parse_args(argv)
    hazards = max(1, args.items // 10)
    source = generate.default_path(hazards, args.items, args.seed)
    if not source.exists():
        generate.generate(source, hazards, args.items, args.seed)
    work = generate.DATA_DIR / f"transfer-{args.items}i"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    load = os.getloadavg()[0]
    print(f"{args.items:,} item points; seconds, ratio = sapper / ogr2ogr (lower is better); load {load:.1f}")
    print("| backend | what | format | sapper s | ogr2ogr s | ratio |\n|---|---|---|---|---|---|")
    with ExitStack() as stack:
        backends = args.backends.split(",")
        cluster = stack.enter_context(Cluster()) if "postgis" in backends else None
        for backend in backends:
            run(backend, source, work, cluster if backend == "postgis" else None)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
