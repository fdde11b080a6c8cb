"""``field=value`` words from the command line, turned into typed record fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from sapper.cli.record_words import field_called
from sapper.i18n import _
from sapper.model.errors import SapperError
from sapper.store.rows import typed
from sapper.store.schema import GEOMETRY, Column, Layer

READ_ONLY = {"version", "original_area_m2"}


def parse_assignments(lay: Layer, words: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for word in words:
        if "=" not in word:
            raise SapperError(
                _(
                    "{word!r}: expected field=value (fields of {kind}: {fields})",
                    word=word,
                    kind=lay.kind,
                    fields=field_names(lay),
                )
            )
        given, raw = word.split("=", 1)
        col = _column(lay, given.strip())
        name = col.name
        if name in READ_ONLY:
            raise SapperError(_("{name} is kept by the register and cannot be set", name=name))
        try:
            values[name] = read_geometry(raw) if col.kind == GEOMETRY else typed(col, raw)
        except ValueError as exc:
            raise SapperError(f"{name}: {exc}") from None
    return values


def _column(lay: Layer, given: str) -> Column:
    """The column named ``given``, or the one ``show`` and ``list`` head with that word (``date=`` of a report)."""
    try:
        return lay.column(given)
    except KeyError as exc:
        name = field_called(lay, given)
        if name is None:
            raise SapperError(exc.args[0]) from None
        return lay.column(name)


def field_names(lay: Layer) -> str:
    return ", ".join(c.name for c in lay.columns if c.name not in READ_ONLY)


def read_geometry(text: str) -> BaseGeometry:
    """WKT in lon/lat, or ``@file`` for the first feature of any vector file (reprojected)."""
    text = text.strip()
    if text.startswith("@"):
        return _geometry_from_file(Path(text[1:]))
    try:
        return shapely.from_wkt(text)
    except shapely.errors.GEOSException as exc:
        raise ValueError(_("not WKT ({problem}); give WKT in lon/lat or @file", problem=exc)) from None


def _geometry_from_file(path: Path) -> BaseGeometry:
    from sapper.model.geometry import transform_crs

    if not path.exists():
        raise ValueError(_("{path} does not exist", path=path))
    meta, geoms = _read_geometries(path)
    if not geoms:
        raise ValueError(_("{path} has no features", path=path))
    geom = geoms[0]
    crs = meta.get("crs")
    if crs and crs.upper() not in ("EPSG:4326", "OGC:CRS84"):
        geom = transform_crs(geom, crs)
    return geom


def _read_geometries(path: Path) -> tuple[dict[str, Any], list[BaseGeometry]]:
    import pyogrio

    meta, _fids, geometry, _fields = pyogrio.raw.read(path, max_features=1)
    return meta, [shapely.from_wkb(g) for g in geometry if g is not None]
