"""Source values to record field values, one column at a time.

A column is converted by its distinct values (a category column of a million rows has
a handful), and numeric or date columns GDAL already typed go through numpy, so the
cost does not grow with a Python call per cell. Problems come back per row, worded
for the user: ``category: unknown item category 'banana' (allowed: ...)``.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from typing import Any

import numpy as np

from sapper.formats.mapping import fold
from sapper.store.rows import all_text, typed
from sapper.store.schema import BOOLEAN, DATE, INTEGER, REAL, TEXT, Column, Layer


class _Missing:
    """An empty cell of a field that has a default: the record keeps its default or held value."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_SLASHED_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})")


def required_fields(lay: Layer) -> set[str]:
    """Fields a new record cannot do without (no default in the model)."""
    return {
        f.name
        for f in dataclasses.fields(lay.record)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    } - {"geometry"}


def plain(values: np.ndarray) -> list[Any]:
    """Python values from a column as read; empty text, NaN and NaT become None."""
    kind = values.dtype.kind
    if kind == "f":
        out = values.astype(object)
        out[np.isnan(values)] = None
        return out.tolist()
    if kind == "M":
        unit = np.datetime_data(values.dtype)[0]
        as_dates = unit in ("D", "W", "M", "Y")
        return values.astype("datetime64[D]" if as_dates else "datetime64[us]").tolist()
    if kind in "iub":
        return values.tolist()
    cells = values.tolist()
    if all_text(cells):  # as GDAL reads text: only blank cells to clear
        return [v if v is None or v.strip() else None for v in cells]
    return [None if v is None or (isinstance(v, str) and not v.strip()) else v for v in cells]


def convert_column(
    col: Column,
    values: np.ndarray,
    value_map: dict[str, Any] | None = None,
    date_format: str | None = None,
    required: bool = False,
) -> tuple[list[Any], dict[int, str]]:
    """Typed values for one field (MISSING where empty and a default applies) and row problems.

    Each distinct value is converted once (a column of words holds a handful in a million rows);
    text for a text field is taken as it is, only blank cells replaced."""
    fast = _fast(col, values) if not value_map else None
    if fast is not None:
        return fast, {}
    text_field = col.kind == TEXT and col.vocabulary is None
    # Cells as read: a blank one is converted as empty below, once per distinct value, not cleared cell by cell.
    cells = values.tolist() if values.dtype.kind == "O" and not text_field and not value_map else plain(values)
    if text_field and not value_map and all_text(cells):
        empty, _ = _empty(col, required)  # a text field is never missing: "" or None
        return [empty if v is None else v for v in cells], {}
    kinds = set(map(type, cells)) - {type(None)}
    keys: list[Any] = cells if len(kinds) <= 1 else list(zip(map(type, cells), cells))  # 1, 1.0 and True apart
    try:
        distinct = dict(zip(keys, cells))
    except TypeError:  # unhashable cells: one by one
        outcomes = [convert_value(col, raw, value_map, date_format, required) for raw in cells]
        problems = {i: f"{col.name}: {problem}" for i, (_, problem) in enumerate(outcomes) if problem is not None}
        return [value for value, _ in outcomes], problems
    # Per distinct value, then a lookup per cell: no pass over the cells' outcomes.
    memo = {key: convert_value(col, raw, value_map, date_format, required) for key, raw in distinct.items()}
    out = list(map({key: value for key, (value, _) in memo.items()}.__getitem__, keys))
    bad = {key: problem for key, (_, problem) in memo.items() if problem is not None}
    problems = {i: f"{col.name}: {bad[key]}" for i, key in enumerate(keys) if key in bad} if bad else {}
    return out, problems


def convert_value(
    col: Column, raw: Any, value_map: dict[str, Any] | None, date_format: str | None, required: bool
) -> tuple[Any, str | None]:
    """One cell: (value, None) or (None, why it cannot be taken)."""
    if raw is not None and value_map:
        folded = fold(raw)
        if folded in value_map:
            raw = value_map[folded]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return _empty(col, required)
    try:
        return typed(col, _prepare(col, raw, date_format)), None
    except ValueError as exc:
        return None, str(exc)


def _empty(col: Column, required: bool) -> tuple[Any, str | None]:
    if col.is_list:
        return (), None
    if col.nullable:
        return None, None
    if col.kind == TEXT and col.vocabulary is None:
        return "", None
    if required:
        return None, "is missing"
    return MISSING, None


def _prepare(col: Column, raw: Any, date_format: str | None) -> Any:
    """What ``typed`` cannot take as is: numbers for text fields, dates in other spellings."""
    if isinstance(raw, np.generic):
        raw = raw.item()
    if col.kind == TEXT and col.vocabulary is None and isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if col.kind == DATE and isinstance(raw, str):
        return parse_date_text(raw, date_format)
    if col.kind == REAL and isinstance(raw, str):
        return _number(raw)
    return raw


def parse_date_text(text: str, date_format: str | None = None) -> date:
    """YYYY-MM-DD (also with slashes, as GDAL writes KML dates), or the mapping's date_format."""
    text = text.strip()
    if date_format:
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            raise ValueError(f"{text!r} is not a date in the form {readable_format(date_format)}") from None
    slashed = _SLASHED_DATE.match(text)
    if slashed:
        year, month, day = (int(g) for g in slashed.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None
    return typed(Column("date", DATE), text)


def readable_format(date_format: str) -> str:
    """%d/%m/%Y as a user reads it: DD/MM/YYYY."""
    for code, word in (("%d", "DD"), ("%m", "MM"), ("%Y", "YYYY"), ("%y", "YY"), ("%b", "Mon"), ("%B", "Month")):
        date_format = date_format.replace(code, word)
    return date_format


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"{text!r} is not a number")
    return value


def _fast(col: Column, values: np.ndarray) -> list[Any] | None:
    """Columns GDAL already typed the way the field is: converted by numpy, no per-cell call."""
    kind = values.dtype.kind
    if col.vocabulary is not None or col.is_list:
        return None
    if col.kind == REAL and kind in "fiu" and col.nullable:
        out = values.astype(np.float64).astype(object)
        if kind == "f":
            out[~np.isfinite(values)] = None
        return out.tolist()
    if col.kind == INTEGER and kind in "iu":
        return values.tolist()
    if col.kind == BOOLEAN and kind == "b":
        return values.tolist()
    if col.kind == DATE and kind == "M" and col.nullable:
        return values.astype("datetime64[D]").tolist()
    return None
