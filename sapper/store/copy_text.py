"""Columns as PostgreSQL's COPY text format: each column turned into text at once.

A row is its columns' texts joined by tabs; NULL is ``\\N``; a backslash, tab, newline or
carriage return inside a text is escaped. Columns of words, dates and flags convert each
distinct value once; geometries become hex EWKB (with the SRID) in one shapely call.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely

from sapper.store.batch import map_distinct, storage_column
from sapper.store.schema import BOOLEAN, DATE, DATETIME, INTEGER, REAL, Layer

NULL = "\\N"
# Rows per write into the COPY stream: the server starts on the first rows while the next are
# made, and the text held at once stays small.
COPY_CHUNK = 5_000
_SPECIAL = ("\\", "\t", "\n", "\r")
FEW_SAMPLE = 1_000  # first values of a number column looked at to tell a column of few values
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_chunks(
    lay: Layer, ids: Sequence[int], columns: dict[str, Sequence[Any]], geoms: np.ndarray | None, chunk: int = COPY_CHUNK
) -> Iterator[str]:
    """New rows of ``lay`` (their ids, their fields' columns as ``batch.Batch`` holds them, then
    the geometries) as COPY text, ``chunk`` rows at a time, each column converted at once."""
    for start in range(0, len(ids), chunk):
        part = slice(start, start + chunk)
        texts = [copy_texts(INTEGER, ids[part])]
        texts += [copy_texts(col.kind, storage_column(col, columns[col.name][part])) for col in lay.attribute_columns]
        if geoms is not None:
            texts.append(ewkb_texts(geoms[part]))
        yield "\n".join(map("\t".join, zip(*texts))) + "\n"


def copy_texts(kind: str, values: Sequence[Any]) -> list[str]:
    """One column's values (as a row holds them) as COPY text."""
    if kind == BOOLEAN:
        return _nulls(map_distinct(lambda v: "t" if v else "f", values))
    if kind in (DATE, DATETIME):
        return _nulls(map_distinct(_iso, values))
    if kind in (INTEGER, REAL):
        return _numbers(values)
    return _text(values)


def ewkb_texts(geoms: np.ndarray, srid: int = 4326) -> list[str]:
    """Geometries as hex EWKB with the SRID (2D, as the register stores them): the ISO WKB of all
    of them in one call, turned to hex in one call, and each one's type word given PostGIS's SRID
    flag with the SRID after it (the rest is the same bytes)."""
    wkbs = shapely.to_wkb(geoms, output_dimension=2, flavor="iso", byte_order=1)
    missing = shapely.is_missing(geoms)
    present = wkbs[~missing].tolist()
    text = binascii.hexlify(b"".join(present)).decode("ascii")
    ends = np.cumsum(np.fromiter(map(len, present), dtype=np.int64, count=len(present)) * 2).tolist()
    # Little-endian type word: "01" (byte order), 3 bytes of type, then its top byte 00 -> 20 (the flag).
    flag_srid = "20" + srid.to_bytes(4, "little").hex()
    hexes = [text[a : a + 8] + flag_srid + text[a + 10 : b] for a, b in zip([0, *ends[:-1]], ends)]
    if not missing.any():
        return hexes
    out = np.full(len(geoms), NULL, dtype=object)
    out[~missing] = hexes
    return out.tolist()


def _nulls(texts: list[Any]) -> list[str]:
    return [NULL if t is None else t for t in texts] if None in texts else texts


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _numbers(values: Sequence[Any]) -> list[str]:
    kinds = set(map(type, values)) - {type(None)}
    plain = kinds <= {int}
    if not plain and kinds <= {int, float}:
        x = np.array(values, dtype=np.float64)  # None as NaN
        empty = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        plain = bool(np.isfinite(x[~empty]).all())  # else NaN and infinities are spelt for PostgreSQL
    convert = repr if plain else _number
    if kinds == {int} and len(set(values[:FEW_SAMPLE])) <= FEW_SAMPLE // 10:
        # A column of few whole numbers (versions, priorities, depths): each spelt once. Whole
        # numbers only: 1 and 1.0, or 0.0 and -0.0, are the same key but not the same text.
        return _nulls(map_distinct(convert, values))
    return [NULL if v is None else convert(v) for v in values] if None in values else list(map(convert, values))


def _number(value: Any) -> str:
    if isinstance(value, float) and not np.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return str(int(value)) if isinstance(value, bool) else str(value)


def _text(values: Sequence[Any]) -> list[str]:
    texts = values if set(map(type, values)) <= {str, type(None)} else [v if v is None else str(v) for v in values]
    has_null = None in texts
    joined = "".join([t for t in texts if t is not None] if has_null else texts)
    if any(c in joined for c in _SPECIAL):
        texts = [None if t is None else t.translate(_ESCAPES) for t in texts]
    return _nulls(list(texts))
