"""Write layers of the register to GeoJSON, GeoPackage, Shapefile, KML or CSV.

Files are written by GDAL (pyogrio) from whole columns, except CSV, which sapper writes
itself with a WKT column (or lon/lat columns for points) so it reads back the same.
Every file carries the register's ``id`` and every field, so it can be imported again
(``source_key`` keeps re-imports from duplicating records), and keys for another register
(``identity``): every record's key, and beside each link the linked record's key. A file
is written to a temporary file beside it and renamed when complete (``atomic``). Format
limits:
- Shapefile: field names of at most 10 characters, so long names are shortened by a
  fixed table (``names.SHAPEFILE_NAMES``) that the importer reads back; one geometry
  type per file; text longer than 254 characters is cut by the format.
- KML: always WGS 84; the id is written as ``sapper_id`` because KML keeps ``id`` for
  its placemarks; a hazard's or site's name is the placemark's name.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from sapper.formats.atomic import SHAPEFILE_PARTS, replacing, temp_name_out
from sapper.formats.attachment_files import write_gpkg
from sapper.formats.csvfile import write_csv
from sapper.formats.geoms import TYPE_IDS, from_wgs84, parse_crs
from sapper.formats.identity import export_columns
from sapper.formats.names import short_name
from sapper.model.errors import SapperError
from sapper.model.wkt import to_wkt_many
from sapper.store.register import Register
from sapper.store.schema import ATTACHMENTS_TABLE, BOOLEAN, DATE, GEOMETRY, INTEGER, LAYERS, REAL, Layer
from sapper.store.schema import layer as find_layer
from sapper.store.sql import BBox

FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".kml": "LIBKML",
    ".csv": "CSV",
}
FORMAT_NAMES = {"geojson": "GeoJSON", "gpkg": "GPKG", "shapefile": "ESRI Shapefile", "kml": "LIBKML", "csv": "CSV"}
GEOMETRY_NAMES = {  # the register's geometry types (OGC names) as GDAL spells them
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
    "GEOMETRY": "Unknown",
}
SHAPE_TYPES = {  # shapely type id -> the one type a Shapefile of it holds
    TYPE_IDS["Point"]: "Point",
    TYPE_IDS["LineString"]: "MultiLineString",
    TYPE_IDS["MultiLineString"]: "MultiLineString",
    TYPE_IDS["Polygon"]: "MultiPolygon",
    TYPE_IDS["MultiPolygon"]: "MultiPolygon",
}


Rows = Sequence[tuple[int, dict[str, Any]]]  # (id, stored row), as the backend gives them
# Layers of records (not plans) that carry keys for another register (see ``identity``).
KEYED_LAYERS = ("hazards", "items", "protected_sites", "teams", "activities", "reports", "releases")


def driver_for(path: str | Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt.lower() not in FORMAT_NAMES:
            raise SapperError(f"unknown format {fmt!r} (formats: {', '.join(FORMAT_NAMES)})")
        return FORMAT_NAMES[fmt.lower()]
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise SapperError(f"cannot tell the format of {Path(path).name}: give it one of {', '.join(FORMATS)}")
    return FORMATS[suffix]


def export_layer(
    reg: Register,
    layer: str,
    path: str | Path,
    *,
    fmt: str | None = None,
    bbox: BBox | None = None,
    where: dict[str, Any] | None = None,
    lonlat: bool = False,
    crs: str | None = None,
    append: bool = False,
) -> int:
    """Write the layer's records (those in ``bbox`` and matching ``where``) to ``path``; return how many.

    The file is written whole or not at all: an older file at ``path`` stays until the new one is complete.
    ``append`` adds the layer to an existing GeoPackage (through a copy, renamed over it when complete)."""
    lay = _layer(layer)
    driver = driver_for(path, fmt)
    if crs:
        parse_crs(crs)
    if lonlat and driver != "CSV":
        raise SapperError("--lonlat is for CSV files; other formats carry their geometry")
    sidecars = SHAPEFILE_PARTS if driver == "ESRI Shapefile" else ()
    append = append and Path(path).exists()
    with replacing(path, sidecars) as temp:
        if append:
            shutil.copyfile(path, temp)
        return _write_layer(reg, lay, temp, Path(path), driver, bbox, where, lonlat, crs, append)


def export_all(reg: Register, path: str | Path, *, bbox: BBox | None = None) -> dict[str, int]:
    """Every layer into one GeoPackage (replacing the file), one table per layer."""
    path = Path(path)
    if driver_for(path) != "GPKG":
        raise SapperError("all layers go into one GeoPackage: give a .gpkg file (or export one --layer)")
    counts: dict[str, int] = {}
    with replacing(path) as temp:
        for i, lay in enumerate(LAYERS):
            box = bbox if lay.geometry_type else None
            counts[lay.name] = _write_layer(reg, lay, temp, path, "GPKG", box, None, False, None, append=i > 0)
        if attached := write_gpkg(reg, temp):
            counts[ATTACHMENTS_TABLE] = attached
    return counts


def _write_layer(
    reg: Register,
    lay: Layer,
    temp: Path,
    path: Path,
    driver: str,
    bbox: BBox | None,
    where: dict[str, Any] | None,
    lonlat: bool,
    crs: str | None,
    append: bool,
) -> int:
    """Write the records to ``temp`` (renamed to ``path`` by the caller) and check GDAL wrote them all."""
    # Stored rows, not records: their values are already what a file holds (vocabularies as
    # text, lists as "a,b"), which spares building and checking a record per row.
    records = reg.backend.select(lay, bbox=bbox, where=where)
    geoms = _geometries(lay, records, crs)
    keys = export_columns(reg, lay, records) if lay.name in KEYED_LAYERS else {}
    if driver == "CSV":
        _write_csv(temp, lay, records, geoms, keys, lonlat, crs)
    else:
        _write_gdal(temp, path, driver, lay, records, geoms, keys, crs, append)
        _check_written(temp, path, lay, driver, len(records))
    return len(records)


def _layer(layer: str) -> Layer:
    try:
        return find_layer(layer)
    except KeyError as exc:
        raise SapperError(exc.args[0]) from None


def _geometries(lay: Layer, records: Rows, crs: str | None) -> np.ndarray | None:
    if not lay.geometry_type:
        return None
    geoms = np.empty(len(records), dtype=object)
    geoms[:] = [row["geometry"] for _, row in records]
    return from_wgs84(geoms, crs)


def _write_gdal(
    temp: Path,
    path: Path,
    driver: str,
    lay: Layer,
    records: Rows,
    geoms: np.ndarray | None,
    keys: dict[str, list[Any]],
    crs: str | None,
    append: bool,
) -> None:
    names, arrays, masks = _columns(lay, records, keys)
    if driver == "ESRI Shapefile":
        names = [short_name(n) for n in names]
    if driver == "LIBKML":
        names = ["sapper_id" if n == "id" else n for n in names]
    geometry_type = None
    if geoms is not None:
        geometry_type = _shapefile_type(lay, geoms) if driver == "ESRI Shapefile" else GEOMETRY_NAMES[lay.geometry_type]
    options = {"FID": "id"} if driver == "GPKG" else {}
    # GeoPackage 1.2, as the register itself: older GDAL (Debian's 3.6 validator) reads it fully.
    dataset_options = {"VERSION": "1.2"} if driver == "GPKG" and not append else {}
    import pyogrio.raw  # GDAL and, through pyogrio, pandas: loaded only when a file is written

    try:
        with _driver_options(driver):
            pyogrio.raw.write(
                str(temp),
                None if geoms is None else shapely.to_wkb(geoms, output_dimension=2),
                arrays,
                names,
                field_mask=masks,
                layer=lay.name,
                driver=driver,
                geometry_type=geometry_type,
                crs=(crs or "EPSG:4326") if geoms is not None else None,
                append=append,
                layer_options=options,
                dataset_options=dataset_options,
                promote_to_multi=False,
            )
    except Exception as exc:  # GDAL's own error types
        raise SapperError(f"cannot write {path}: {temp_name_out(str(exc).strip(), temp, path)}") from None


def _check_written(temp: Path, path: Path, lay: Layer, driver: str, expected: int) -> None:
    """Read the count back: GDAL's KML writer reports no error when the disk fills, it just stops."""
    import pyogrio

    if driver == "ESRI Shapefile" and not temp.exists():
        temp = temp.with_suffix(".dbf")  # records without geometry: the table alone
    try:
        written = pyogrio.read_info(temp, layer=lay.name if driver == "GPKG" else 0, force_feature_count=True)
        count = int(written["features"])
    except Exception as exc:  # a file cut short does not parse
        message = temp_name_out(
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, temp, path
        )
        raise SapperError(
            f"cannot write {path}: the file written does not read back ({message}); is the disk full?"
        ) from None
    if count != expected:
        raise SapperError(f"cannot write {path}: {count:,} of {expected:,} {lay.name} were written; is the disk full?")
    if driver == "ESRI Shapefile":
        _check_shapefile_sizes(temp, path)


def _check_shapefile_sizes(temp: Path, path: Path) -> None:
    """GDAL writes a Shapefile's table without checking each write, and its header counts the records
    it meant to write: a part shorter than its header says was cut short (ESRI Shapefile Technical
    Description, 1998: file length in 16-bit words at byte 24; dBASE header: record count at byte 4,
    header and record lengths at bytes 8 and 10)."""
    for part in (temp.with_suffix(".shp"), temp.with_suffix(".shx")):
        if part.exists():
            head = part.read_bytes()[:100] if part.stat().st_size >= 100 else b""
            if len(head) < 100 or part.stat().st_size < int.from_bytes(head[24:28], "big") * 2:
                raise SapperError(f"cannot write {path}: its {part.suffix} file was cut short; is the disk full?")
    table = temp.with_suffix(".dbf")
    with open(table, "rb") as handle:
        head = handle.read(12)
    if len(head) < 12:
        raise SapperError(f"cannot write {path}: its .dbf file was cut short; is the disk full?")
    records, header, record = (int.from_bytes(head[4:8], "little"), int.from_bytes(head[8:10], "little"),
                               int.from_bytes(head[10:12], "little"))  # fmt: skip
    if table.stat().st_size < header + records * record:
        raise SapperError(f"cannot write {path}: its .dbf file was cut short; is the disk full?")


@contextmanager
def _driver_options(driver: str) -> Iterator[None]:
    """GDAL settings for one write. GDAL's KML writer takes a field called ``model`` for a 3D model
    (LIBKML_MODEL_FIELD) and drops the point; an item's model is the ordnance model, so point that
    option elsewhere. A GeoPackage is written without syncing each layer to disk: it is a temporary
    file until complete, synced once before it is renamed (``atomic.replacing``)."""
    options = {"LIBKML": {"LIBKML_MODEL_FIELD": "sapper_no_such_field"}, "GPKG": {"OGR_SQLITE_SYNCHRONOUS": "OFF"}}
    chosen = options.get(driver)
    if chosen is None:
        yield
        return
    import pyogrio

    pyogrio.set_gdal_config_options(chosen)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(dict.fromkeys(chosen))


def _shapefile_type(lay: Layer, geoms: np.ndarray) -> str:
    present = {SHAPE_TYPES.get(int(t), "?") for t in np.unique(shapely.get_type_id(geoms)) if t >= 0}
    if len(present) > 1 or "?" in present:
        raise SapperError(
            f"these {lay.name} mix geometry types ({', '.join(sorted(present))}) and a Shapefile holds one: "
            "export to GeoPackage or GeoJSON, or filter (e.g. kind=monument)"
        )
    return present.pop() if present else "Point"


def _columns(
    lay: Layer, records: Rows, keys: dict[str, list[Any]]
) -> tuple[list[str], list[np.ndarray], list[np.ndarray | None]]:
    """One typed array per field (and a null mask where the type cannot hold a null), then the key
    columns (``identity.export_columns``; its ``source_key`` replaces the stored one)."""
    names = ["id"]
    arrays: list[np.ndarray] = [np.asarray([record_id for record_id, _ in records], dtype=np.int64)]
    masks: list[np.ndarray | None] = [None]
    for col in lay.columns:
        if col.kind == GEOMETRY:
            continue
        values = keys[col.name] if col.name in keys else [row[col.name] for _, row in records]
        names.append(col.name)
        mask = None
        if col.kind == INTEGER and col.vocabulary is None:
            mask = np.asarray([v is None for v in values], dtype=bool)
            array = np.asarray([0 if v is None else v for v in values], dtype=np.int64)
        elif col.kind == REAL:
            array = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
        elif col.kind == BOOLEAN:
            array = np.asarray(values, dtype=bool)
        elif col.kind == DATE:
            array = np.asarray(values, dtype="datetime64[D]")  # None becomes NaT, a null
        else:
            array = np.empty(len(values), dtype=object)
            array[:] = values
        arrays.append(array)
        masks.append(mask if mask is not None and mask.any() else None)
    for name, values in keys.items():
        if name not in names:
            array = np.empty(len(values), dtype=object)
            array[:] = values
            names.append(name)
            arrays.append(array)
            masks.append(None)
    return names, arrays, masks


def _write_csv(
    path: Path,
    lay: Layer,
    records: Rows,
    geoms: np.ndarray | None,
    keys: dict[str, list[Any]],
    lonlat: bool,
    crs: str | None,
) -> None:
    names = [c.name for c in lay.columns if c.kind != GEOMETRY]
    extra = [name for name in keys if name not in names]
    columns = ["id", *names, *extra]
    rows = [
        [str(record_id), *(csv_text(keys[name][i] if name in keys else row[name]) for name in (*names, *extra))]
        for i, (record_id, row) in enumerate(records)
    ]
    if geoms is not None and lonlat:
        not_points = np.flatnonzero(~shapely.is_missing(geoms) & (shapely.get_type_id(geoms) != TYPE_IDS["Point"]))
        if len(not_points):
            record_id, row = records[int(not_points[0])]
            raise SapperError(f"--lonlat needs points, and {lay.kind} {record_id} is a {row['geometry'].geom_type}")
        projected = crs is not None and not parse_crs(crs).is_geographic
        columns += ["x", "y"] if projected else ["lon", "lat"]
        xs, ys = shapely.get_x(geoms), shapely.get_y(geoms)
        for line, x, y in zip(rows, xs.tolist(), ys.tolist()):
            line += ["", ""] if x != x else [repr(x), repr(y)]
    elif geoms is not None:
        columns.append("wkt")
        for line, text in zip(rows, to_wkt_many(geoms)):
            line.append(text or "")
    write_csv(path, columns, rows)


def csv_text(value: Any) -> str:
    """A field as CSV text that sapper's importer reads back to the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
