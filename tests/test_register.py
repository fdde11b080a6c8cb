"""The register API on both backends: records, checks, state machines, conflicts, history."""

from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import Point, Polygon, box

from sapper import Register, init_register, open_register
from sapper.model import (
    Activity,
    Conflict,
    ForbiddenTransition,
    Hazard,
    HazardClass,
    HazardStatus,
    InvalidRecord,
    Item,
    ItemCategory,
    ItemState,
    Method,
    NotFound,
    ProtectedSite,
    Report,
    SiteKind,
    Team,
    TeamKind,
)
from sapper.model.enums import ActivityType

LON, LAT = 38.27, 34.55
# Metres per degree near Palmyra (34.55 N): latitude 110.9 km, longitude 111.3 km x cos(34.55) = 91.7 km.
M_LAT, M_LON = 110_900.0, 91_700.0


def field(dx: float = 0.0, size: float = 0.002, name: str = "Field") -> Hazard:
    return Hazard(name=name, geometry=box(LON + dx, LAT, LON + dx + size, LAT + size), priority=2)


def test_every_kind_round_trips_with_its_values(reg: Register) -> None:
    hazard = reg.add(
        Hazard(
            name="Colonnade west",
            geometry=box(LON, LAT, LON + 0.002, LAT + 0.001),
            contamination="ied",
            evidence="local informant; IED casualty 2016-03-28",
            priority=1,
            blocks_access=True,
            estimated_items=40,
            clearance_depth_cm=13,
            reported_on=date(2016, 3, 30),
            organisation="MAC",
        )
    )
    team = reg.add(
        Team(
            name="Manual 1",
            kind=TeamKind.MANUAL,
            geometry=Point(LON + 0.01, LAT),
            personnel=8,
            lane_width_m=1.0,
            capabilities=(Method.MANUAL, Method.RENDER_SAFE_REMOVE),
        )
    )
    item = reg.add(
        Item(
            category="ied_victim_operated",
            geometry=Point(LON + 0.0005, LAT + 0.0005),
            hazard_id=hazard.id,
            team_id=team.id,
            model="pressure plate",
            depth_cm=5.0,
            weight_kg=12.5,
            found_on=date(2016, 4, 2),
        )
    )
    site = reg.add(
        ProtectedSite(
            name="Temple of Bel",
            kind=SiteKind.MONUMENT,
            geometry=Point(LON + 0.003, LAT),
            buffer_m=100,
            forbidden_methods=(Method.DESTRUCTION_IN_PLACE, Method.MECHANICAL),
            heritage_value=5,
        )
    )
    activity = reg.add(Activity(activity_type="clearance", hazard_id=hazard.id, team_id=team.id))
    for stored in (hazard, team, item, site, activity):
        again = reg.get(type(stored), stored.id)
        for name, value in stored.__dict__.items():
            if name == "geometry":
                assert again.geometry.equals_exact(value, 1e-12)
            else:
                assert getattr(again, name) == value, name
    assert reg.get("hazard", hazard.id).original_area_m2 == pytest.approx(0.002 * M_LON * 0.001 * M_LAT, rel=0.01)
    assert reg.get("site", site.id).forbidden_methods == (Method.DESTRUCTION_IN_PLACE, Method.MECHANICAL)


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (Hazard(name="Empty", geometry=Polygon()), "has an empty geometry"),
        (Hazard(name="Flat", geometry=box(LON, LAT, LON, LAT)), "has an invalid geometry"),
        (Hazard(name="Dot", geometry=Point(LON, LAT)), "has a Point geometry where Polygon or MultiPolygon"),
        (Hazard(name="Far", geometry=box(500, 0, 501, 1)), "outside lon/lat range"),
        (Hazard(name="Urgent", geometry=box(LON, LAT, LON + 1e-3, LAT + 1e-3), priority=0), "priority 0 is outside"),
        (Item(category=ItemCategory.UXO, geometry=None), "has no geometry"),
        (Item(category=ItemCategory.UXO, geometry=Point(LON, LAT), hazard_id=99), "hazard_id names hazard 99"),
        (Team(name="T", kind=TeamKind.DOG, personnel=0), "at least one person"),
    ],
)
def test_bad_records_are_refused_with_the_problem(reg: Register, record: object, problem: str) -> None:
    with pytest.raises(InvalidRecord, match=problem):
        reg.add(record)
    assert reg.count(type(record)) == 0


def test_self_intersecting_polygon_names_the_record(reg: Register) -> None:
    bowtie = Polygon([(LON, LAT), (LON + 1e-3, LAT + 1e-3), (LON + 1e-3, LAT), (LON, LAT + 1e-3)])
    with pytest.raises(InvalidRecord, match=r"hazard 'Bowtie': has an invalid geometry \(Self-intersection"):
        reg.add(Hazard(name="Bowtie", geometry=bowtie))


def test_add_many_is_all_or_nothing(reg: Register) -> None:
    good = [field(0.01 * i, name=f"H{i}") for i in range(5)]
    bad = Hazard(name="Broken", geometry=Point(LON, LAT))
    with pytest.raises(InvalidRecord, match="Broken"):
        reg.add_many([*good, bad])
    assert reg.count("hazard") == 0
    assert reg.add_many(good)[-1].id == 5


def test_an_error_inside_a_transaction_rolls_everything_back(reg: Register) -> None:
    reg.add(field(name="Kept"))
    with pytest.raises(RuntimeError), reg.transaction():
        reg.add(field(0.01, name="Lost"))
        reg.change("hazard", 1, notes="lost too")
        raise RuntimeError("crash in the middle of a write")
    assert [h.name for h in reg.list("hazard")] == ["Kept"]
    assert reg.get("hazard", 1).notes == ""
    assert len(reg.history("hazard", 1)) == 1


def test_update_refuses_a_stale_version(reg: Register) -> None:
    reg.add(field())
    alice = reg.get("hazard", 1)
    bob = reg.get("hazard", 1)
    reg.update(alice.__class__(**{**alice.__dict__, "notes": "alice"}))
    with pytest.raises(Conflict, match=r"hazard 1 was changed by someone else .*version 0, it is now at version 1"):
        reg.update(bob.__class__(**{**bob.__dict__, "notes": "bob"}))
    assert reg.get("hazard", 1).notes == "alice"


def test_status_changes_follow_the_state_machine(reg: Register) -> None:
    reg.add(field())
    confirmed = reg.change("hazard", 1, status=HazardStatus.CONFIRMED)
    assert confirmed.hazard_class == HazardClass.CHA
    with pytest.raises(ForbiddenTransition, match="cannot change from confirmed to suspected"):
        reg.change("hazard", 1, status=HazardStatus.SUSPECTED)
    with pytest.raises(InvalidRecord, match="released by releasing its land"):
        reg.change("hazard", 1, status=HazardStatus.RELEASED)
    assert reg.get("hazard", 1).status == HazardStatus.CONFIRMED


def test_older_information_does_not_overwrite_newer(reg: Register) -> None:
    reg.add(Hazard(name="H", geometry=box(LON, LAT, LON + 1e-3, LAT + 1e-3), reported_on=date(2016, 4, 10)))
    with pytest.raises(InvalidRecord, match="information dated 2016-04-01 is older than the 2016-04-10"):
        reg.change("hazard", 1, reported_on=date(2016, 4, 1), notes="stale")
    reg.change("hazard", 1, reported_on=date(2016, 4, 12), notes="fresh")
    assert reg.get("hazard", 1).notes == "fresh"


def test_history_keeps_every_version_with_who_and_when(target: str) -> None:
    with init_register(target, user="ali") as reg:
        reg.add(field(name="Before"))
    with open_register(target, user="maria") as reg:
        reg.change("hazard", 1, name="After", priority=1)
        reg.change("hazard", 1, geometry=box(LON, LAT, LON + 0.003, LAT + 0.003))
        entries = reg.history("hazard", 1)
    assert [(e.user, e.action, e.version) for e in entries] == [
        ("ali", "insert", 0),
        ("maria", "update", 1),
        ("maria", "update", 2),
    ]
    assert entries[1].before["name"] == "Before" and entries[1].after["name"] == "After"
    assert entries[1].before["priority"] == 2 and entries[1].after["priority"] == 1
    assert (
        entries[2].before["geometry"].startswith("MULTIPOLYGON")
        and entries[2].before["geometry"] != entries[2].after["geometry"]
    )
    assert entries[0].at <= entries[1].at <= entries[2].at


def test_delete_keeps_the_last_state_and_refuses_when_referenced(reg: Register) -> None:
    hazard = reg.add(field())
    reg.add(Item(category="uxo", geometry=Point(LON + 1e-4, LAT + 1e-4), hazard_id=hazard.id))
    with pytest.raises(InvalidRecord, match="hazard 1: is still referred to by 1 items"):
        reg.delete("hazard", 1)
    reg.delete("item", 1)
    reg.delete("hazard", 1)
    with pytest.raises(NotFound, match="hazard 1 does not exist"):
        reg.get("hazard", 1)
    last = reg.history("hazard", 1)[-1]
    assert last.action == "delete" and last.before["name"] == "Field" and last.after is None
    assert reg.add(field()).id == 2  # ids are never reused, so history stays unambiguous


def test_bbox_and_distance_queries(reg: Register) -> None:
    reg.add_many([field(0.01 * i, size=0.001, name=f"H{i}") for i in range(10)])
    inside = reg.list("hazard", bbox=(LON + 0.0195, LAT - 0.001, LON + 0.0405, LAT + 0.002))
    assert [h.name for h in inside] == ["H2", "H3", "H4"]
    assert reg.count("hazard", bbox=(LON + 0.0195, LAT - 0.001, LON + 0.0405, LAT + 0.002)) == 3
    # H0 spans LON..LON+0.001; a point 0.0015 deg (about 137 m) east of its east edge.
    probe = Point(LON + 0.0025, LAT + 0.0005)
    near = reg.near("hazard", probe, 150.0)
    assert [h.name for h, _ in near] == ["H0"]
    assert near[0][1] == pytest.approx(0.0015 * M_LON, rel=0.01)
    assert [h.name for h, _ in reg.near("hazard", probe, 1000.0)][:2] == ["H0", "H1"]


def test_destruction_in_place_is_refused_inside_a_heritage_buffer(reg: Register) -> None:
    reg.add(
        ProtectedSite(
            name="Temple of Bel",
            kind="monument",
            geometry=Point(LON, LAT),
            buffer_m=150,
            forbidden_methods=(Method.DESTRUCTION_IN_PLACE,),
        )
    )
    near = reg.add(Item(category="uxo", geometry=Point(LON + 0.001, LAT)))  # about 92 m away
    far = reg.add(Item(category="uxo", geometry=Point(LON + 0.005, LAT)))  # about 460 m away
    with pytest.raises(InvalidRecord, match=r"forbidden within 150 m of Temple of Bel .*render it safe and remove it"):
        reg.change("item", near.id, state=ItemState.DESTROYED_IN_PLACE)
    reg.change("item", near.id, state=ItemState.RENDERED_SAFE)
    reg.change("item", near.id, state=ItemState.REMOVED)
    assert reg.change("item", far.id, state=ItemState.DESTROYED_IN_PLACE).state == ItemState.DESTROYED_IN_PLACE


def test_first_progress_report_puts_the_hazard_in_clearance(reg: Register) -> None:
    reg.add(field())
    reg.add(Report(activity_type=ActivityType.NTS, report_date=date(2016, 4, 1), hazard_id=1))
    assert reg.get("hazard", 1).status == HazardStatus.SUSPECTED
    worked = box(LON, LAT, LON + 0.0005, LAT + 0.0005)
    report = reg.add(
        Report(activity_type=ActivityType.CLEARANCE, report_date=date(2016, 4, 2), hazard_id=1, geometry=worked)
    )
    assert report.area_m2 == pytest.approx(0.0005 * M_LON * 0.0005 * M_LAT, rel=0.01)
    hazard = reg.get("hazard", 1)
    assert (hazard.status, hazard.hazard_class) == (HazardStatus.IN_CLEARANCE, HazardClass.CHA)
    assert reg.history("hazard", 1)[-1].user == "tester"


def test_unknown_kind_is_a_clear_error(reg: Register) -> None:
    with pytest.raises(KeyError, match=r"unknown layer 'bunker' .*hazard, item, site"):
        reg.list("bunker")


def test_history_keeps_coordinates_exactly(reg: Register) -> None:
    """An update must lose nothing: the audit log's geometry reads back bit for bit."""
    import shapely

    odd = box(38.270000000000003, 34.550000000000004, 38.27123456789012, 34.55198765432109)
    reg.add(Hazard(name="Exact", geometry=odd))
    reg.change("hazard", 1, geometry=box(LON, LAT, LON + 0.001, LAT + 0.001))
    before = shapely.from_wkt(reg.history("hazard", 1)[1].before["geometry"])
    assert shapely.equals_exact(before, reg.add(Hazard(name="Again", geometry=odd)).geometry, tolerance=0.0)


def test_error_text_with_brackets_reaches_the_user(tmp_path) -> None:
    import subprocess
    import sys

    register = str(tmp_path / "r.gpkg")
    subprocess.run([sys.executable, "-m", "sapper", "init", register], check=True, capture_output=True)
    result = subprocess.run(
        [sys.executable, "-m", "sapper", "-r", register, "add", "hazard", "name=[North]", "priority=9"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "hazard '[North]'" in result.stderr
