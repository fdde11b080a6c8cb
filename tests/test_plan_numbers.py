"""Plans stored at the same time by two servers on one PostGIS take numbers one after the other."""

from __future__ import annotations

import threading

from sapper import init_register
from sapper.model.plan import Plan, PlanBundle
from sapper.store import open_register
from sapper.store.plans import next_number, save_plan


def empty_plan() -> PlanBundle:
    return PlanBundle(plan=Plan(), sectors=[], lanes=[], assignments=[], priorities=[])


def test_a_plan_stored_while_another_takes_its_number_waits_and_takes_the_next(pg_cluster) -> None:
    url = pg_cluster.new_database()
    init_register(url, user="one").close()
    with open_register(url, user="one") as first, open_register(url, user="two") as second:
        stored: list[int] = []
        other = threading.Thread(target=lambda: stored.append(save_plan(second, empty_plan()).number))
        with first.transaction():
            number = next_number(first)
            other.start()
            other.join(1.0)
            assert other.is_alive() and not stored, "the second server waits for the first's number"
            first.add(Plan(number=number))
        other.join(20)
        assert [number, *stored] == [1, 2]
        assert sorted(p.number for p in first.list("plan")) == [1, 2]
