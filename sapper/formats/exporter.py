"""Write layers of the register to GeoJSON, GeoPackage, Shapefile, KML or CSV.

Files are written by GDAL (pyogrio) from whole columns, except CSV, which sapper writes
itself with a WKT column (or lon/lat columns for points) so it reads back the same.
Every file carries the register's ``id`` and every field, so it can be imported again
(``source_key`` keeps re-imports from duplicating records). Format limits:
- Shapefile: field names of at most 10 characters, so long names are shortened by a
  fixed table (``names.SHAPEFILE_NAMES``) that the importer reads back; one geometry
  type per file; text longer than 254 characters is cut by the format.
- KML: always WGS 84; the id is written as ``sapper_id`` because KML keeps ``id`` for
  its placemarks; a hazard's or site's name is the placemark's name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from sapper.formats.csvfile import write_csv
from sapper.formats.geoms import TYPE_IDS, from_wgs84, parse_crs
from sapper.formats.names import short_name
from sapper.model.errors import SapperError
from sapper.model.wkt import to_wkt_many
from sapper.store.register import Register
from sapper.store.schema import BOOLEAN, DATE, GEOMETRY, INTEGER, LAYERS, REAL, Layer
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
    """Write the layer's records (those in ``bbox`` and matching ``where``) to ``path``; return how many."""
    lay = _layer(layer)
    driver = driver_for(path, fmt)
    if crs:
        parse_crs(crs)
    # Stored rows, not records: their values are already what a file holds (vocabularies as
    # text, lists as "a,b"), which spares building and checking a record per row.
    records = reg.backend.select(lay, bbox=bbox, where=where)
    geoms = _geometries(lay, records, crs)
    if driver == "CSV":
        _write_csv(Path(path), lay, records, geoms, lonlat, crs)
    else:
        if lonlat:
            raise SapperError("--lonlat is for CSV files; other formats carry their geometry")
        _write_gdal(Path(path), driver, lay, records, geoms, crs, append)
    return len(records)


def export_all(reg: Register, path: str | Path, *, bbox: BBox | None = None) -> dict[str, int]:
    """Every layer into one GeoPackage (replacing the file), one table per layer."""
    path = Path(path)
    if driver_for(path) != "GPKG":
        raise SapperError("all layers go into one GeoPackage: give a .gpkg file (or export one --layer)")
    path.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    for i, lay in enumerate(LAYERS):
        box = bbox if lay.geometry_type else None
        counts[lay.name] = export_layer(reg, lay.name, path, bbox=box, append=i > 0)
    return counts


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
    path: Path, driver: str, lay: Layer, records: Rows, geoms: np.ndarray | None, crs: str | None, append: bool
) -> None:
    names, arrays, masks = _columns(lay, records)
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
    if not append:
        _remove(path, driver)
    import pyogrio.raw  # GDAL and, through pyogrio, pandas: loaded only when a file is written

    try:
        with _kml_fields_plain(driver):
            pyogrio.raw.write(
                str(path),
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
        raise SapperError(f"cannot write {path}: {str(exc).strip()}") from None


@contextmanager
def _kml_fields_plain(driver: str) -> Iterator[None]:
    """GDAL's KML writer takes a field called ``model`` for a 3D model (LIBKML_MODEL_FIELD) and
    drops the point; an item's model is the ordnance model, so point that option elsewhere."""
    if driver != "LIBKML":
        yield
        return
    import pyogrio

    pyogrio.set_gdal_config_options({"LIBKML_MODEL_FIELD": "sapper_no_such_field"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"LIBKML_MODEL_FIELD": None})


def _remove(path: Path, driver: str) -> None:
    """Replace, not add to, an earlier export (a Shapefile is several files)."""
    if driver == "ESRI Shapefile":
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            path.with_suffix(suffix).unlink(missing_ok=True)
    else:
        path.unlink(missing_ok=True)


def _shapefile_type(lay: Layer, geoms: np.ndarray) -> str:
    present = {SHAPE_TYPES.get(int(t), "?") for t in np.unique(shapely.get_type_id(geoms)) if t >= 0}
    if len(present) > 1 or "?" in present:
        raise SapperError(
            f"these {lay.name} mix geometry types ({', '.join(sorted(present))}) and a Shapefile holds one: "
            "export to GeoPackage or GeoJSON, or filter (e.g. kind=monument)"
        )
    return present.pop() if present else "Point"


def _columns(lay: Layer, records: Rows) -> tuple[list[str], list[np.ndarray], list[np.ndarray | None]]:
    """One typed array per field (and a null mask where the type cannot hold a null)."""
    names = ["id"]
    arrays: list[np.ndarray] = [np.asarray([record_id for record_id, _ in records], dtype=np.int64)]
    masks: list[np.ndarray | None] = [None]
    for col in lay.columns:
        if col.kind == GEOMETRY:
            continue
        values = [row[col.name] for _, row in records]
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
    return names, arrays, masks


def _write_csv(path: Path, lay: Layer, records: Rows, geoms: np.ndarray | None, lonlat: bool, crs: str | None) -> None:
    names = [c.name for c in lay.columns if c.kind != GEOMETRY]
    columns = ["id", *names]
    rows = [[str(record_id), *(csv_text(row[name]) for name in names)] for record_id, row in records]
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
