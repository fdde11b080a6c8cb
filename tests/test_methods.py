"""Method rules: allowed and chosen methods per sector, each refusal with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from sapper.model.enums import Contamination, ItemCategory, LandUse, Method, SiteKind, TeamKind
from sapper.model.errors import SapperError
from sapper.model.records import Hazard, ProtectedSite, Team
from sapper.plan.rules.datafiles import DATA_DIR
from sapper.plan.rules.methods import decide, load_rules, method_for, team_methods
from sapper.plan.rules.productivity import SEARCH_METHODS, load_productivity
from sapper.plan.rules.safety import load_safety

RULES = load_rules()
SECTOR = box(0, 0, 30, 80)


def hazard(**fields) -> Hazard:
    return Hazard(id=1, name="H1", geometry=SECTOR, **fields)


def test_inside_a_heritage_buffer_nothing_is_blown_up_and_no_machine_works() -> None:
    temple = ProtectedSite(name="Temple", kind=SiteKind.MONUMENT, geometry=Point(60, 40), buffer_m=50)
    d = decide(hazard(land_use=LandUse.OPEN_GROUND, contamination=Contamination.UXO), SECTOR, [temple], RULES)
    assert d.disposal == Method.RENDER_SAFE_REMOVE
    for method in (Method.DESTRUCTION_IN_PLACE, Method.MECHANICAL, Method.ROBOT):
        assert method in d.forbidden and "Temple" in d.forbidden[method] and "30 m" in d.forbidden[method]
    assert d.allowed == (Method.DOG, Method.MANUAL)  # open ground: robots and machines first, but not here
    far = ProtectedSite(name="Temple", kind=SiteKind.MONUMENT, geometry=Point(200, 40), buffer_m=50)
    d = decide(hazard(land_use=LandUse.OPEN_GROUND, contamination=Contamination.UXO), SECTOR, [far], RULES)
    assert d.allowed[:2] == (Method.ROBOT, Method.MECHANICAL) and d.disposal == Method.DESTRUCTION_IN_PLACE


def test_terrain_sets_the_methods_in_order_of_preference() -> None:
    def allowed(use: LandUse) -> tuple[Method, ...]:
        return decide(hazard(land_use=use, contamination=Contamination.UXO), SECTOR, [], RULES).allowed

    assert allowed(LandUse.RESIDENTIAL) == (Method.MANUAL, Method.ROBOT)  # buildings: people and small robots
    assert allowed(LandUse.ROAD) == (Method.MECHANICAL, Method.ROBOT, Method.MANUAL)  # route clearance
    assert allowed(LandUse.HERITAGE) == (Method.BAC, Method.MANUAL, Method.DOG)  # surface search of ruins
    road = decide(hazard(land_use=LandUse.ROAD), SECTOR, [], RULES)
    assert road.activity.value == "route_clearance"


def test_contamination_strikes_out_methods_with_its_reason() -> None:
    d = decide(hazard(land_use=LandUse.OPEN_GROUND, contamination=Contamination.AT_MINES), SECTOR, [], RULES)
    assert Method.ROBOT not in d.allowed and "anti-personnel mines only" in d.forbidden[Method.ROBOT]
    d = decide(hazard(land_use=LandUse.HERITAGE, contamination=Contamination.AP_MINES), SECTOR, [], RULES)
    assert Method.BAC not in d.allowed and "IMAS 09.11" in d.forbidden[Method.BAC]


def test_a_site_record_can_forbid_a_method_itself() -> None:
    plant = ProtectedSite(
        name="Pump", kind=SiteKind.OTHER, geometry=Point(15, 90), buffer_m=20, forbidden_methods=(Method.DOG,)
    )
    d = decide(hazard(land_use=LandUse.OPEN_GROUND), SECTOR, [plant], RULES)
    assert Method.DOG not in d.allowed and "register says" in d.forbidden[Method.DOG]


def test_a_heritage_site_inside_the_demolition_danger_area_forbids_a_blast() -> None:
    safety = load_safety()
    # UN SaferGuard: 444 x AUW^(1/6) without public access for a fragmenting shell; 130 x AUW^(1/3) bare
    assert safety.danger_radius(ItemCategory.UXO) == pytest.approx(444 * 22 ** (1 / 6))
    assert safety.danger_radius(ItemCategory.AT_MINE) == pytest.approx(130 * 10 ** (1 / 3))
    radius = safety.danger_radius(ItemCategory.UXO)  # about 743 m
    tomb = ProtectedSite(name="Tomb", kind=SiteKind.NECROPOLIS, geometry=Point(500, 40))  # 470 m away, no buffer
    d = decide(hazard(land_use=LandUse.OPEN_GROUND), SECTOR, [tomb], RULES, danger_radius_m=radius)
    assert d.disposal == Method.RENDER_SAFE_REMOVE and "SaferGuard" in d.forbidden[Method.DESTRUCTION_IN_PLACE]
    d = decide(hazard(land_use=LandUse.OPEN_GROUND), SECTOR, [tomb], RULES, danger_radius_m=100)
    assert d.disposal == Method.DESTRUCTION_IN_PLACE


def test_teams_use_their_capabilities_or_their_kinds_usual_methods() -> None:
    robot = Team(name="Uran", kind=TeamKind.ROBOT)
    section = Team(name="S1", kind=TeamKind.MANUAL, capabilities=(Method.MANUAL,))
    assert team_methods(robot, RULES) == (Method.ROBOT,)
    assert team_methods(section, RULES) == (Method.MANUAL,)
    heritage = decide(hazard(land_use=LandUse.HERITAGE, contamination=Contamination.UXO), SECTOR, [], RULES)
    assert method_for(team_methods(Team(name="S2", kind=TeamKind.MANUAL), RULES), heritage) == Method.BAC
    assert method_for(team_methods(robot, RULES), heritage) is None  # no robot among the ruins


def test_a_bad_rules_file_is_refused_with_its_place(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text((DATA_DIR / "methods.toml").read_text().replace('"manual", "robot"]', '"manual", "jetpack"]', 1))
    with pytest.raises(SapperError, match=r"rules.toml, terrain #2: methods: unknown method 'jetpack'"):
        load_rules(bad)


def test_every_search_method_has_a_cited_rate() -> None:
    prod = load_productivity()
    for method in SEARCH_METHODS:
        assert prod.search[method].source  # every figure says where it comes from
    assert prod.search[Method.MANUAL].rate.low == 5 and prod.search[Method.MANUAL].rate.high == 50


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(list(LandUse)),
    st.sampled_from(list(Contamination)),
    st.lists(
        st.tuples(st.sampled_from(list(SiteKind)), st.floats(0, 300), st.floats(0, 100), st.floats(0, 100)),
        max_size=4,
    ),
)
def test_allowed_and_forbidden_never_meet(use, contamination, sites) -> None:
    placed = [
        ProtectedSite(name=f"s{i}", kind=k, geometry=Point(x, y), buffer_m=b) for i, (k, x, y, b) in enumerate(sites)
    ]
    d = decide(hazard(land_use=use, contamination=contamination), SECTOR, placed, RULES, danger_radius_m=300)
    assert not set(d.allowed) & set(d.forbidden)
    assert set(d.allowed) <= set(RULES.terrain_for(use).methods)
    assert d.disposal not in d.forbidden
