"""The pure model: vocabularies, state machines, land-release geometry and sums."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from sapper.model.enums import HazardStatus, ItemCategory, ItemState, ReleaseRoute
from sapper.model.errors import ForbiddenTransition
from sapper.model.geometry import area_m2, utm_epsg
from sapper.model.records import Release
from sapper.model.release import balance, split_hazard
from sapper.model.states import HAZARD_TRANSITIONS, ITEM_TRANSITIONS, check_transition
from sapper.store import gpkg_binary

PALMYRA = (38.27, 34.55)


def test_vocabulary_parses_loose_spelling_and_names_allowed_values() -> None:
    assert ItemCategory.parse("AP mine") is ItemCategory.AP_MINE
    assert ItemCategory.parse("ied-victim-operated") is ItemCategory.IED_VICTIM_OPERATED
    with pytest.raises(ValueError, match=r"unknown item category 'banana' \(allowed: ap_mine, at_mine"):
        ItemCategory.parse("banana")


def test_hazard_state_machine_refuses_going_back_and_leaving_released() -> None:
    check_transition("hazard 1", HazardStatus.SUSPECTED, HazardStatus.CONFIRMED, HAZARD_TRANSITIONS)
    with pytest.raises(ForbiddenTransition, match="hazard 1: cannot change from confirmed to suspected"):
        check_transition("hazard 1", HazardStatus.CONFIRMED, HazardStatus.SUSPECTED, HAZARD_TRANSITIONS)
    with pytest.raises(ForbiddenTransition, match="none, it is final"):
        check_transition("hazard 1", HazardStatus.RELEASED, HazardStatus.IN_CLEARANCE, HAZARD_TRANSITIONS)


def test_item_destroyed_is_final() -> None:
    check_transition("item 2", ItemState.FOUND, ItemState.RENDERED_SAFE, ITEM_TRANSITIONS)
    with pytest.raises(ForbiddenTransition, match="item 2"):
        check_transition("item 2", ItemState.DESTROYED_IN_PLACE, ItemState.FOUND, ITEM_TRANSITIONS)


def test_utm_zone_of_palmyra_is_37n() -> None:
    assert utm_epsg(*PALMYRA) == 32637
    assert utm_epsg(-70.0, -33.0) == 32719


def test_area_of_a_known_square() -> None:
    # 0.001 degree of latitude is 110.9 m near 34.5 N; of longitude 91.6 m (cos 34.5 = 0.824).
    square = box(38.27, 34.55, 38.271, 34.551)
    assert area_m2(square) == pytest.approx(110.9 * 91.8, rel=0.01)


fractions = st.floats(min_value=0.05, max_value=0.95)


@settings(max_examples=60, deadline=None)
@given(x0=fractions, x1=fractions, y0=fractions, y1=fractions)
def test_split_pieces_tile_the_hazard_and_areas_add_up(x0: float, x1: float, y0: float, y1: float) -> None:
    lon, lat = PALMYRA
    hazard = box(lon, lat, lon + 0.002, lat + 0.002)
    cut = box(lon + 0.002 * min(x0, x1), lat + 0.002 * min(y0, y1), lon + 0.002 * max(x0, x1) + 0.001, lat + 0.003)
    split = split_hazard(hazard, cut)
    whole = area_m2(hazard)
    # New vertices on a cut edge are projected exactly while the uncut edge is measured as a
    # chord, so measured pieces may differ from the whole by a few parts per million.
    assert split.released_m2 + split.remaining_m2 == pytest.approx(whole, rel=1e-5)
    assert split.released.intersection(split.remaining).area == pytest.approx(0.0, abs=1e-15)
    assert split.released.union(split.remaining).symmetric_difference(hazard).area < 1e-12


def test_split_that_covers_everything_closes_the_hazard() -> None:
    lon, lat = PALMYRA
    hazard = box(lon, lat, lon + 0.001, lat + 0.001)
    split = split_hazard(hazard, hazard.buffer(0.0001))
    assert split.closes_hazard
    assert split.remaining.is_empty
    assert split.released_m2 == pytest.approx(area_m2(hazard))


def test_balance_sums_routes() -> None:
    day = date(2016, 4, 1)
    pieces = [
        Release(hazard_id=1, route=ReleaseRoute.CLEARED, released_on=day, area_m2=30.0),
        Release(hazard_id=1, route=ReleaseRoute.CANCELLED, released_on=day, area_m2=50.0),
        Release(hazard_id=1, route=ReleaseRoute.CLEARED, released_on=day, area_m2=5.0),
    ]
    result = balance(100.0, pieces)
    assert (result.cleared, result.cancelled, result.reduced, result.hazardous) == (35.0, 50.0, 0.0, 15.0)
    assert result.hazardous + result.released == result.original


coords = st.floats(min_value=-179.0, max_value=179.0, allow_nan=False)
lats = st.floats(min_value=-89.0, max_value=89.0, allow_nan=False)


@settings(max_examples=100)
@given(x=coords, y=lats, w=st.floats(min_value=1e-6, max_value=0.5))
def test_geopackage_binary_round_trip_and_envelope(x: float, y: float, w: float) -> None:
    for geom in (Point(x, y), box(x, y, min(x + w, 180.0), min(y + w, 90.0))):
        blob = gpkg_binary.encode(geom)
        assert blob[:2] == b"GP"
        assert gpkg_binary.decode(blob).equals_exact(geom, 0.0)
        minx, miny, maxx, maxy = geom.bounds
        assert gpkg_binary.envelope(blob) == (minx, maxx, miny, maxy)
        assert gpkg_binary.is_empty(blob) == 0
