"""The ranges a record's fields must keep (a priority from 1 to 5, no negative depth...),
checked on whole columns: a test gives every row's answer at once, and only the rows that
fail have their message worded. A single record is checked as a batch of one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from sapper.i18n import N_
from sapper.model.errors import Problem
from sapper.model.records import Hazard, Item, ProtectedSite, Record, Release, Report, Team


@dataclass(frozen=True)
class RangeCheck:
    field: str
    passes: Callable[[list[Any]], np.ndarray]  # the column -> a bool per row
    problem: Callable[[Any], str]  # a failing value -> the message


def numbers(values: Sequence[Any]) -> np.ndarray:
    """A column as floats, None as NaN; a value that is no number is NaN too (it fails every test)."""
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([v if isinstance(v, (int, float)) else np.nan for v in values], dtype=np.float64)


def _named(values: list[Any]) -> np.ndarray:
    return np.fromiter((isinstance(v, str) and bool(v.strip()) for v in values), dtype=bool, count=len(values))


def _between(low: float, high: float = np.inf, *, empty_ok: bool = False) -> Callable[[list[Any]], np.ndarray]:
    def passes(values: list[Any]) -> np.ndarray:
        x = numbers(values)
        ok = (x >= low) & (x <= high)
        if empty_ok:
            ok |= np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        return ok

    return passes


def _above(low: float) -> Callable[[list[Any]], np.ndarray]:
    return lambda values: numbers(values) > low


def _not_ahead(values: list[Any]) -> np.ndarray:
    """Not after tomorrow (UTC): what happened cannot be dated in the future, wherever the office is."""
    latest = datetime.now(UTC).date() + timedelta(days=1)
    return np.fromiter((not isinstance(v, date) or v <= latest for v in values), dtype=bool, count=len(values))


def _dated(field: str) -> RangeCheck:
    return RangeCheck(field, _not_ahead, lambda v: Problem(N_("{field} {day} is in the future"), field=field, day=v))


def _says(message: str) -> Callable[[Any], str]:
    return lambda _value: message


NAMED = RangeCheck("name", _named, _says(N_("has no name")))
CHECKS: dict[type[Record], tuple[RangeCheck, ...]] = {
    Hazard: (
        NAMED,
        RangeCheck(
            "priority",
            _between(1, 5),
            lambda v: Problem(N_("priority {priority} is outside 1 (highest) to 5"), priority=v),
        ),
        RangeCheck("estimated_items", _between(0), _says(N_("estimated_items cannot be negative"))),
        RangeCheck("clearance_depth_cm", _between(0, empty_ok=True), _says(N_("clearance depth cannot be negative"))),
        _dated("reported_on"),
    ),
    Item: (
        RangeCheck("depth_cm", _between(0, empty_ok=True), _says(N_("depth cannot be negative"))),
        RangeCheck("weight_kg", _between(0, empty_ok=True), _says(N_("weight cannot be negative"))),
        _dated("found_on"),
    ),
    ProtectedSite: (
        NAMED,
        RangeCheck("buffer_m", _between(0), _says(N_("buffer cannot be negative"))),
        RangeCheck(
            "heritage_value",
            _between(0, 5),
            lambda v: Problem(N_("heritage value {value} is outside 0 to 5"), value=v),
        ),
    ),
    Team: (
        NAMED,
        RangeCheck("personnel", _between(1), _says(N_("a team has at least one person"))),
        RangeCheck("lane_width_m", _above(0), _says(N_("lane width must be positive"))),
    ),
    Report: (
        RangeCheck("items_found", _between(0), _says(N_("items found cannot be negative"))),
        RangeCheck("area_m2", _between(0), _says(N_("the area worked cannot be negative"))),
        _dated("report_date"),
    ),
    Release: (
        RangeCheck("area_m2", _between(0), _says(N_("released area cannot be negative"))),
        _dated("released_on"),
    ),
}


def checks_for(record_type: type[Record]) -> tuple[RangeCheck, ...]:
    for kind, checks in CHECKS.items():
        if issubclass(record_type, kind):
            return checks
    return ()


def range_problems(record_type: type[Record], columns: dict[str, list[Any]]) -> list[tuple[int, list[str]]]:
    """(row, its messages in the order of the checks) for each failing row, by row."""
    failing: dict[int, list[str]] = {}
    for check in checks_for(record_type):
        values = columns[check.field]
        for i in np.flatnonzero(~check.passes(values)).tolist():
            failing.setdefault(i, []).append(check.problem(values[i]))
    return sorted(failing.items())
