"""The Palmyra scenario builds a register with the published figures, on both backends,
the same every time, and a GeoPackage that GDAL validates and reads."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pyogrio
import pyogrio.raw
import pytest
import shapely

from sapper import Register, init_register, open_register
from sapper.model import InvalidRecord, ItemState, Method
from sapper.model.geometry import area_m2
from sapper.scenarios.palmyra.build import build
from sapper.scenarios.palmyra.figures import HERITAGE, check, figures, outline
from sapper.scenarios.palmyra.plan import make_plan
from sapper.store import is_postgres
from sapper.store.schema import LAYERS
from sapper.testing.palmyra import palmyra

HA = 10_000.0
# Published (Russian MoD via TASS, Sputnik, Interfax, RG; see ASSUMPTIONS.md):
# historic part 234 ha, 23 km of road, 2,991 objects of which 432 IEDs;
# residential part and airfield at an early stage 40 ha, 9.5 km of road, 1,432 objects, 560 ha still to do.
HISTORIC_HA, HISTORIC_ITEMS, HISTORIC_IEDS = 234.0, 2991, 432
EARLY_HA, EARLY_ITEMS, TODO_HA = 40.0, 1432, 560.0
AREA_TOLERANCE = 0.005  # 0.5 %: the register measures in UTM what the scenario solved in UTM


@pytest.fixture(scope="module")
def plan():
    return make_plan()


def hazards_of(reg: Register, prefix: str) -> list:
    return [h for h in reg.list("hazard") if h.source_key.startswith(f"palmyra:hazard:{prefix}")]


def test_the_plan_follows_the_published_lengths_and_areas(plan) -> None:
    """Checked before any register: the outline is ~156 ha, the belt around it makes 234 ha,
    roads come to 23 km and 9.5 km, and the land still to do stays within 560 ha."""
    assert 150 * HA < area_m2(outline().geometry) < 160 * HA
    by_region: dict[str, float] = {}
    for a in plan.areas:
        by_region[a.region] = by_region.get(a.region, 0.0) + a.shape.area
    assert by_region["historic"] == pytest.approx(HISTORIC_HA * HA, rel=1e-6)
    assert by_region["early"] == pytest.approx(EARLY_HA * HA, rel=1e-6)
    assert 300 * HA < by_region["todo"] <= TODO_HA * HA
    historic_roads = sum(a.road_m for a in plan.areas if a.region == "historic")
    early_streets = sum(a.road_m for a in plan.areas if a.key.startswith("E-S"))
    assert historic_roads == pytest.approx(23_000, abs=1)
    assert early_streets == pytest.approx(9_500, abs=1)
    # No square metre in two hazards: the areas tile their union.
    union = shapely.union_all([a.shape for a in plan.areas])
    assert union.area == pytest.approx(sum(a.shape.area for a in plan.areas), rel=1e-6)


def test_the_daily_reports_follow_the_published_pace_of_the_first_week(plan) -> None:
    """Published (shared data README): work began on 2 April; on day 1 about 4 ha were cleared and
    108 explosive objects found; the two Uran-6 robots cleared about 3 ha a day between them; by
    8 April 51 of the 234 ha of the historic part were cleared."""
    start = plan.fig["scenario"]["work_starts"]
    cleared: dict = {}
    robots: dict = {}
    for r in plan.work.reports:
        if r.releases and r.route.value == "cleared" and r.hazard.startswith("H-"):
            cleared[r.day] = cleared.get(r.day, 0.0) + r.shape.area / HA
        if r.team.startswith("Uran-6"):
            robots[r.day] = robots.get(r.day, 0.0) + r.shape.area / HA
    assert start == date(2016, 4, 2) and 3.5 <= cleared[start] <= 4.5
    first_day = [i for i in plan.items if i.report is not None and i.hazard.startswith("H-") and i.found_on == start]
    assert len(first_day) == plan.fig["published"]["first_day_items"] == 108
    assert all(2.5 <= ha <= 3.5 for ha in robots.values()) and len(robots) >= 7
    by_8_april = sum(ha for day, ha in cleared.items() if day <= date(2016, 4, 8))
    assert 48 <= by_8_april <= 54


def test_nobody_is_idle_in_the_register_while_work_remains(plan) -> None:
    """Every team works every day from its first day to the snapshot: searchers and the survey team
    report, EOD teams dispose of the items found that day. Only the robots start a day late (they
    followed the first engineers, as published)."""
    start, snapshot = plan.fig["scenario"]["work_starts"], plan.fig["scenario"]["snapshot"]
    worked: dict[str, set] = {t.name: set() for t in plan.teams}
    for r in plan.work.reports:
        worked[r.team].add(r.day)
    for item in plan.items:
        if item.disposed_by:
            worked[item.disposed_by].add(item.found_on)
    for team in plan.teams:
        first = start + timedelta(days=1) if team.kind.value == "robot" else start
        every_day = {first + timedelta(days=k) for k in range((snapshot - first).days + 1)}
        assert worked[team.name] == every_day, team.name


def test_an_item_mix_that_misses_a_published_total_is_refused() -> None:
    fig = copy.deepcopy(figures())
    fig["items"]["historic"]["ied_time"] += 1  # one IED too many: 2,992 items, 433 IEDs
    with pytest.raises(ValueError, match=r"\[items.historic\] adds up to 2992, the published figure is 2991"):
        check(fig)


def test_the_register_has_the_published_totals(target: str, plan) -> None:
    with init_register(target, user="tester") as reg:
        build(reg, plan)
        historic = hazards_of(reg, "H-")
        early = hazards_of(reg, "E-")
        assert sum(h.original_area_m2 for h in historic) == pytest.approx(HISTORIC_HA * HA, rel=AREA_TOLERANCE)
        assert sum(h.original_area_m2 for h in early) == pytest.approx(EARLY_HA * HA, rel=AREA_TOLERANCE)

        items = reg.list("item")
        region = {h.id: h.source_key.split(":")[-1][0] for h in reg.list("hazard")}
        in_historic = [i for i in items if region[i.hazard_id] == "H"]
        assert len(in_historic) == HISTORIC_ITEMS
        assert sum(i.category.is_ied for i in in_historic) == HISTORIC_IEDS
        assert sum(region[i.hazard_id] == "E" for i in items) == EARLY_ITEMS
        # Most items in the snapshot are found and marked, not yet disposed of.
        assert sum(i.state == ItemState.FOUND for i in items) > 0.6 * len(items)

        teams = reg.list("team")
        assert 90 <= sum(t.personnel for t in teams) <= 110
        robots = [t for t in teams if t.kind.value == "robot"]
        assert robots and all(t.lane_width_m == 1.75 for t in robots)

        heritage = [s for s in reg.list("site") if s.kind.is_heritage]
        names = {f["properties"]["name"] for f in json.loads(HERITAGE.read_text())["features"]}
        assert {s.name for s in heritage} == names and len(heritage) == 13
        assert all(Method.DESTRUCTION_IN_PLACE in s.forbidden_methods for s in heritage)

        summary_routes = {r.route.value for r in reg.list("release")}
        assert summary_routes == {"cancelled", "reduced", "cleared"}
        assert {h.status.value for h in reg.list("hazard")} >= {"suspected", "confirmed", "in_clearance", "released"}
        _every_item_lies_in_its_hazard(reg)
        _items_in_released_land_are_disposed_of(reg)
        _no_blast_where_a_site_forbids_it(reg)
        _teams_are_based_outside_every_hazard(reg)


def _every_item_lies_in_its_hazard(reg: Register) -> None:
    """Inside the land its hazard had when recorded: what is still hazardous plus what was released."""
    land = {}
    for hazard in reg.list("hazard"):
        parts = [r.geometry for r in reg.list("release", where={"hazard_id": hazard.id})]
        if hazard.geometry is not None:
            parts.append(hazard.geometry)
        land[hazard.id] = shapely.union_all(parts).buffer(1e-9)
    outside = [i.id for i in reg.list("item") if not land[i.hazard_id].covers(i.geometry)]
    assert outside == []


def _items_in_released_land_are_disposed_of(reg: Register) -> None:
    """Cleared land holds no item still waiting; land still hazardous holds only items waiting."""
    released = {}
    for piece in reg.list("release"):
        released.setdefault(piece.hazard_id, []).append(piece.geometry)
    land = {hazard: shapely.union_all(parts) for hazard, parts in released.items()}
    for item in reg.list("item"):
        cleared = item.hazard_id in land and land[item.hazard_id].covers(item.geometry)
        assert cleared == (item.state != ItemState.FOUND), (item.id, item.state)


def _no_blast_where_a_site_forbids_it(reg: Register) -> None:
    blasts = reg.list("item", where={"state": "destroyed_in_place"})
    assert blasts, "the scenario destroys some items in place, away from protected sites"
    reach = max(s.buffer_m for s in reg.list("site"))
    for item in blasts:
        for site, distance in reg.near("site", item.geometry, reach):
            assert not (Method.DESTRUCTION_IN_PLACE in site.forbidden_methods and distance <= site.buffer_m)


def _teams_are_based_outside_every_hazard(reg: Register) -> None:
    for team in reg.list("team"):
        assert team.geometry is not None
        assert reg.near("hazard", team.geometry, 1.0) == [], team.name


def test_two_builds_are_identical(target: str, request: pytest.FixtureRequest) -> None:
    """Seeded: two builds, each planned afresh, give the same records (the audit log's times aside): this
    test's, and the build the other tests get copies of (sapper.testing.palmyra), made once in this run."""
    second = request.getfixturevalue("pg_cluster").new_database() if is_postgres(target) else target + ".2.gpkg"
    dumps = []
    with init_register(target, user="tester") as reg:
        build(reg, make_plan())
        dumps.append(_dump(reg))
    with open_register(palmyra(second), read_only=True) as reg:
        dumps.append(_dump(reg))
    assert dumps[0] == dumps[1]
    assert len(dumps[0]["item"]) == HISTORIC_ITEMS + EARLY_ITEMS


def _dump(reg: Register) -> dict[str, list[dict]]:
    out = {}
    for lay in LAYERS:
        rows = []
        for rec in reg.list(lay.kind):
            row = dataclasses.asdict(rec)
            geom = row.pop("geometry", None)
            row["geometry"] = None if geom is None else shapely.to_wkb(geom, hex=True)
            rows.append(row)
        out[lay.kind] = rows
    return out


def test_a_failing_build_leaves_the_register_empty(target: str, plan) -> None:
    """All or nothing: an item blown up next to a monument is refused, and nothing else stays."""
    broken = dataclasses.replace(plan, items=list(plan.items))
    theatre = next(s for s in plan.sites if s.name == "Theatre")
    last = broken.items[-1]
    broken.items[-1] = dataclasses.replace(last, point=theatre.geometry, state=ItemState.DESTROYED_IN_PLACE)
    with init_register(target, user="tester") as reg:
        with pytest.raises(InvalidRecord, match="destruction in place is forbidden"):
            build(reg, broken)
        assert all(reg.count(lay.kind) == 0 for lay in LAYERS)


def gdal_python() -> str | None:
    """A Python that can import GDAL's validator (Debian's python3-gdal lives in the system Python)."""
    for exe in dict.fromkeys([sys.executable, shutil.which("python3"), "/usr/bin/python3"]):
        probe = "import osgeo_utils.samples.validate_gpkg"
        if exe and subprocess.run([exe, "-c", probe], capture_output=True).returncode == 0:
            return exe
    return None


def test_the_command_builds_a_geopackage_gdal_validates_and_refuses_a_second_build(tmp_path: Path) -> None:
    path = tmp_path / "palmyra.gpkg"
    sapper = [sys.executable, "-m", "sapper"]
    done = subprocess.run([*sapper, "scenario", "palmyra", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Palmyra scenario built" in done.stdout and "Land release" in done.stdout

    python = gdal_python()
    if python is None:
        pytest.skip("no Python with GDAL's osgeo_utils (Debian: apt install python3-gdal)")
    valid = subprocess.run(
        [python, "-m", "osgeo_utils.samples.validate_gpkg", str(path)], capture_output=True, text=True
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr

    with open_register(path) as reg:
        counts = {lay.name: reg.count(lay.kind) for lay in LAYERS}
    assert counts["items"] == HISTORIC_ITEMS + EARLY_ITEMS
    for lay in LAYERS:
        info = pyogrio.read_info(path, layer=lay.name)
        assert info["features"] == counts[lay.name], lay.name
        if lay.geometry_type:
            assert info["crs"] == "EPSG:4326"
            _meta, _fids, wkb, _fields = pyogrio.raw.read(path, layer=lay.name)
            geoms = [shapely.from_wkb(g) for g in wkb if g is not None]
            assert all(g.is_valid for g in geoms), lay.name
    again = subprocess.run([*sapper, "scenario", "palmyra", str(path)], capture_output=True, text=True)
    assert again.returncode == 1
    assert "already holds records" in again.stderr
