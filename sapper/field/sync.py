"""Bring a field package back: what the team added (reports, items) or changed (hazards, items).

Every feature is checked before anything is written; one bad feature stops the sync with an error
naming the layer, the feature and the problem, and the register is left as it was. The rest is
written in one transaction through the register's own writes (its rules, state machines and audit
log apply). A packed record changed in the register since packing is a conflict: it is listed,
the register's version stays and the tablet's version is kept in ``conflicts.json``, so neither
side is lost; that file appears only once the transaction has committed. A feature added on the
tablet (a report, an item, or a hazard the team found) carries the package and feature in its
``source_key``, so syncing the same package again adds nothing twice.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from sapper.field.pack import CONFLICTS, GPKG, packed_values, read_manifest, write_manifest
from sapper.field.pack_layers import LAYERS, TRACKED, VALUE_LISTS, PackLayer, pack_layer
from sapper.formats.atomic import replacing
from sapper.model.errors import SapperError
from sapper.model.geometry import as_multipolygon
from sapper.model.records import Hazard, Item, Record, Report
from sapper.store import gpkg_binary
from sapper.store.gpkg import register_functions
from sapper.store.register import Register
from sapper.store.schema import layer

# the vocabulary fields a tablet may fill in or change (sites, methods and tasks come from the register)
TERMS = {
    name: VALUE_LISTS[name]
    for name in ("hazard_class", "status", "contamination", "land_use", "category", "state", "activity_type")
}
DATES = ("reported_on", "report_date", "found_on")
REQUIRED = {"reports": ("activity_type", "report_date"), "items": ("category",), "hazards": ("name",)}


class BadFeatures(SapperError):
    """Features of a package that cannot go into the register; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        message = problems[0]
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more)"
        super().__init__(message + "; nothing was imported")
        self.problems = problems


@dataclass
class Feature:
    fid: int
    values: dict[str, Any]
    geometry: BaseGeometry | None


@dataclass
class SyncResult:
    added: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    already: int = 0  # added by an earlier sync of the same package
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    conflicts_path: Path | None = None


def read_features(path: Path, lay: PackLayer) -> list[Feature]:
    """The features of one layer as QGIS or QField left them (read with SQLite: NULL stays None)."""
    names = ", ".join(f'"{n}"' for n in lay.fields)
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute(f'SELECT fid, geom, {names} FROM "{lay.name}" ORDER BY fid').fetchall()
    return [Feature(r[0], dict(zip(lay.fields, r[2:])), gpkg_binary.decode(r[1])) for r in rows]


def _value(name: str, kind: str, value: Any) -> Any:
    """A package value as the record takes it; ValueError naming the problem."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if name in TERMS:
        return TERMS[name].parse(value)
    if name in DATES:
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ValueError(f"must be a date (YYYY-MM-DD), not {value!r}") from None
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"must be a whole number, not {value!r}")
        return int(value)
    if kind == "float":
        return float(value)
    return str(value)


def _changes(lay: PackLayer, feature: Feature, label: str, problems: list[str]) -> dict[str, Any]:
    """The feature's values as record fields (None left out); problems named and collected."""
    out: dict[str, Any] = {}
    for name, kind in lay.fields.items():
        if name in TRACKED:
            continue
        try:
            value = _value(name, kind, feature.values.get(name))
        except ValueError as exc:
            problems.append(f"{label}: {name}: {exc}")
            continue
        if value is None and name in REQUIRED.get(lay.name, ()):
            problems.append(f"{label}: {name} is missing")
        if value is not None:
            out[name] = value
    return out


def _same_geometry(a: BaseGeometry | None, wkt: str | None) -> bool:
    if a is None or wkt is None:
        return a is None and wkt is None
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(shapely.from_wkt(wkt)), 1e-9))


def _new_record(lay: PackLayer, changes: dict[str, Any], geometry: BaseGeometry | None, team: dict, key: str) -> Record:
    """A record of a feature added on the tablet, of the team's organisation (a hazard has no team)."""
    if lay.name == "hazards":
        if geometry is None:
            raise ValueError("a new hazard needs its area (a polygon)")
        organisation = team.get("organisation") or ""
        return Hazard(**changes, organisation=organisation, source_key=key, geometry=as_multipolygon(geometry))
    common = {"team_id": team["id"], "organisation": team.get("organisation") or "", "source_key": key}
    if lay.name == "reports":
        changes.setdefault("reported_by", team.get("name") or "")
        geometry = as_multipolygon(geometry) if geometry is not None else None
        return Report(**changes, **common, geometry=geometry)
    return Item(**changes, **common, geometry=geometry)


@dataclass
class _Plan:
    adds: dict[str, list[tuple[Record, Feature]]] = field(default_factory=dict)
    updates: list[tuple[PackLayer, Record, Feature]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unchanged: int = 0
    already: int = 0


def _plan(reg: Register, directory: Path, manifest: dict[str, Any]) -> _Plan:
    plan = _Plan()
    package, team = manifest["package"], manifest["team"]
    for lay in (lay for lay in LAYERS if lay.editable):
        packed = {r["id"]: r for r in manifest["records"].get(lay.name, [])}
        features = read_features(directory / GPKG, lay)
        keys = {f.fid: f"field:{package}:{lay.name}:{f.fid}" for f in features if not f.values.get("sapper_id")}
        known = reg.backend.ids_by_source_key(layer(lay.kind), list(keys.values())) if keys else {}
        for feature in features:
            label = f"{lay.name} feature {feature.fid}"
            record_id = feature.values.get("sapper_id")
            if not record_id:
                changes = _changes(lay, feature, label, plan.problems)
                if keys[feature.fid] in known:
                    plan.already += 1
                elif not plan.problems:
                    try:
                        record = _new_record(lay, changes, feature.geometry, team, keys[feature.fid])
                    except (TypeError, ValueError) as exc:
                        plan.problems.append(f"{label}: {exc}")
                        continue
                    plan.adds.setdefault(lay.name, []).append((record, feature))
                continue
            entry = packed.get(record_id)
            if entry is None:
                plan.problems.append(f"{label}: {lay.kind} {record_id} was not in this package")
                continue
            changes = _changes(lay, feature, label, plan.problems)
            if _unchanged(lay, feature, entry):
                plan.unchanged += 1
                continue
            current = reg.get(lay.kind, record_id)
            if current.version != entry["version"]:
                plan.conflicts.append(_conflict(lay, feature, entry, current))
                continue
            edited = dataclasses.replace(current, **_edited(lay, changes, entry))
            if feature.geometry is not None and not _same_geometry(feature.geometry, entry.get("geometry")):
                geom = as_multipolygon(feature.geometry) if lay.geometry_type == "MultiPolygon" else feature.geometry
                edited = dataclasses.replace(edited, geometry=geom)
            plan.updates.append((lay, edited, feature))
    return plan


def _unchanged(lay: PackLayer, feature: Feature, entry: dict[str, Any]) -> bool:
    tablet = {k: v for k, v in feature.values.items() if k not in TRACKED}
    return tablet == entry["values"] and _same_geometry(feature.geometry, entry.get("geometry"))


def _edited(lay: PackLayer, changes: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """Only the fields the team changed: a field cleared on the tablet is cleared in the register."""
    out = {}
    for name in entry["values"]:
        packed = entry["values"][name]
        if name in changes and changes[name] != _value(name, lay.fields[name], packed):
            out[name] = changes[name]
        elif name not in changes and packed not in (None, ""):
            out[name] = "" if lay.fields[name] == "str" else None
    return out


def _conflict(lay: PackLayer, feature: Feature, entry: dict[str, Any], current: Record) -> dict[str, Any]:
    return {
        "layer": lay.name,
        "id": current.id,
        "feature": feature.fid,
        "packed_version": entry["version"],
        "register_version": current.version,
        "tablet": {**feature.values, "geometry": None if feature.geometry is None else feature.geometry.wkt},
        "register": packed_values(lay, current),
    }


def sync(reg: Register, directory: Path) -> SyncResult:
    """Import what the team did in the package at ``directory``: all of it, or nothing and an error."""
    manifest = read_manifest(directory)
    plan = _plan(reg, directory, manifest)
    if plan.problems:
        raise BadFeatures(plan.problems)
    result = SyncResult(unchanged=plan.unchanged, already=plan.already, conflicts=plan.conflicts)
    written: list[tuple[PackLayer, Record, Feature]] = []
    with ExitStack() as outcome:
        if plan.conflicts:  # written aside first, put in place only once the transaction has committed
            result.conflicts_path = directory / CONFLICTS
            temp = outcome.enter_context(replacing(result.conflicts_path))
            temp.write_text(json.dumps(plan.conflicts, indent=1, ensure_ascii=False), encoding="utf-8")
        with reg.transaction():
            for lay, record, feature in plan.updates:
                written.append((lay, reg.update(record), feature))
                result.updated[lay.name] = result.updated.get(lay.name, 0) + 1
            for name, pairs in plan.adds.items():
                lay = pack_layer(name)
                added = reg.add_many([record for record, _ in pairs])
                written += [(lay, record, feature) for record, (_, feature) in zip(added, pairs)]
                result.added[name] = len(pairs)
    _remember(directory, manifest, written)
    return result


def _remember(directory: Path, manifest: dict[str, Any], written: list[tuple[PackLayer, Record, Feature]]) -> None:
    """The package takes the ids and versions just written: a feature added on the tablet becomes one of
    the package's records, so editing it later is an update, and the next sync sees no conflict."""
    with closing(sqlite3.connect(directory / GPKG)) as db, db:
        register_functions(db)  # the R-tree triggers of the package call them
        for lay, record, feature in written:
            entries = manifest["records"].setdefault(lay.name, [])
            entry = next((e for e in entries if e["id"] == record.id), None)
            if entry is None:
                entry = {"id": record.id}
                entries.append(entry)
            entry.update(
                version=record.version,
                values={k: v for k, v in feature.values.items() if k not in TRACKED},
                geometry=None if feature.geometry is None else shapely.to_wkt(feature.geometry, rounding_precision=9),
            )
            db.execute(
                f'UPDATE "{lay.name}" SET sapper_id = ?, sapper_version = ? WHERE fid = ?',
                (record.id, record.version, feature.fid),
            )
    write_manifest(directory, manifest)
