"""A first bulk load into an empty PostGIS layer builds the spatial index after its rows.

As ogr2ogr and pg_restore do: the GiST index is dropped inside the load's transaction and made
again before its commit, so the register ends with the same index, used by window reads, and
fresh statistics; a load that fails keeps the index as it was; a load into a layer that already
holds rows keeps its index all along, and other readers of that layer are never held up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from sapper import Register, init_register
from sapper.model import InvalidRecord
from sapper.store import rules
from sapper.store.batch import Batch, Problems
from sapper.store.postgis import BULK_STATISTICS_TARGET, INDEX_AFTER_ROWS
from sapper.store.schema import Layer
from tests.test_bulk_polygons import BAD, hazards

N = INDEX_AFTER_ROWS + 1_000


@pytest.fixture
def url(pg_cluster) -> str:
    return pg_cluster.new_database()


@pytest.fixture
def reg(url: str) -> Iterator[Register]:
    register = init_register(url, user="tester")
    yield register
    register.close()


def gist_indexes(url: str) -> list[str]:
    sql = "SELECT indexdef FROM pg_indexes WHERE tablename = 'hazards' AND indexdef LIKE '%USING gist%'"
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(sql)]


def seen_while_loading(
    reg: Register, url: str, batch: list[Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[set[str], bool]:
    """The locks another session sees on the hazards table while the load checks its second
    piece, and whether that session could read the table then (without waiting over a second)."""
    prepare_new = rules.prepare_new
    seen: set[str] = set()
    calls = []
    could_read = []

    def watched(register: Register, lay: Layer, part: Batch, **kwargs: Any) -> tuple[Batch, Problems]:
        calls.append(len(part))
        if len(calls) == 2:
            reg.backend.writes.wait()  # the first piece's writes (the drop of the index with them) are done
            with psycopg.connect(url, autocommit=True) as other:
                sql = (  # this database's table: a copy of the template has the same oid in every other
                    "SELECT mode FROM pg_locks WHERE relation = 'hazards'::regclass "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
                seen.update(r[0] for r in other.execute(sql))
                other.execute("SET lock_timeout = '1s'")
                try:
                    other.execute("SELECT count(*) FROM hazards")
                    could_read.append(True)
                except psycopg.errors.LockNotAvailable:
                    could_read.append(False)
        return prepare_new(register, lay, part, **kwargs)

    monkeypatch.setattr(rules, "prepare_new", watched)
    reg.add_many(batch)
    assert len(calls) >= 2
    return seen, could_read[0]


def test_a_first_load_ends_with_the_same_index_used_by_windows_and_fresh_statistics(
    reg: Register, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = gist_indexes(url)
    assert before
    locks, could_read = seen_while_loading(reg, url, hazards(N), monkeypatch)
    assert "AccessExclusiveLock" in locks and not could_read  # the index was dropped for the load
    assert gist_indexes(url) == before
    with psycopg.connect(url) as conn:
        conn.execute("SET enable_seqscan = off")  # the plan must be able to use the index at all
        window = "SELECT id FROM hazards WHERE geom && ST_MakeEnvelope(38.27, 34.55, 38.28, 34.56, 4326)"
        plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN {window}"))
        assert "hazards_geom_idx" in plan
        stats = {r[0] for r in conn.execute("SELECT attname FROM pg_stats WHERE tablename = 'hazards'")}
        assert {"id", "geom", "organisation", "restricted"} <= stats
        # a quick sample (autovacuum takes the full one later): the histogram of ids has the small target's bounds
        bounds = "SELECT histogram_bounds::text FROM pg_stats WHERE tablename = 'hazards' AND attname = 'id'"
        assert conn.execute(bounds).fetchone()[0].count(",") + 1 == BULK_STATISTICS_TARGET + 1
        assert conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'hazards'").fetchone()[0] == N
    assert len(reg.list("hazard", bbox=(38.27, 34.55, 38.28, 34.56))) > 0


@pytest.mark.parametrize("bad", ["invalid", "empty"])
def test_a_failed_first_load_keeps_the_index_as_it_was(reg: Register, url: str, bad: str) -> None:
    before = gist_indexes(url)
    batch = hazards(N)
    batch[N - 5] = dataclasses.replace(batch[N - 5], geometry=BAD[bad][0])  # in the last piece
    with pytest.raises(InvalidRecord):
        reg.add_many(batch)
    assert gist_indexes(url) == before
    assert len(reg.add_many(hazards(N))) == N  # and the next load goes in, index and all
    assert gist_indexes(url) == before


def test_a_load_into_a_layer_with_rows_keeps_its_index_and_readers_go_on(
    reg: Register, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg.add_many(hazards(3, prefix="held"))
    before = gist_indexes(url)
    locks, could_read = seen_while_loading(reg, url, hazards(N), monkeypatch)
    assert "AccessExclusiveLock" not in locks and could_read
    assert gist_indexes(url) == before
