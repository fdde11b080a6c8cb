"""Rows written by binary COPY (PostGIS bulk inserts) read back as the same rows written one at a time.

Every kind of column goes both ways: whole and fractional numbers, empty numbers, flags, dates,
words, lists of words (empty too), text with tabs, newlines, backslashes and the text ``\\N``,
points and missing geometries.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from shapely.geometry import Point

from sapper import init_register
from sapper.model import Item, Team
from sapper.model.records import ItemCategory, ItemState, Method, TeamKind
from sapper.store.postgis import COPY_ROWS

N = COPY_ROWS + 200  # enough to go by COPY
TRICKY = ["tab\there", "line\nbreak", "back\\slash", "\\N", "", "ünïcödé ش", "cr\rlf"]


def teams(n: int) -> list[Team]:
    kinds, methods = list(TeamKind), list(Method)
    return [
        Team(
            name=f"T{i} {TRICKY[i % len(TRICKY)]}",
            kind=kinds[i % len(kinds)],
            source_key=f"T-{i}",
            geometry=None if i % 5 == 0 else Point(38.2 + i * 1e-4, 34.5 + i * 1e-5),
            personnel=1 + i % 13,
            lane_width_m=0.5 + (i % 7) / 3,
            capabilities=tuple(methods[: i % 4]),  # () every fourth team
            active=i % 3 != 0,
            restricted=i % 11 == 0,
            organisation=["", "mac", "ngo"][i % 3],
            notes=TRICKY[(i + 3) % len(TRICKY)],
        )
        for i in range(n)
    ]


def items(n: int) -> list[Item]:
    categories, states = list(ItemCategory), list(ItemState)
    return [
        Item(
            category=categories[i % len(categories)],
            state=states[i % len(states)],
            source_key=f"I-{i}",
            geometry=Point(38.2 + i * 1e-4, 34.5),
            model=TRICKY[i % len(TRICKY)],
            depth_cm=None if i % 4 == 0 else i / 7,
            weight_kg=None if i % 6 == 0 else float(i % 50),
            found_on=None if i % 5 == 0 else date(2016, 3, 1 + i % 28),
            notes=TRICKY[(i + 1) % len(TRICKY)],
        )
        for i in range(n)
    ]


def stored(records: list[Any]) -> list[dict[str, Any]]:
    out = []
    for rec in sorted(records, key=lambda r: r.source_key):
        row = dataclasses.asdict(rec)
        row.pop("id")
        row["geometry"] = None if rec.geometry is None else rec.geometry.wkb
        out.append(row)
    return out


@pytest.mark.parametrize("make", [teams, items], ids=["teams", "items"])
def test_a_bulk_insert_stores_what_inserts_one_at_a_time_store(pg_cluster, make) -> None:
    kind = "team" if make is teams else "item"
    with init_register(pg_cluster.new_database(), user="tester") as bulk:
        bulk.add_many(make(N))
        copied = stored(bulk.list(kind))
    with init_register(pg_cluster.new_database(), user="tester") as single:
        for rec in make(N):  # one INSERT each
            single.add_many([rec])
        inserted = stored(single.list(kind))
    assert len(copied) == N
    assert copied == inserted
