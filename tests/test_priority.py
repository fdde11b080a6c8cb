"""Priority scores: what is at stake, the danger and the blockage, each part explained."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, ItemCategory, LandUse, SiteKind
from sapper.model.errors import SapperError
from sapper.model.records import Hazard, Item, ProtectedSite
from sapper.plan.rules.datafiles import DATA_DIR
from sapper.plan.rules.priority import access_links, load_weights, prioritise

WEIGHTS = load_weights()


def hazard(hid: int, x: float, y: float = 0.0, **fields) -> Hazard:
    """A 100 x 100 m hazard with its lower-left corner at (x, y), in metres."""
    return Hazard(id=hid, name=f"H{hid}", geometry=box(x, y, x + 100, y + 100), **fields)


def site(kind: SiteKind, x: float, y: float, **fields) -> ProtectedSite:
    return ProtectedSite(name=f"{kind.value} at {x:g}", kind=kind, geometry=Point(x, y), **fields)


def test_a_hospital_next_door_raises_the_score_and_says_so() -> None:
    near, far = hazard(1, 0), hazard(2, 5000)
    hospital = site(SiteKind.HOSPITAL, 150, 50)  # 50 m east of hazard 1
    ranked = prioritise([near, far], [hospital], [], WEIGHTS)
    by_id = {p.hazard_id: p for p in ranked}
    assert [p.hazard_id for p in ranked] == [1, 2]
    assert by_id[1].rank == 1 and by_id[2].rank == 2
    # full hospital points fall linearly to nothing at radius_m: 12 x (1 - 50 / 300) = 10
    assert by_id[1].points("stake") - by_id[2].points("stake") == pytest.approx(12 * (1 - 50 / 300))
    assert "hospital" in by_id[1].explain() and "50 m" in by_id[1].explain()
    assert by_id[2].points("stake") == pytest.approx(WEIGHTS.land_use[LandUse.OTHER])


def test_score_is_the_sum_of_its_parts_and_the_parts_follow_the_weights() -> None:
    h = hazard(1, 0, land_use=LandUse.HEALTH, contamination=Contamination.IED, estimated_items=10, priority=1)
    items = [Item(category=ItemCategory.IED_VICTIM_OPERATED, hazard_id=1, geometry=Point(10, 10))] * 4
    (p,) = prioritise([h], [], items, WEIGHTS)
    assert p.score == pytest.approx(sum(part.points for part in p.parts), abs=1e-3)
    assert p.points("stake") == WEIGHTS.land_use[LandUse.HEALTH]
    # 10 items on 1 ha, every item found an IED, IED contamination
    expected = min(10 * WEIGHTS.points_per_item_per_ha, WEIGHTS.density_max) + WEIGHTS.ied_points + 8
    assert p.points("danger") == pytest.approx(expected)
    assert p.points("register") == WEIGHTS.register_points[0]


def test_a_road_goes_before_the_quarters_it_leads_to() -> None:
    road = hazard(1, 0, land_use=LandUse.ROAD, blocks_access=True)
    quarter_a, quarter_b = hazard(2, 120), hazard(3, 0, 130)  # 20 m and 30 m from the road
    lone = hazard(4, 3000)
    second_road = hazard(5, 260, land_use=LandUse.ROAD)  # 40 m from quarter a, farther than the first road
    links = access_links([road, quarter_a, quarter_b, lone, second_road], WEIGHTS.access_m)
    assert sorted(links[1]) == [2, 3]  # each quarter is reached by its nearest road only
    assert links[5] == []
    ranked = {p.hazard_id: p for p in prioritise([road, quarter_a, quarter_b, lone], [], [], WEIGHTS)}
    assert ranked[1].points("blockage") == WEIGHTS.flag_points + 2 * WEIGHTS.per_hazard_reached
    assert ranked[2].points("blockage") == 0 and "way in to 2 hazards" in ranked[1].explain()


def test_weights_come_from_a_file_the_user_can_edit(tmp_path: Path) -> None:
    text = (DATA_DIR / "priority.toml").read_text()
    edited = tmp_path / "weights.toml"
    edited.write_text(text.replace("hospital = 12", "hospital = 0"))
    near, far = hazard(1, 0), hazard(2, 5000)
    hospital = site(SiteKind.HOSPITAL, 150, 50)
    ranked = prioritise([near, far], [hospital], [], load_weights(edited))
    assert ranked[0].score == ranked[1].score


def test_a_bad_weights_file_names_the_file_and_the_key(tmp_path: Path) -> None:
    text = (DATA_DIR / "priority.toml").read_text()
    bad = tmp_path / "weights.toml"
    bad.write_text(text.replace("hospital = 12", 'hospital = "high"'))
    with pytest.raises(SapperError, match=r"weights.toml, table stake.site_kind: hospital: 'high' is not a number"):
        load_weights(bad)
    bad.write_text(text.replace("hospital = 12", "hopsital = 12"))
    with pytest.raises(SapperError, match=r"unknown site kind 'hopsital'"):
        load_weights(bad)
    bad.write_text("[stake\n")
    with pytest.raises(SapperError, match="not valid TOML"):
        load_weights(bad)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-2000, 2000), st.floats(-2000, 2000), st.sampled_from(list(SiteKind))), max_size=6),
    st.tuples(st.floats(-2000, 2000), st.floats(-2000, 2000), st.sampled_from(list(SiteKind))),
    st.lists(st.sampled_from(list(LandUse)), min_size=1, max_size=5),
)
def test_a_site_more_never_lowers_a_score_and_ranks_follow_scores(sites, extra, uses) -> None:
    hazards = [hazard(i + 1, 300.0 * i, land_use=use) for i, use in enumerate(uses)]
    placed = [site(kind, x, y, heritage_value=3) for x, y, kind in sites]
    before = {p.hazard_id: p for p in prioritise(hazards, placed, [], WEIGHTS)}
    after = {p.hazard_id: p for p in prioritise(hazards, [*placed, site(extra[2], extra[0], extra[1])], [], WEIGHTS)}
    for hid, p in after.items():
        assert p.score >= before[hid].score - 1e-9
        assert p.points("stake") <= WEIGHTS.stake_max + 1e-9
    ordered = sorted(after.values(), key=lambda p: p.rank)
    assert [p.rank for p in ordered] == list(range(1, len(hazards) + 1))
    assert all(a.score >= b.score for a, b in itertools.pairwise(ordered))
