"""A KoboToolbox or ODK Central export as the rows ``sapper import`` takes, so every import rule
applies: all or nothing, ``--skip-invalid`` with a rejects file, and no duplicates on import again.

An export of one of sapper's own forms (found by its form id or title in the file or sheet name)
goes through the same builders as a submission sent from ODK Collect (``sapper.field.records``),
so its records are the ones an approved submission makes, with the same ``source_key``
(``odk:`` and the instance id): a submission that came both ways is in the register once.
Any other form is taken table by table through a mapping file, the geometry from its geo field
and the ``source_key`` from the instance id (a repeat group's rows: their own ``KEY``).
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from sapper.field.exports import FieldExport, Table, read_export
from sapper.field.forms import all_forms
from sapper.field.openrosa import Instance
from sapper.field.records import BUILDERS, point, shape
from sapper.field.xlsform import XLSForm
from sapper.formats.mapping import KEPT_BY_REGISTER, Mapping
from sapper.formats.table import Source
from sapper.model.accounts import User
from sapper.model.errors import SapperError
from sapper.store.register import Register
from sapper.store.schema import Layer

GEO_TYPES = ("geopoint", "geotrace", "geoshape")
# Columns the servers add to every submission: not worth reporting as ignored.
CENTRAL_COLUMNS = {"SubmissionDate", "KEY", "PARENT_KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent"} | {
    "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion", "meta-instanceID",
    "instanceID", "start", "end", "today", "deviceid", "__id",
}  # fmt: skip
SUBMITTER_FIELDS = ("SubmitterName", "_submitted_by")


def export_source(reg: Register, path: Path, lay: Layer, mapping: Mapping, table: str | None) -> Source:
    """The rows of the export at ``path`` for ``lay``; ``table`` names a repeat group's table."""
    export = read_export(path)
    own = _own_form(export)
    if own is not None and table is None and not (mapping.fields or mapping.links or mapping.id_field):
        return _records_source(reg, export, own, lay)
    return _table_source(export, lay, table)


def _folded(text: str) -> str:
    return text.replace("_", " ").casefold().strip()


def _own_form(export: FieldExport) -> XLSForm | None:
    """The sapper form an export is of: Central names files by form id, Kobo sheets by form title."""
    for name in export.names:
        for candidate in all_forms():
            if name == candidate.form_id or _folded(name).startswith(_folded(candidate.title)[:31]):
                return candidate
    return None


def _short(name: str, server: str) -> str:
    """A field's own name, without its groups (``meta-instanceID``, ``grp/field``)."""
    return name.rsplit("/", 1)[-1].rsplit("-", 1)[-1] if server == "central" else name.rsplit("/", 1)[-1]


def _answers(row: dict[str, str], server: str) -> dict[str, str]:
    return {_short(k, server): v for k, v in row.items() if not k.startswith("_")}


def odk_text(geometry: BaseGeometry) -> str:
    """A geometry as ODK writes it: ``lat lon alt acc`` points joined by ``;``."""
    coords = geometry.exterior.coords if geometry.geom_type == "Polygon" else geometry.coords
    return ";".join(f"{lat} {lon} 0 0" for lon, lat, *_ in coords)


def _instance(export: FieldExport, form: XLSForm, i: int) -> Instance:
    row = export.main.rows[i]
    values = _answers(row, export.server)
    geo_fields = [r["name"] for r in form.survey if r.get("type") in GEO_TYPES]
    shapes = export.main.geometries
    if shapes is not None and shapes[i] is not None and geo_fields and not values.get(geo_fields[0]):
        values[geo_fields[0]] = odk_text(shapes[i])  # GeoJSON: the first geo field is the feature's geometry
    repeats = {
        _short(name, export.server): [_answers(r, export.server) for r in export.children(name, i)]
        for name in export.repeats
    }
    return Instance(form.form_id, form.version, export.instance_id(row), values, repeats)


def _submitter(row: dict[str, str]) -> str:
    return next((row[f] for f in SUBMITTER_FIELDS if row.get(f)), "")


def _objects(values: list[Any]) -> np.ndarray:
    """A column of Python objects (numpy would make a 2-D array of a list of tuples)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _records_source(reg: Register, export: FieldExport, form: XLSForm, lay: Layer) -> Source:
    """One row per record of ``lay`` the submissions make; a submission that makes none for want
    of an answer is one bad row, named by its number and instance id."""
    build = BUILDERS[form.form_id]
    names = [f.name for f in dataclasses.fields(lay.record) if f.name not in ("id", "geometry", *KEPT_BY_REGISTER)]
    rows: list[dict[str, Any]] = []
    geometries: list[BaseGeometry | None] = []
    numbers: list[int] = []
    problems: dict[int, str] = {}
    for i, row in enumerate(export.main.rows):
        instance = _instance(export, form, i)
        if not instance.instance_id:
            problems[len(rows)] = "has no instance id (meta/instanceID, KEY or _uuid)"
            made = []
        else:
            try:
                user = User(name=_submitter(row))
                made = [r for kind, recs in build(reg, instance, user, f"odk:{instance.instance_id}") for r in recs]
            except SapperError as exc:
                problems[len(rows)] = str(exc)
                made = []
        mine = [r for r in made if isinstance(r, lay.record)]
        for record in mine or ([None] if len(rows) in problems else []):
            rows.append({n: _cell(getattr(record, n)) for n in names} if record is not None else {})
            geometries.append(getattr(record, "geometry", None))
            numbers.append(i + 1)
    kept = [n for n in names if any(r.get(n) not in (None, "", ()) for r in rows)]
    columns = {n: _objects([r.get(n) for r in rows]) for n in kept}
    return Source(
        path=export.path,
        driver=f"{export.server} export",
        layer=form.form_id,
        fields=kept,
        columns=columns,
        geometries=_objects(geometries),
        crs=None,
        row_word="submission",
        problems=problems,
        has_geometry=lay.geometry_type is not None,
        numbers=np.asarray(numbers, dtype=np.int64),
    )


def _pick_table(export: FieldExport, table: str | None) -> tuple[str | None, Table]:
    if table is None or table == export.main.name:
        return None, export.main
    for name, found in export.repeats.items():
        if table in (name, found.name):
            return name, found
    listing = ", ".join([export.main.name, *export.repeats])
    raise SapperError(f"{export.path.name} has no table {table!r} (tables: {listing})")


def _table_rows(export: FieldExport, repeat: str | None) -> list[tuple[dict[str, str], str]]:
    """(row, its key): a repeat group's rows carry their submission's answers too."""
    if repeat is None:
        return [(row, export.instance_id(row)) for row in export.main.rows]
    out = []
    for i, parent in enumerate(export.main.rows):
        for n, child in enumerate(export.children(repeat, i)):
            out.append(({**parent, **child}, export.child_key(repeat, i, n, child)))
    return out


def _looks_geo(value: str) -> bool:
    words = value.split(";")[0].split()
    try:
        return 2 <= len(words) <= 4 and -90 <= float(words[0]) <= 90 and -180 <= float(words[1]) <= 180
    except ValueError:
        return False


def _geo_field(fields: list[str], rows: list[dict[str, str]], lay: Layer) -> str | None:
    """The geo field that fits the layer: a geopoint for points, a geoshape or geotrace otherwise."""
    found = []
    for name in fields:
        first = next((r[name] for r in rows if (r.get(name) or "").strip()), "")
        if first and _looks_geo(first):
            found.append((name, ";" in first.strip().rstrip(";")))
    want_point = (lay.geometry_type or "").upper() == "POINT"
    return next((n for n, many in found if many != want_point), found[0][0] if found else None)


def geometry_of(text: str, name: str, key: str) -> BaseGeometry:
    """An ODK geopoint, geotrace or geoshape answer; FieldError naming the problem."""
    instance = Instance("export", "", key, {name: text})
    parts = [p for p in text.split(";") if p.strip()]
    if len(parts) == 1:
        return point(instance, name)
    first, last = parts[0].split()[:2], parts[-1].split()[:2]
    if len(parts) >= 4 and first == last:
        return shape(instance, name)
    return LineString([point(Instance("export", "", key, {name: p}), name) for p in parts])


def _table_source(export: FieldExport, lay: Layer, table: str | None) -> Source:
    repeat, chosen = _pick_table(export, table)
    pairs = _table_rows(export, repeat)
    fields = list(dict.fromkeys([*chosen.fields, *(export.main.fields if repeat else [])]))
    geo = _geo_field(fields, [r for r, _ in pairs], lay) if lay.geometry_type else None
    shapes = export.main.geometries if repeat is None else None
    geometries: list[BaseGeometry | None] = []
    problems: dict[int, str] = {}
    for i, (row, key) in enumerate(pairs):
        text = (row.get(geo) or "").strip() if geo else ""
        if shapes is not None and shapes[i] is not None:
            geometries.append(shapes[i])
        elif text:
            try:
                geometries.append(geometry_of(text, geo or "", key))
            except SapperError as exc:
                problems[i] = str(exc)
                geometries.append(None)
        else:
            geometries.append(None)
    if "source_key" not in fields:
        fields.append("source_key")
    keys = [f"odk:{k}" if k else None for _, k in pairs]
    columns = {f: _objects(keys if f == "source_key" else [row.get(f, "") for row, _ in pairs]) for f in fields}
    housekeeping = frozenset(f for f in fields if f.startswith("_") or f in CENTRAL_COLUMNS or f == geo)
    return Source(
        path=export.path,
        driver=f"{export.server} export",
        layer=chosen.name,
        fields=fields,
        columns=columns,
        geometries=_objects(geometries),
        crs=None,
        row_word="row",
        problems=problems,
        has_geometry=lay.geometry_type is not None and (geo is not None or shapes is not None),
        housekeeping=housekeeping,
    )
