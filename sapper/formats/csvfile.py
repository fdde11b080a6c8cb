"""CSV in and out: geometry as a WKT column, or points as lon/lat columns.

sapper reads CSV itself (not through GDAL) so that a bad WKT or coordinate is reported
with its row number. "row 1" is the first data row, on the line after the header;
blank lines count as rows, as in a spreadsheet, but hold no record. The file may be
UTF-8 (with or without the byte-order mark Excel writes), or UTF-16 with its byte-order
mark (Excel's "Unicode Text", tab-separated); any other encoding (Excel's "CSV" on an
Arabic Windows writes Windows-1256) must be named, as guessing would garble the names
without a word. Values are separated by commas, semicolons, tabs or bars (guessed from
the header line).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from sapper.formats.atomic import replacing
from sapper.formats.table import Source
from sapper.model.errors import SapperError

WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
DELIMITERS = ",;\t|"
# Byte-order marks spreadsheets write, longest first (UTF-32's starts like UTF-16's).
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def read_csv(path: Path, encoding: str | None = None) -> Source:
    text = decode(path, encoding)
    if not text.strip():
        raise SapperError(f"{path} is empty")
    delimiter = guess_delimiter(text.split("\n", 1)[0])
    header, rows, numbers, row_problems = parse_rows(text, delimiter, path)
    columns = _columns(header, rows)
    geometries, problems, used = read_geometry_columns(header, columns, delimiter)
    problems.update(row_problems)
    fields = [name for name in header if name not in used]
    return Source(
        path=path,
        driver="CSV",
        layer=None,
        fields=fields,
        columns={name: columns[name] for name in fields},
        geometries=geometries,
        crs=None,
        row_word="row",
        problems=problems,
        has_geometry=bool(used),
        numbers=np.asarray(numbers, dtype=np.int64),
    )


def decode(path: Path, encoding: str | None = None) -> str:
    """The file's text: in ``encoding`` if given, else UTF-8 or UTF-16 as its byte-order mark says."""
    data = path.read_bytes()
    if encoding is not None:
        return _decode_as(path, data, encoding)
    for mark, name in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return _decode_as(path, data[len(mark) :], name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SapperError(
            f"{path.name} is not UTF-8 (byte {exc.start + 1} is not valid UTF-8): give its encoding with --encoding, "
            "e.g. cp1256 for Arabic Excel, cp1251 for Russian, cp1252 for Western European"
        ) from None


def _decode_as(path: Path, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError:
        raise SapperError(f"unknown encoding {encoding!r} (e.g. utf-8, cp1256, cp1251, utf-16)") from None
    except UnicodeDecodeError as exc:
        raise SapperError(
            f"{path.name} is not {encoding} (byte {exc.start + 1} cannot be read as {encoding})"
        ) from None


def guess_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_rows(
    text: str, delimiter: str, path: Path | str = "file"
) -> tuple[list[str], list[list[str]], list[int], dict[int, str]]:
    """Header, data rows (blank lines dropped), the row number of each kept row, and rows too long."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise SapperError(f"{path} is empty") from None
    for i, name in enumerate(header):
        if not name:
            raise SapperError(f"{path}: column {i + 1} of the header has no name")
        if name in header[:i]:
            raise SapperError(f"{path}: the header names column {name!r} twice")
    rows: list[list[str]] = []
    numbers: list[int] = []
    problems: dict[int, str] = {}
    width = len(header)
    try:
        for number, row in enumerate(reader, start=1):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) > width:
                problems[len(rows)] = f"has {len(row)} values but the header has {width} columns"
                row = row[:width]
            elif len(row) < width:
                row = row + [""] * (width - len(row))
            rows.append(row)
            numbers.append(number)
    except csv.Error as exc:
        raise SapperError(f"{path}: row {len(numbers) + 1}: {exc}") from None
    return header, rows, numbers, problems


def _columns(header: list[str], rows: list[list[str]]) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    for i, name in enumerate(header):
        values = np.empty(len(rows), dtype=object)
        values[:] = [None if (v := row[i].strip()) == "" else v for row in rows]
        columns[name] = values
    return columns


def find_column(header: Sequence[str], candidates: Iterable[str]) -> str | None:
    folded = {name.casefold(): name for name in header}
    for candidate in candidates:
        if candidate in folded:
            return folded[candidate]
    return None


def read_geometry_columns(
    header: list[str], columns: dict[str, np.ndarray], delimiter: str = ","
) -> tuple[np.ndarray, dict[int, str], set[str]]:
    """Geometries from a WKT column, else from lon/lat columns; the problems of bad rows; columns used."""
    n = len(next(iter(columns.values()))) if columns else 0
    wkt = find_column(header, WKT_NAMES)
    if wkt is not None:
        geoms, problems = parse_wkt(columns[wkt], wkt)
        return geoms, problems, {wkt}
    lon, lat = find_column(header, LON_NAMES), find_column(header, LAT_NAMES)
    if lon is not None and lat is not None:
        geoms, problems = parse_lonlat(columns[lon], columns[lat], lon, lat, decimal_comma=delimiter != ",")
        return geoms, problems, {lon, lat}
    return np.full(n, None, dtype=object), {}, set()


def parse_wkt(texts: np.ndarray, name: str = "wkt") -> tuple[np.ndarray, dict[int, str]]:
    geoms = shapely.from_wkt(texts, on_invalid="ignore")
    bad = np.flatnonzero(shapely.is_missing(geoms) & np.asarray([t is not None for t in texts], dtype=bool))
    problems = {int(i): f"{name}: {_short(texts[i])} is not WKT geometry" for i in bad}
    return np.asarray(shapely.force_2d(geoms), dtype=object), problems


def parse_lonlat(
    lons: np.ndarray, lats: np.ndarray, lon_name: str = "lon", lat_name: str = "lat", decimal_comma: bool = False
) -> tuple[np.ndarray, dict[int, str]]:
    x, x_bad = _floats(lons, decimal_comma)
    y, y_bad = _floats(lats, decimal_comma)
    problems: dict[int, str] = {}
    for i in y_bad:
        problems[i] = f"{lat_name}: {_short(lats[i])} is not a number"
    for i in x_bad:
        problems[i] = f"{lon_name}: {_short(lons[i])} is not a number"
    has_x, has_y = ~np.isnan(x), ~np.isnan(y)
    for i in np.flatnonzero(has_x & ~has_y):
        problems.setdefault(int(i), f"{lat_name} is missing")
    for i in np.flatnonzero(has_y & ~has_x):
        problems.setdefault(int(i), f"{lon_name} is missing")
    geoms = np.full(len(x), None, dtype=object)
    both = has_x & has_y
    geoms[both] = shapely.points(x[both], y[both])
    return geoms, problems


def _floats(values: np.ndarray, decimal_comma: bool) -> tuple[np.ndarray, list[int]]:
    """Numbers (NaN where empty) and the rows whose text is not a finite number."""
    out = np.full(len(values), np.nan)
    bad: list[int] = []
    for i, text in enumerate(values):
        if text is None:
            continue
        try:
            number = float(text.replace(",", ".") if decimal_comma else text)
        except ValueError:
            bad.append(i)
            continue
        if not np.isfinite(number):
            bad.append(i)
        else:
            out[i] = number
    return out, bad


def _short(text: Any) -> str:
    text = str(text)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a byte-order mark, so spreadsheets show Arabic and accented names right; written
    whole or not at all (a failure leaves no partial file and an older one as it was)."""
    with replacing(path) as temp, open(temp, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
