"""Tables of the register benchmark, for the terminal and for bench/README.md."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pyogrio
from readme_section import write_section
from register_imports import ImportResult
from register_queries import QueryStats

README = Path(__file__).resolve().parent / "README.md"


def _ratio(a: float | None, b: float | None) -> str:
    return "" if not a or not b else f"{a / b:.2f}"


def import_rows(results: list[ImportResult]) -> list[list[str]]:
    """One row per (backend, layer): each method's seconds and its ratio to ogr2ogr."""
    rows = []
    keys = dict.fromkeys((r.backend, r.layer) for r in results)
    for backend, table in keys:
        by = {r.method: r for r in results if (r.backend, r.layer) == (backend, table)}
        ref, api, making = by["ogr2ogr"], by["sapper add_many"], by["of which read file + make records"]
        imp = by.get("sapper import_file")
        row = [backend, table, f"{ref.features:,}", f"{ref.seconds:.1f}", f"{api.seconds:.1f}"]
        row += [_ratio(api.seconds, ref.seconds), f"{making.seconds:.1f}", f"{api.features / api.seconds:,.0f}"]
        row += [f"{imp.seconds:.1f}", _ratio(imp.seconds, ref.seconds)] if imp else ["n/a", ""]
        row += [f"{ref.cpu:.1f}", f"{api.cpu:.1f}", _ratio(api.cpu, ref.cpu)]
        row += [f"{imp.cpu:.1f}", _ratio(imp.cpu, ref.cpu)] if imp else ["n/a", ""]
        if len({r.features for r in by.values()}) != 1:
            row[2] += " (counts differ: " + ", ".join(f"{m} {r.features:,}" for m, r in by.items()) + ")"
        rows.append(row)
    return rows


IMPORT_HEAD = [
    "backend",
    "layer",
    "features",
    "ogr2ogr s",
    "sapper add_many s",
    "ratio",
    "of which read + make records s",
    "sapper features/s",
    "sapper import_file s",
    "ratio",
    "CPU s: ogr2ogr",
    "add_many",
    "ratio",
    "import_file",
    "ratio",
]
QUERY_HEAD = [
    "backend",
    "layer",
    "reader",
    "features per window (median)",
    "median ms",
    "p95 ms",
    "ms per 1,000 features",
    "empty window ms",
    "sapper / this",
]


def query_rows(backend: str, table: str, stats: list[QueryStats]) -> list[list[str]]:
    sapper = stats[0]
    rows = []
    for s in stats:
        ratio = "" if s is sapper else _ratio(sapper.median_ms, s.median_ms)
        rows.append(
            [
                backend,
                table,
                s.method,
                f"{s.median_count:,.0f}",
                f"{s.median_ms:.1f}",
                f"{s.p95_ms:.1f}",
                f"{s.per_1000_ms:.1f}",
                f"{s.empty_seconds * 1000:.2f}",
                ratio,
            ]
        )
    return rows


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def import_lines(results: list[ImportResult]) -> str:
    return table(IMPORT_HEAD, import_rows(results))


def query_lines(backend: str, layer: str, stats: list[QueryStats]) -> str:
    return table(QUERY_HEAD, query_rows(backend, layer, stats))


def machine(cluster: Any) -> dict[str, str]:
    """What the figures were measured on."""
    info = {
        "cpus": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "ram": f"{_ram_gb():.0f} GB",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "GDAL (ogr2ogr)": _gdal_version(),
        "GDAL (pyogrio)": pyogrio.__gdal_version_string__,
    }
    if cluster is not None:
        with psycopg.connect(cluster.url("template_sapper")) as conn:
            info["PostgreSQL"] = conn.execute("SHOW server_version").fetchone()[0]
            info["PostGIS"] = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
    return info


def _gdal_version() -> str:
    out = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True).stdout
    return out.split(",")[0].replace("GDAL", "").strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def markdown(args: Any, argv: list[str], host: dict[str, str], runs: dict[str, Any]) -> str:
    command = " ".join(["python bench/register_bench.py", *argv])
    imported = [r for results, _, _ in runs.values() for r in results]
    sizes = [
        [b, f"{s['ogr2ogr']:.0f}", f"{s['sapper']:.0f}", _ratio(s["sapper"], s["ogr2ogr"])]
        for b, (_, s, _) in runs.items()
    ]
    queried = [row for b, (_, _, stats) in runs.items() for t, st in stats.items() for row in query_rows(b, t, st)]
    versions = ", ".join(f"{k} {v}" for k, v in host.items() if k not in ("cpus", "cpu", "ram", "load"))
    return "\n".join(
        [
            f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} with `{command}`",
            f"on {host['cpus']} CPUs ({host['cpu']}), {host['ram']} RAM, load average {host.get('load', '?')}; "
            f"{versions}.",
            f"Source: {args.hazards:,} hazard polygons and {args.items:,} item points (seed {args.seed}).",
            "",
            f"**Bulk import** (seconds, the median of {getattr(args, 'rounds', 1)} rounds in which the importers "
            "take turns; ratio = sapper / ogr2ogr, lower is better; CPU s: of the importing process, ogr2ogr "
            "and the PostgreSQL server):",
            "",
            table(IMPORT_HEAD, import_rows(imported)),
            "",
            "**Size after import** (MB; GeoPackage file, or PostGIS database):",
            "",
            table(["backend", "ogr2ogr", "sapper", "ratio"], sizes),
            "",
            f"**1 km² window queries** ({args.windows} random windows per layer, the same for every reader"
            + (f"; each read {args.repeat} times, the best counted" if getattr(args, "repeat", 1) > 1 else "")
            + "):",
            "",
            table(QUERY_HEAD, queried),
        ]
    )


def write_readme(text: str, path: Path = README) -> Path:
    """Replace the results between the register markers (adding the section if missing)."""
    return write_section("register-bench", text, heading="Register", path=path)
