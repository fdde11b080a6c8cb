"""Records to rows and back, and user text to typed values.

A row is a dict of column name to a plain value: str for vocabularies ("a,b" for
lists), native date/datetime/bool/int/float, and a shapely geometry. Backends only
ever see rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, date, datetime
from functools import cache
from operator import countOf
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from sapper.model.records import Record
from sapper.store.record_maker import records_from_columns
from sapper.store.schema import (
    BOOLEAN,
    DATE,
    DATETIME,
    GEOMETRY,
    INTEGER,
    REAL,
    TEXT,
    Column,
    Layer,
)

TRUE_WORDS = {"1", "true", "yes", "y", "t", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "off", ""}


def to_row(lay: Layer, record: Record) -> dict[str, Any]:
    fields = record.__dict__
    row = {name: fields[name] for name in _plain_columns(lay)}
    for name in _vocabulary_columns(lay):
        value = fields[name]
        row[name] = None if value is None else value.value
    for name in _list_columns(lay):
        row[name] = ",".join(v.value for v in fields[name])
    return row


@cache
def _plain_columns(lay: Layer) -> tuple[str, ...]:
    return tuple(c.name for c in lay.columns if c.vocabulary is None)


@cache
def _vocabulary_columns(lay: Layer) -> tuple[str, ...]:
    return tuple(c.name for c in lay.columns if c.vocabulary is not None and not c.is_list)


@cache
def _list_columns(lay: Layer) -> tuple[str, ...]:
    return tuple(c.name for c in lay.columns if c.is_list)


def from_row(lay: Layer, row: dict[str, Any], record_id: int | None) -> Record:
    values: dict[str, Any] = {"id": record_id}
    for name, read in _readers(lay):
        if name in row:
            values[name] = read(row[name])
    return lay.record(**values)


def records(
    lay: Layer, ids: Sequence[int], columns: dict[str, Sequence[Any]], typed: Collection[str] = ()
) -> list[Record]:
    """``from_row`` of many rows given as columns (``column_reads.select_columns``), with the same result.

    Each column is read at once: one that already holds its field's type is taken whole (those named
    in ``typed`` without a look: the reader made them of that type or None), one of vocabulary words
    reads each distinct word once. A record whose every field is read is made without its
    ``__init__`` (dataclasses without ``__post_init__``: it only sets the fields).
    """
    names = ["id"]
    values = [ids]
    for name, col, read in _column_readers(lay):
        stored = columns.get(name)
        if stored is None:
            continue
        names.append(name)
        if name in typed and read(None) is None:
            values.append(stored)
        else:
            values.append(_read_column(col, read, stored))
    return records_from_columns(lay.record, names, values)


@cache
def _column_readers(lay: Layer) -> tuple[tuple[str, Column, Callable[[Any], Any]], ...]:
    return tuple((name, lay.column(name), read) for name, read in _readers(lay))


def _read_column(col: Column, read: Callable[[Any], Any], stored: Sequence[Any]) -> Sequence[Any]:
    """``read`` of every value of one column, doing only the work the column needs."""
    ready = _READY.get(col.kind) if col.vocabulary is None else None
    if ready is not None:
        if _all_of(ready, stored):
            return stored
        kinds = set(map(type, stored))
        kinds.discard(ready)
        if not kinds or (kinds == {type(None)} and read(None) is None):
            return stored
    elif col.vocabulary is not None:  # words from a short list: each distinct one is read once
        known = _known_words(col, read)
        try:
            return list(map(known.__getitem__, stored))
        except (KeyError, TypeError):  # no word, a word not in the list (or an alias), or not a word
            memo = {value: read(value) for value in set(stored)}
            return list(map(memo.__getitem__, stored))
    elif col.kind == GEOMETRY:  # decoded by the backend already: shapely geometries, or None
        kinds = set(map(type, stored))
        kinds.discard(type(None))
        if all(issubclass(kind, BaseGeometry) for kind in kinds) and read(None) is None:
            return stored
    return list(map(read, stored))


def _all_of(kind: type, stored: Sequence[Any]) -> bool:
    """Whether every value is exactly of type ``kind``, in one C-level pass that makes nothing: the
    values' types counted against ``kind`` (a third less time than the set of their types, measured
    on 516 names); integers by their sum, faster still."""
    if kind is int:
        return _all_ints(stored)
    return countOf(map(type, stored), kind) == len(stored)


def _all_ints(stored: Sequence[Any]) -> bool:
    """Whether every value is an int, found in one C-level pass: their sum is an int only if all are
    (a database driver gives int, never bool, for an integer column; text or None fails the sum)."""
    try:
        return type(sum(stored)) is int
    except TypeError:
        return False


@cache
def _known_words(col: Column, read: Callable[[Any], Any]) -> dict[str, Any]:
    """What ``read`` gives for each word of a single-word vocabulary column (lists, None and other
    values are read as they come). Its keys are all text: Python looks words up faster in such a dict
    than in one with None among its keys (a fifth less time for 516 words, measured)."""
    if col.is_list or col.vocabulary is None:
        return {}
    return {member.value: read(member.value) for member in col.vocabulary}


# Python types a backend hands back that need no conversion (Register.list of a large
# window spends most of its time here: a stored value of the right type is taken as is).
_READY = {TEXT: str, INTEGER: int, REAL: float, BOOLEAN: bool, DATE: date}


@cache
def _readers(lay: Layer) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    return tuple((col.name, _reader(col)) for col in lay.columns)


def _reader(col: Column) -> Callable[[Any], Any]:
    """``typed`` for one column, with a shortcut for values already of the field's type."""
    empty = typed(col, None)  # None, "" or (): immutable, so one object serves every row
    if col.vocabulary is not None and not col.is_list:
        members = {m.value: m for m in col.vocabulary}

        def vocabulary(value: Any) -> Any:
            if value is None:
                return empty
            member = members.get(value) if isinstance(value, str) else None
            return member if member is not None else typed(col, value)

        return vocabulary
    if col.kind == GEOMETRY:

        def geometry(value: Any) -> Any:
            if value is None:
                return empty
            return value if isinstance(value, BaseGeometry) else typed(col, value)

        return geometry
    if col.kind == DATETIME and col.vocabulary is None:

        def moment(value: Any) -> Any:
            if value is None:
                return empty
            return value if type(value) is datetime and value.tzinfo is not None else typed(col, value)

        return moment
    ready = _READY.get(col.kind) if col.vocabulary is None else None

    def plain(value: Any) -> Any:
        if value is None:
            return empty
        return value if type(value) is ready else typed(col, value)

    return plain


def typed(col: Column, value: Any) -> Any:
    """Turn a stored or typed-in value into the type the record field holds.

    Raises ValueError with a message fit for a user (no column name: callers add it).
    """
    if isinstance(value, str) and col.kind not in (TEXT,) and value.strip() == "" and col.nullable:
        return None
    if value is None:
        if col.is_list:
            return ()
        if col.kind == TEXT and col.vocabulary is None and not col.nullable:
            return ""
        return None
    if col.is_list:
        items = value if isinstance(value, (list, tuple)) else str(value).split(",")
        return tuple(col.vocabulary.parse(v) for v in items if str(v).strip())
    if col.vocabulary is not None:
        return col.vocabulary.parse(value)
    kind = col.kind
    if kind == TEXT:
        return str(value)
    if kind == INTEGER:
        return _integer(value)
    if kind == REAL:
        return float(value)
    if kind == BOOLEAN:
        return _boolean(value)
    if kind == DATE:
        return parse_date(value)
    if kind == DATETIME:
        return _datetime(value)
    if kind == GEOMETRY:
        return _geometry(value)
    raise AssertionError(f"unhandled column kind {kind}")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(value)
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number") from None
        return int(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, (bool, int)):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not yes/no")


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)") from None


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a date and time (ISO 8601)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _geometry(value: Any) -> BaseGeometry:
    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return shapely.from_wkb(bytes(value))
    try:
        return shapely.from_wkt(str(value))
    except shapely.errors.GEOSException as exc:
        raise ValueError(f"{str(value)[:40]!r} is not WKT geometry ({exc})") from None


def changed_fields(before: Record, after: Record) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(before)
        if f.name not in ("version",) and not _same(getattr(before, f.name), getattr(after, f.name))
    ]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, BaseGeometry) or isinstance(b, BaseGeometry):
        if a is None or b is None:
            return a is b
        return bool(a.equals_exact(b, 1e-9)) or (a.is_empty and b.is_empty)
    return a == b


_TEXT_OR_NONE = {str, type(None)}


def all_text(values: Iterable[Any]) -> bool:
    """Whether every value is text or None (a column as GDAL reads text, or ready for a text column)."""
    return set(map(type, values)) <= _TEXT_OR_NONE
