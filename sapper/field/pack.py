"""A field package for QField or QGIS: one team's part of the register in a GeoPackage, a styled
project and a manifest of what was packed, so ``sapper field sync`` can tell edits from conflicts.

The team's hazards are those of its open tasks and of its sectors in the latest plan. Every
feature taken from the register carries ``sapper_id`` and ``sapper_version``; a feature the team
adds has neither. The manifest keeps each packed record's id, version and the values packed, so a
value changed on the tablet is told from a value changed in the register since.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import shapely
from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry

from sapper.field.media import team_hazards
from sapper.field.pack_layers import DTYPES, LAYERS, TRACKED, PackLayer
from sapper.field.qgis_project import write_project
from sapper.model.errors import SapperError
from sapper.model.geometry import as_multipolygon, metric_epsg_for, to_metric, to_wgs84
from sapper.model.records import Record
from sapper.store.plans import latest_plan
from sapper.store.register import Register

GPKG = "field.gpkg"
PROJECT = "field.qgs"
MANIFEST = "manifest.json"
CONFLICTS = "conflicts.json"
POINT_SITE_M = 1.0  # assumption: a point or line site is drawn as its outline widened by 1 m


def plain(value: Any) -> Any:
    """A record's value as the package holds it: vocabularies and dates as text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def packed_values(lay: PackLayer, record: Record) -> dict[str, Any]:
    """The values of ``record`` the package layer holds (without id and version)."""
    return {f: plain(getattr(record, f, None)) for f in lay.fields if f not in TRACKED}


def _multi_lines(geom: BaseGeometry) -> MultiLineString:
    if isinstance(geom, LineString):
        return MultiLineString([geom])
    lines = [g for g in getattr(geom, "geoms", []) if isinstance(g, LineString)]
    return MultiLineString(lines) if isinstance(geom, MultiLineString) or lines else MultiLineString()


def _widened(geom: BaseGeometry, metres: float) -> BaseGeometry:
    epsg = metric_epsg_for(geom)
    return to_wgs84(to_metric(geom, epsg).buffer(metres), epsg)


def _feature_geometry(lay: PackLayer, geom: BaseGeometry | None) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    if lay.geometry_type == "MultiLineString":
        return _multi_lines(geom)
    if lay.geometry_type == "MultiPolygon":
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            geom = _widened(geom, POINT_SITE_M)
        return as_multipolygon(geom)
    return geom


def write_layer(path: Path, lay: PackLayer, rows: list[tuple[dict[str, Any], BaseGeometry | None]]) -> None:
    """One layer of the package; a layer with no rows is still made, with its fields, for the team to fill."""
    names = list(lay.fields)
    columns = []
    for name in names:
        kind = lay.fields[name]
        values = [r.get(name) for r, _ in rows]
        if kind != "str":
            values = [0 if v is None else v for v in values]  # a packed record always has its numbers
        column = np.empty(len(values), dtype=DTYPES[kind])
        column[:] = values
        columns.append(column)
    wkb = np.empty(len(rows), dtype=object)
    wkb[:] = [None if g is None else shapely.to_wkb(_feature_geometry(lay, g)) for _, g in rows]
    pyogrio.raw.write(
        str(path), wkb, columns, names, layer=lay.name, driver="GPKG", geometry_type=lay.geometry_type,
        crs="EPSG:4326", append=path.exists(),
    )  # fmt: skip


@dataclass
class Packed:
    directory: Path
    manifest: dict[str, Any]

    def count(self, layer_name: str) -> int:
        return len(self.manifest["records"].get(layer_name, []))


def _team_records(reg: Register, team_id: int) -> dict[str, list[Any]]:
    team = reg.get("team", team_id)
    plan = latest_plan(reg)
    sectors = [] if plan is None else reg.list("plan_sector", where={"plan_id": plan.id, "team_id": team_id})
    lanes = [] if plan is None else reg.list("plan_lane", where={"plan_id": plan.id, "team_id": team_id})
    hazard_ids = {rid for rid, _ in team_hazards(reg, team.organisation or None, team_id)}
    hazard_ids |= {s.hazard_id for s in sectors}
    sites = [s for s in reg.list("site") if not s.restricted or s.organisation == team.organisation]
    return {
        "hazards": [reg.get("hazard", h) for h in sorted(hazard_ids)],
        "plan_sectors": sectors,
        "plan_lanes": lanes,
        "protected_sites": sites,
        "site_buffers": [s for s in sites if s.buffer_m > 0 and s.geometry is not None],
    }


def pack(reg: Register, team_id: int, directory: Path, register: str = "") -> Packed:
    """Write the team's package into ``directory`` (made if need be; an existing package is replaced).

    ``register`` is how the manifest names the register (its file or URL without password)."""
    team = reg.get("team", team_id)
    directory.mkdir(parents=True, exist_ok=True)
    gpkg = directory / GPKG
    for old in (gpkg, directory / CONFLICTS):
        old.unlink(missing_ok=True)
    chosen = _team_records(reg, team_id)
    manifest: dict[str, Any] = {
        "package": str(uuid.uuid4()),
        "register": {"id": register, "name": Path(register.split("?")[0]).stem if register else ""},
        "team": {"id": team.id, "name": team.name, "organisation": team.organisation},
        "packed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "packed_by": reg.user,
        "records": {},
    }
    for lay in LAYERS:
        records = chosen.get(lay.name, [])
        rows = []
        for record in records:
            values = packed_values(lay, record)
            values["sapper_id"], values["sapper_version"] = record.id, record.version
            geom = record.geometry
            if lay.name == "site_buffers":
                geom = _widened(record.geometry, record.buffer_m)
            rows.append((values, geom))
        write_layer(gpkg, lay, rows)
        if lay.editable:
            manifest["records"][lay.name] = [
                {"id": r.id, "version": r.version, "values": packed_values(lay, r), "geometry": _wkt(r.geometry)}
                for r in records
            ]
        else:
            manifest["records"][lay.name] = [{"id": r.id, "version": r.version} for r in records]
    write_project(directory / PROJECT, GPKG, f"{team.name} (team {team.id})")
    write_manifest(directory, manifest)
    return Packed(directory, manifest)


def _wkt(geom: BaseGeometry | None) -> str | None:
    return None if geom is None else shapely.to_wkt(geom, rounding_precision=9)


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.exists():
        raise SapperError(
            f"{directory} is not a field package ({MANIFEST} is missing): make one with sapper field pack"
        )
    return json.loads(path.read_text(encoding="utf-8"))
