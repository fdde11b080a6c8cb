"""How records, histories and summaries look in a terminal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.table import Table
from shapely.geometry.base import BaseGeometry

from sapper.model.geometry import area_m2
from sapper.model.records import Record
from sapper.store.schema import Layer
from sapper.store.sql import AuditEntry

# Columns shown by `sapper list`, per layer; `sapper show` shows every field.
LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "hazards": ("name", "hazard_class", "status", "contamination", "land_use", "priority", "original_area_m2"),
    "items": ("category", "state", "hazard_id", "model", "found_on"),
    "protected_sites": ("name", "kind", "buffer_m", "forbidden_methods", "heritage_value"),
    "teams": ("name", "kind", "personnel", "lane_width_m", "capabilities", "organisation"),
    "activities": ("activity_type", "hazard_id", "team_id", "status", "start_on", "end_on"),
    "reports": ("report_date", "activity_type", "hazard_id", "team_id", "area_m2", "items_found"),
    "releases": ("hazard_id", "route", "released_on", "area_m2", "team_id", "depth_cm"),
}


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, BaseGeometry):
        return describe_geometry(value)
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def describe_geometry(geom: BaseGeometry) -> str:
    if geom.is_empty:
        return f"{geom.geom_type} (empty)"
    if geom.geom_type in ("Point",):
        return f"POINT ({geom.x:.6f} {geom.y:.6f})"
    if "Polygon" in geom.geom_type:
        return f"{geom.geom_type}, {area_m2(geom) / 10_000:,.3f} ha, centre {geom.centroid.x:.5f} {geom.centroid.y:.5f}"
    return f"{geom.geom_type}, centre {geom.centroid.x:.5f} {geom.centroid.y:.5f}"


def records_table(lay: Layer, records: Sequence[Record]) -> Table:
    columns = LIST_COLUMNS[lay.name]
    table = Table(title=f"{lay.title}: {len(records)}", title_justify="left")
    table.add_column("id", justify="right")
    for name in columns:
        table.add_column(name, justify="right" if name.endswith(("_m2", "_m", "_id", "priority")) else "left")
    for rec in records:
        table.add_row(str(rec.id), *(text(getattr(rec, name)) for name in columns))
    return table


def record_table(lay: Layer, rec: Record, extra: dict[str, str] | None = None) -> Table:
    table = Table(title=f"{lay.kind} {rec.id}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("id", str(rec.id))
    for col in lay.columns:
        table.add_row(col.name, text(getattr(rec, col.name)))
    for key, value in (extra or {}).items():
        table.add_row(key, value)
    return table


def history_table(lay: Layer, record_id: int, entries: Sequence[AuditEntry]) -> Table:
    table = Table(title=f"History of {lay.kind} {record_id}", title_justify="left")
    for name in ("when (UTC)", "who", "action", "version", "changes"):
        table.add_column(name)
    for entry in entries:
        table.add_row(
            entry.at.strftime("%Y-%m-%d %H:%M:%S"), entry.user, entry.action, str(entry.version), _changes(entry)
        )
    return table


def _changes(entry: AuditEntry) -> str:
    if entry.action == "insert":
        return "created"
    if entry.action == "delete":
        return (
            "deleted; last state kept in the log: "
            + json.dumps({k: v for k, v in (entry.before or {}).items() if k != "geometry" and v not in (None, "")})[
                :300
            ]
        )
    before, after = entry.before or {}, entry.after or {}
    lines = []
    for key in after:
        if key == "version" or before.get(key) == after.get(key):
            continue
        if key == "geometry":
            lines.append("geometry changed")
        else:
            lines.append(f"{key}: {before.get(key)!r} -> {after.get(key)!r}")
    return "\n".join(lines) or "no field changed"
