"""The register benchmark: bulk import and 1 km² bounding-box queries, sapper against GDAL.

On one generated source file (bench/generate.py) and in one run, for the GeoPackage
and the PostGIS backend:
1. import time: ``ogr2ogr`` (reference) against sapper's ``Register.add_many`` and, once
   the project has it, sapper's file importer;
2. query time of random 1 km² windows: ``Register.list(kind, bbox=...)`` against GDAL
   (pyogrio with a spatial filter) and a plain SQL query on the spatial index, all on
   the same register, with the number of features each returned.

    python bench/register_bench.py                # 100,000 hazards, 1,000,000 items
    python bench/register_bench.py --small        # 2,000 / 20,000: a smoke run
    python bench/register_bench.py --readme       # also write the figures into bench/README.md
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import generate
import pyogrio
import register_imports as imports
import register_queries as queries
import register_report as report

from sapper.store import open_register
from sapper.testing.postgis import Cluster

T = TypeVar("T")
KINDS = {"hazards": "hazard", "items": "item"}
EMPTY_WINDOW = (0.0, 0.0, 0.009, 0.009)  # in the Gulf of Guinea: nothing there


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hazards", type=int, help=f"default {generate.DEFAULT_HAZARDS:,}")
    parser.add_argument("--items", type=int, help=f"default {generate.DEFAULT_ITEMS:,}")
    parser.add_argument("--small", action="store_true", help="2,000 hazards, 20,000 items")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--windows", type=int, default=100, help="1 km² query windows per layer (default 100)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="imports of each layer by each importer, taking turns; the median counts"
    )
    parser.add_argument("--repeat", type=int, default=3, help="reads of each window per reader; the best counts")
    parser.add_argument("--backends", default="gpkg,postgis", help="comma-separated: gpkg, postgis")
    parser.add_argument("--readme", action="store_true", help="write the results into bench/README.md")
    parser.add_argument("--profile", action="store_true", help="cProfile sapper's imports; print the top functions")
    args = parser.parse_args(argv)
    args.hazards = args.hazards or (generate.SMALL_HAZARDS if args.small else generate.DEFAULT_HAZARDS)
    args.items = args.items or (generate.SMALL_ITEMS if args.small else generate.DEFAULT_ITEMS)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(args.backends) - {"gpkg", "postgis"}:
        parser.error("--backends takes gpkg and/or postgis")
    return args


def profiled(enabled: bool, label: str, fn: Callable[[], T]) -> T:
    """Run ``fn``; with profiling on, print where its time went (top functions by own time)."""
    if not enabled:
        return fn()
    profile = cProfile.Profile()
    result = profile.runcall(fn)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(18)
    print(f"\n--- profile: {label} ---\n" + out.getvalue().split("\n\n", 1)[-1])
    return result


def run_backend(backend: str, args: argparse.Namespace, source: Path, work: Path, cluster: Cluster | None) -> Any:
    def target(name: str) -> str:
        if backend == "postgis":
            assert cluster is not None
            return cluster.new_database(name)
        return str(work / f"{name}.gpkg")

    # A set of registers per round (its hazards and items go into the same ones); the first round's are
    # measured for size and read for the windows
    rounds = [
        (target(f"ogr2ogr{s}"), target(f"sapper_api{s}"), target(f"sapper_import{s}") if imports.importer() else None)
        for s in ["", *(f"_{r + 2}" for r in range(args.rounds - 1))]
    ]
    results: list[imports.ImportResult] = []
    cpu = imports.CpuMeter(cluster.data if backend == "postgis" and cluster else None)

    def timed(
        method: str, table: str, into: str, run: Callable[[], tuple[float, dict[str, float]]]
    ) -> list[imports.ImportResult]:
        """One import's result, and one per named part of its time that ``run`` gives with it."""
        start = cpu()
        total, parts = profiled(args.profile and method != "ogr2ogr", f"{method} {backend} {table}", run)
        used = cpu() - start
        n = imports.count(into, table)
        own = imports.ImportResult(method, backend, table, n, total, used)
        return [own, *(imports.ImportResult(name, backend, table, n, seconds) for name, seconds in parts.items())]

    def add_many(table: str, into: str) -> tuple[float, dict[str, float]]:
        total, making = imports.sapper_add_many(source, table, into)
        return total, {"of which read file + make records": making}  # the caller's part of the time

    for table in ("hazards", "items"):
        each: list[imports.ImportResult] = []
        for reference, api, file_import in rounds:  # ogr2ogr and sapper take turns
            each += timed("ogr2ogr", table, reference, lambda t=table, r=reference: (imports.ogr2ogr(source, t, r), {}))
            each += timed("sapper add_many", table, api, lambda t=table, a=api: add_many(t, a))
            if file_import:
                run = lambda t=table, f=file_import: (imports.sapper_import_file(source, t, f), {})  # noqa: E731
                each += timed("sapper import_file", table, file_import, run)
        results += imports.medians(each)
        print(report.import_lines([r for r in results if r.layer == table]), flush=True)
    reference, api, _ = rounds[0]
    sizes = {"ogr2ogr": imports.size_mb(reference), "sapper": imports.size_mb(api)}
    for registers in rounds:  # every database of the cluster, or autovacuum works through the others meanwhile
        for into in filter(None, registers):
            imports.settle(into)

    info = pyogrio.read_info(str(source), layer="hazards")
    boxes = queries.windows(info["total_bounds"], args.windows, args.seed)
    stats = {}
    with open_register(api, user="bench") as reg, ExitStack() as stack:
        for table, kind in KINDS.items():
            stats[table] = queries.measure(queries.methods(reg, api, kind, stack), boxes, EMPTY_WINDOW, args.repeat)
            print(report.query_lines(backend, table, stats[table]), flush=True)
    return results, sizes, stats


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    source = generate.default_path(args.hazards, args.items, args.seed)
    if not source.exists():
        print(f"generating {source.name} ...", flush=True)
        generate.generate(source, args.hazards, args.items, args.seed)
    work = generate.DATA_DIR / f"run-{args.hazards}h-{args.items}i"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if imports.importer() is None:
        print("sapper.formats.import_file is not there yet: measuring Register.add_many only")

    load_at_start = os.getloadavg()[0]
    runs = {}
    with ExitStack() as stack:
        cluster = stack.enter_context(Cluster()) if "postgis" in args.backends else None
        for backend in args.backends:
            print(f"\n== {backend} ==", flush=True)
            runs[backend] = run_backend(backend, args, source, work, cluster)
        machine = report.machine(cluster)
    machine["load"] = f"{load_at_start:.1f} at start, {os.getloadavg()[0]:.1f} at end"

    text = report.markdown(args, argv if argv is not None else sys.argv[1:], machine, runs)
    print("\n" + text)
    if args.readme:
        path = report.write_readme(text)
        print(f"written into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
