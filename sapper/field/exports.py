"""Reading the exports of KoboToolbox and ODK Central: submissions as tables of text.

ODK Central exports CSV, a zip with one CSV per repeat group (``Form.csv``, ``Form-repeat.csv``):
groups joined by ``-`` in the header, ``KEY`` the instance id, repeat rows linked to their parent by
``PARENT_KEY``, a geopoint optionally split into ``-Latitude``/``-Longitude``/``-Altitude``/``-Accuracy``
columns (ODK Central docs, "Submission export"; ODK Briefcase export-format). KoboToolbox exports
XLSX with one sheet per repeat group, rows linked by ``_index``/``_parent_index``, groups joined by
``/``, the instance id in ``_uuid`` (and ``meta/instanceID``), and CSV of the main table (``;``
separated by default). Both also export GeoJSON, the form's first geo field as each feature's
geometry. Nothing here knows the register: ``sapper.field.imports`` turns these tables into rows.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.geometry import shape as geojson_shape
from shapely.geometry.base import BaseGeometry

from sapper.model.errors import SapperError

# Where each server writes the instance id, most telling first.
INSTANCE_ID_FIELDS = ("meta-instanceID", "meta/instanceID", "instanceID", "KEY", "__id", "_uuid")
CENTRAL_MARKERS = frozenset({"SubmissionDate", "KEY"})
KOBO_MARKERS = frozenset({"_uuid", "_index"})
GEOJSON_MARKERS = frozenset({"__id", "_uuid", "meta/instanceID"})  # not KEY: other files have one
GEO_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")  # Central's split geopoint columns


@dataclass
class Table:
    """One table of an export: the main one, or a repeat group's."""

    name: str
    fields: list[str]
    rows: list[dict[str, str]]
    geometries: list[BaseGeometry | None] | None = None  # GeoJSON only: each feature's geometry


@dataclass
class FieldExport:
    path: Path
    server: str  # "central" or "kobo"
    names: list[str]  # what the export says of its form: file and sheet names
    main: Table
    repeats: dict[str, Table] = field(default_factory=dict)

    def instance_id(self, row: dict[str, str]) -> str:
        """The submission's instance id, as ODK Collect sent it (``uuid:...``)."""
        for name in INSTANCE_ID_FIELDS:
            value = (row.get(name) or "").strip()
            if value:
                return value if name != "_uuid" or value.startswith("uuid:") else f"uuid:{value}"
        return ""

    def children(self, repeat: str, parent_index: int) -> list[dict[str, str]]:
        """The rows of a repeat group that belong to the main table's row ``parent_index``."""
        parent = self.main.rows[parent_index]
        table = self.repeats[repeat]
        if self.server == "central":
            return [r for r in table.rows if r.get("PARENT_KEY") == parent.get("KEY")]
        index = parent.get("_index")
        return [r for r in table.rows if r.get("_parent_index") == index]

    def child_key(self, repeat: str, parent_index: int, n: int, row: dict[str, str]) -> str:
        """A repeat row's own key: Central's ``KEY`` (``uuid:.../group[n]``), made the same way for Kobo."""
        return row.get("KEY") or f"{self.instance_id(self.main.rows[parent_index])}/{repeat}[{n + 1}]"


def is_field_export(path: Path) -> bool:
    """Whether ``path`` looks like a KoboToolbox or ODK Central export (by its columns, not its name)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                first = next((n for n in archive.namelist() if n.lower().endswith(".csv")), None)
                return first is not None and _is_export_header(_csv_header(archive.read(first)))
        if suffix == ".csv":
            return _is_export_header(_csv_header(path.read_bytes()[:65536]))
        if suffix == ".xlsx":
            return _is_export_header(_xlsx_header(path))
        if suffix in (".geojson", ".json"):
            features = json.loads(path.read_text(encoding="utf-8")).get("features") or []
            props = features[0].get("properties") or {} if features else {}
            return bool(set(_flatten(props)) & GEOJSON_MARKERS)
    except (OSError, ValueError, zipfile.BadZipFile, KeyError, AttributeError):
        return False
    return False


def read_export(path: Path) -> FieldExport:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _read_central_zip(path)
    if suffix == ".csv":
        table = _csv_table(path.stem, path.read_bytes(), path)
        return FieldExport(path, _server(table.fields), [path.stem], table)
    if suffix == ".xlsx":
        return _read_kobo_xlsx(path)
    return _read_geojson(path)


def _is_export_header(header: list[str]) -> bool:
    names = set(header)
    return names >= CENTRAL_MARKERS or bool(KOBO_MARKERS & names)


def _server(fields: list[str]) -> str:
    return "central" if set(fields) >= CENTRAL_MARKERS or "PARENT_KEY" in fields else "kobo"


def _decode(data: bytes, where: Path | str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SapperError(f"{where} is not UTF-8 text, as KoboToolbox and ODK Central write their exports") from None


def _csv_header(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig", errors="replace")
    line = text.split("\n", 1)[0]
    return next(csv.reader([line], delimiter=";" if line.count(";") > line.count(",") else ","), [])


def _csv_table(name: str, data: bytes, where: Path | str) -> Table:
    text = _decode(data, where)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","  # Kobo's CSV default is ';'
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, [])
    rows = [dict(zip(header, values)) for values in reader if any(v.strip() for v in values)]
    return _join_split_geopoints(Table(name, header, rows))


def _join_split_geopoints(table: Table) -> Table:
    """Central's ``X-Latitude``/``X-Longitude``... columns back into one ODK geopoint ``X``."""
    split = [f.removesuffix("-Latitude") for f in table.fields if f.endswith("-Latitude")]
    for base in split:
        parts = [f"{base}-{p}" for p in GEO_PARTS]
        if f"{base}-Longitude" not in table.fields:
            continue
        for row in table.rows:
            lat, lon = row.pop(parts[0], ""), row.pop(parts[1], "")
            extra = [row.pop(p, "") or "0" for p in parts[2:]]
            row[base] = f"{lat} {lon} {' '.join(extra)}" if lat.strip() and lon.strip() else ""
        at = table.fields.index(parts[0])
        table.fields = [f for f in table.fields if f not in parts]
        table.fields.insert(at, base)
    return table


def _read_central_zip(path: Path) -> FieldExport:
    try:
        with zipfile.ZipFile(path) as archive:
            csvs = sorted((n for n in archive.namelist() if n.lower().endswith(".csv")), key=len)
            if not csvs:
                raise SapperError(f"{path} holds no CSV file (an ODK Central export holds Form.csv)")
            tables = [_csv_table(Path(n).stem, archive.read(n), f"{path}:{n}") for n in csvs]
    except zipfile.BadZipFile:
        raise SapperError(f"{path} is not a zip file") from None
    main = tables[0]  # Form.csv; its repeats are Form-group.csv
    repeats = {t.name.removeprefix(f"{main.name}-"): t for t in tables[1:]}
    return FieldExport(path, "central", [main.name, path.stem], main, repeats)


def _xlsx_header(path: Path) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        first = next(book.worksheets[0].iter_rows(max_row=1, values_only=True), ())
        return [str(v) for v in first if v is not None]
    finally:
        book.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _read_kobo_xlsx(path: Path) -> FieldExport:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        tables = []
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = [_cell(v) for v in next(rows, ())]
            body = [dict(zip(header, map(_cell, r))) for r in rows if any(v not in (None, "") for v in r)]
            tables.append(Table(sheet.title, header, body))
    finally:
        book.close()
    if not tables:
        raise SapperError(f"{path} has no sheets")
    main = tables[0]
    repeats = {t.name: t for t in tables[1:]}
    return FieldExport(path, _server(main.fields), [main.name, path.stem], main, repeats)


def _flatten(props: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested groups (``{"meta": {"instanceID": ...}}``) as ``meta/instanceID``, values as text."""
    out: dict[str, str] = {}
    for key, value in props.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}/"))
        elif not isinstance(value, list):
            out[name] = _cell(value)
    return out


def _read_geojson(path: Path) -> FieldExport:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SapperError(f"{path} is not GeoJSON ({exc})") from None
    rows, geometries, fields = [], [], {}
    for feature in data.get("features") or []:
        row = _flatten(feature.get("properties") or {})
        if feature.get("id") is not None and "__id" not in row:
            row["__id"] = str(feature["id"])  # Central gives the instance id as the feature's id
        rows.append(row)
        fields.update(dict.fromkeys(row))
        geometry = feature.get("geometry")
        geometries.append(geojson_shape(geometry) if geometry else None)
    main = Table(path.stem, list(fields), rows, geometries)
    return FieldExport(path, _server(main.fields), [path.stem], main)
