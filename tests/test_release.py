"""Land release on both backends: polygons split, books balance, hazards close."""

from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import Point, box

from sapper import Register
from sapper.model import Hazard, HazardStatus, InvalidRecord, ReleaseRoute, Report
from sapper.model.enums import ActivityType
from sapper.model.geometry import area_m2
from sapper.store.summary import summarise

LON, LAT = 38.27, 34.55
W = 0.004  # hazard side in degrees (about 370 x 440 m)


def hazard(reg: Register) -> Hazard:
    return reg.add(Hazard(name="Quarter", geometry=box(LON, LAT, LON + W, LAT + W), clearance_depth_cm=13))


def strip(x0: float, x1: float) -> object:
    return box(LON + x0 * W, LAT - 0.001, LON + x1 * W, LAT + W + 0.001)


def test_three_routes_split_the_polygon_and_the_books_always_balance(reg: Register) -> None:
    h = hazard(reg)
    original = h.original_area_m2
    steps = [
        (ReleaseRoute.CANCELLED, strip(0.0, 0.25)),
        (ReleaseRoute.REDUCED, strip(0.25, 0.5)),
        (ReleaseRoute.CLEARED, strip(0.5, 0.9)),
    ]
    for route, cut in steps:
        piece = reg.release(h.id, route, geometry=cut, on=date(2016, 4, 5))
        bal = reg.balance(h.id)
        assert bal.cancelled + bal.reduced + bal.cleared + bal.hazardous == pytest.approx(original, abs=1e-6)
        remaining = reg.get("hazard", h.id).geometry
        assert area_m2(remaining) == pytest.approx(bal.hazardous, rel=1e-5)
        assert piece.geometry.intersection(remaining).area == pytest.approx(0.0, abs=1e-14)
    bal = reg.balance(h.id)
    assert bal.cancelled == pytest.approx(original * 0.25, rel=1e-3)
    assert bal.cleared == pytest.approx(original * 0.40, rel=1e-3)
    assert reg.get("hazard", h.id).status == HazardStatus.SUSPECTED
    cleared = reg.list("release", where={"route": "cleared"})
    assert cleared[0].depth_cm == 13  # the hazard's clearance depth is recorded with the cleared land


def test_releasing_what_is_left_closes_the_hazard_exactly(reg: Register) -> None:
    h = hazard(reg)
    reg.release(h.id, "cleared", geometry=strip(0.0, 0.5))
    last = reg.release(h.id, "cleared")
    closed = reg.get("hazard", h.id)
    assert closed.status == HazardStatus.RELEASED and closed.geometry is None
    bal = reg.balance(h.id)
    assert bal.hazardous == 0.0
    assert bal.cleared == pytest.approx(h.original_area_m2, abs=1e-9)
    assert last.geometry.union(reg.list("release")[0].geometry).symmetric_difference(h.geometry).area < 1e-12
    with pytest.raises(InvalidRecord, match="hazard 1: is already released entirely"):
        reg.release(h.id, "cleared")


def test_release_outside_the_hazard_or_without_route_is_refused(reg: Register) -> None:
    h = hazard(reg)
    with pytest.raises(InvalidRecord, match="does not overlap the area still hazardous"):
        reg.release(h.id, "cleared", geometry=box(LON + 1, LAT, LON + 1.001, LAT + 0.001))
    with pytest.raises(InvalidRecord, match="say which route"):
        reg.release(h.id, None, geometry=strip(0, 0.5))
    with pytest.raises(InvalidRecord, match="Point geometry"):
        reg.release(h.id, "cleared", geometry=Point(LON, LAT))
    with pytest.raises(ValueError, match="unknown release route 'blown'"):
        reg.release(h.id, "blown", geometry=strip(0, 0.5))
    assert reg.count("release") == 0 and reg.get("hazard", 1).version == 0


def test_release_from_a_daily_report_takes_its_area_route_and_team(reg: Register) -> None:
    h = hazard(reg)
    report = reg.add(
        Report(activity_type=ActivityType.TS, report_date=date(2016, 4, 7), hazard_id=h.id, geometry=strip(0.0, 0.3))
    )
    piece = reg.release(h.id, report_id=report.id)
    assert (piece.route, piece.released_on, piece.report_id) == (ReleaseRoute.REDUCED, date(2016, 4, 7), report.id)
    assert reg.get("hazard", h.id).status == HazardStatus.IN_CLEARANCE


def test_summary_adds_up_over_the_register(reg: Register) -> None:
    first, second = hazard(reg), reg.add(Hazard(name="Road", geometry=box(LON + 0.01, LAT, LON + 0.011, LAT + 0.003)))
    reg.release(first.id, "cleared", geometry=strip(0, 0.5))
    reg.release(second.id, "cancelled")
    s = summarise(reg)
    assert s.land.original == pytest.approx(first.original_area_m2 + second.original_area_m2)
    assert s.land.cancelled == pytest.approx(second.original_area_m2)
    assert s.land.hazardous + s.land.released == pytest.approx(s.land.original)
    assert s.hazards[HazardStatus.RELEASED].count == 1 and s.hazards[HazardStatus.RELEASED].hazardous_m2 == 0.0
    assert s.hazards[HazardStatus.SUSPECTED].hazardous_m2 == pytest.approx(first.original_area_m2 / 2, rel=1e-3)
