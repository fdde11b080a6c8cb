"""`sapper plan` as a user runs it: a real process, on both backends, its records and its files."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import matplotlib.image as mpimg
import pyogrio
import pytest
import shapely
from shapely import affinity
from shapely.geometry import Point, Polygon, box

from sapper import init_register, open_register
from sapper.model.enums import ActivityType, Contamination, ItemCategory, LandUse, Method, SiteKind, TeamKind
from sapper.model.geometry import to_metric, to_wgs84
from sapper.model.records import Hazard, Item, ProtectedSite, Report, Team
from sapper.testing.palmyra import palmyra

UTM = 32637  # Palmyra's UTM zone
X0, Y0 = 432_000.0, 3_823_000.0


def wgs(geom):
    """A shape drawn in metres around Palmyra, in the register's lon/lat."""
    return to_wgs84(affinity.translate(geom, X0, Y0), UTM)


def sapper(*args: str, ok: bool = True, columns: int = 200) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "sapper", "-u", "planner", *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": str(columns), "PATH": "/usr/bin:/bin"},
    )
    assert (result.returncode == 0) == ok, result.stdout + result.stderr
    return result


WORKED = box(120, 0, 150, 80)  # reported cleared yesterday, not yet released


def fill(target: str) -> None:
    """A road, the quarter it leads to (partly worked), ruins around a monument, two teams."""
    with init_register(target, user="tester") as reg:
        reg.add_many(
            [
                Hazard(
                    name="Road",
                    geometry=wgs(box(0, -12, 300, -2)),
                    land_use=LandUse.ROAD,
                    blocks_access=True,
                    contamination=Contamination.IED,
                    estimated_items=4,
                ),
                Hazard(
                    name="Quarter",
                    geometry=wgs(box(120, 0, 240, 80)),
                    land_use=LandUse.RESIDENTIAL,
                    contamination=Contamination.UXO,
                    estimated_items=6,
                ),
                Hazard(
                    name="Ruins",
                    land_use=LandUse.HERITAGE,
                    contamination=Contamination.MIXED,
                    priority=1,
                    geometry=wgs(
                        Polygon([(0, 0), (90, 0), (90, 80), (0, 80)], [[(30, 30), (60, 30), (60, 50), (30, 50)]])
                    ),
                ),
            ]
        )
        reg.add(
            ProtectedSite(
                name="Temple",
                kind=SiteKind.MONUMENT,
                geometry=wgs(box(30, 30, 60, 50)),
                buffer_m=20,
                forbidden_methods=(Method.ROBOT, Method.DESTRUCTION_IN_PLACE),
                heritage_value=5,
            )
        )
        reg.add_many(
            [
                Team(name="Section 1", kind=TeamKind.MANUAL, personnel=4, geometry=wgs(Point(150, -40))),
                Team(name="Uran-6", kind=TeamKind.ROBOT, personnel=3, lane_width_m=1.75, geometry=wgs(Point(150, -40))),
                Team(name="EOD", kind=TeamKind.EOD, personnel=4, capabilities=(Method.RENDER_SAFE_REMOVE,)),
            ]
        )
        reg.add(Item(category=ItemCategory.UXO, hazard_id=2, geometry=wgs(Point(200, 40))))
        reg.add(
            Report(
                activity_type=ActivityType.CLEARANCE,
                report_date=date(2016, 4, 10),
                hazard_id=2,
                team_id=1,
                geometry=wgs(WORKED),
            )
        )


def test_plan_a_small_town_and_plan_again(target: str, tmp_path: Path) -> None:
    fill(target)
    out = tmp_path / "plan"
    run = sapper("plan", target, "--out", str(out), "--time-limit", "1", "--runs", "200")
    assert "plan 1 stored in the register" in run.stdout
    assert "Priorities" in run.stdout and "Teams" in run.stdout and "P50" in run.stdout
    # the EOD team has its own work (it used to sit idle, "offers no search method"): the disposal of the
    # items the searchers find, after their search; the idle table says who waits and why
    assert not re.search(r"idle teams? +(\d+, )*3(, \d+)*:", run.stdout)
    assert "Idle team-days within the plan, and why" in run.stdout
    with open_register(target) as reg:
        (plan,) = reg.list("plan")
        assert plan.number == 1 and plan.start_on.isoformat() == "2016-04-11"  # the day after the last report
        assert plan.finish_p50 <= plan.finish_p80 <= plan.finish_p95 and plan.objective <= plan.greedy_objective
        sectors = reg.list("plan_sector", where={"plan_id": plan.id})
        lanes = reg.list("plan_lane", where={"plan_id": plan.id})
        work = reg.list("assignment", where={"plan_id": plan.id})
        priorities = reg.list("priority", where={"plan_id": plan.id})
    metric = {s.id: to_metric(s.geometry, UTM) for s in sectors}
    worked = affinity.translate(WORKED, X0, Y0)
    # the work reported yesterday is not planned again; the monument is not a sector
    assert all(g.intersection(worked).area < 1.0 for g in metric.values())
    total = sum(s.area_m2 for s in sectors)
    assert total == pytest.approx(3000 + 90 * 80 - 30 * 20 + 120 * 80 - 30 * 80, rel=0.01)
    eod = [s for s in sectors if s.activity == ActivityType.EOD_SPOT]
    assert eod and all(s.team_id == 3 and s.method == Method.RENDER_SAFE_REMOVE for s in eod)
    for s in sectors:
        assert s.team_id in (1, 2, 3) and s.method is not None and s.start_on <= s.end_on
        if s.hazard_id == 3 and s not in eod:  # within the temple's buffer: no robot, no blast
            assert s.method != Method.ROBOT and s.disposal == Method.RENDER_SAFE_REMOVE
            assert "Temple" in s.why
    road_end = max(s.end_on for s in sectors if s.hazard_id == 1)
    assert all(s.start_on >= road_end for s in sectors if s.hazard_id == 2)  # the road leads to the quarter
    assert {lane.sector_id for lane in lanes} == {s.id for s in sectors if s not in eod}  # EOD teams work no lanes
    assert sorted(p.rank for p in priorities) == [1, 2, 3]
    assert all(p.score == pytest.approx(p.stake + p.danger + p.blockage + p.officer, abs=0.01) for p in priorities)

    assert {name for name, _ in pyogrio.list_layers(out / "sectors.gpkg")} == {"plan_sectors", "plan_lanes"}
    assert len(pyogrio.raw.read(out / "sectors.geojson")[2]) == len(sectors)
    with open(out / "schedule.csv", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(work) and {r["team"] for r in rows} <= {"Section 1", "Uran-6", "EOD"}
    assert {r["work"] for r in rows} == {"clearance", "eod (disposal)"}
    assert sum(float(r["hours"]) for r in rows) == pytest.approx(sum(w.hours for w in work), abs=0.05 * len(rows))
    for chart in ("burndown.png", "gantt.png"):
        image = mpimg.imread(out / chart)
        assert image.shape[0] > 400 and image.shape[1] > 800

    sapper("plan", target, "--out", str(tmp_path / "again"), "--time-limit", "1", "--runs", "100", "--no-lanes")
    with open_register(target) as reg:
        assert sorted(p.number for p in reg.list("plan")) == [1, 2]
        second = max(reg.list("plan"), key=lambda p: p.number)
        assert reg.count("plan_lane", where={"plan_id": second.id}) == 0
        assert reg.count("plan_sector", where={"plan_id": second.id}) == len(sectors)


DATE = r"\d{4}-\d\d-\d\d"


def words(text: str) -> set[str]:
    """The words a person reads, without table rules, numbers (timings differ between runs), cut names
    or the solver's status (each run may end the search differently)."""
    text = re.sub(r"\n plan .*(\n {4,}.*)*", "", text)
    found = {w.strip(".,;:()") for w in text.split()}
    return {w for w in found if w and not set(w) <= set("─━│┃") and not re.search(r"\d|…", w)}


def test_plan_and_summary_read_well_in_80_columns(tmp_path: Path) -> None:
    target = str(tmp_path / "town.gpkg")
    fill(target)
    options = ("--time-limit", "1", "--runs", "100", "--no-lanes")
    narrow = sapper("plan", target, "--out", str(tmp_path / "a"), *options, columns=80).stdout
    wide = sapper("plan", target, "--out", str(tmp_path / "b"), *options, columns=160).stdout
    lines = narrow.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert max(len(line) for line in wide.splitlines()) > 80  # a wider terminal gets more columns
    # one line per hazard and per team, its dates on it: no row is folded over several lines (the idle
    # table names teams too, without dates: the rows with a date are the priority and team tables' rows)
    for name in ("1 Road", "2 Quarter", "3 Ruins", "Section 1", "Uran-6"):
        (row,) = [line for line in lines if re.match(rf"\s+(\d+\s+)?{name}\s", line) and re.search(DATE, line)]
        assert len(re.findall(DATE, row)) == 2, row
    # nothing is wrapped in the middle of a word: every word at 80 columns is a word of the wide output
    assert words(narrow) <= words(wide), sorted(words(narrow) - words(wide))
    for columns in (80, 200):
        summary = sapper("summary", target, columns=columns).stdout
        assert max(len(line) for line in summary.splitlines()) <= 80
        assert words(summary) >= {"hazards", "original", "still", "hazardous", "cancelled", "found", "personnel"}
        assert re.search(r"\n uxo +1 +1 *\n", summary), summary  # one row per item category: found, total


def test_plan_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    empty = str(tmp_path / "empty.gpkg")
    sapper("init", empty)
    assert "no open hazard to plan" in sapper("plan", empty, ok=False).stderr
    full = str(tmp_path / "town.gpkg")
    fill(full)
    weights = tmp_path / "weights.toml"
    packaged = Path(__file__).parent.parent / "sapper" / "plan" / "rules" / "data" / "priority.toml"
    weights.write_text(packaged.read_text().replace("radius_m = 300", "radius_m = -5"))
    result = sapper("plan", full, "--weights", str(weights), "--out", str(tmp_path / "x"), ok=False)
    assert "weights.toml, table stake: radius_m: -5 is below 0" in result.stderr
    assert "plan 1" not in result.stdout
    with open_register(full) as reg:
        assert reg.count("plan") == 0  # nothing half-written
    assert "unknown weekday 'funday'" in sapper("plan", full, "--rest-day", "funday", ok=False).stderr


@pytest.mark.slow
def test_plan_the_palmyra_scenario(tmp_path: Path) -> None:
    target = palmyra(str(tmp_path / "palmyra.gpkg"))  # `sapper scenario palmyra` (its command: test_scenario)
    out = tmp_path / "plan"
    run = sapper("plan", target, "--out", str(out), "--time-limit", "3", "--runs", "200", "--no-lanes")
    assert "plan 1 stored" in run.stdout
    with open_register(target) as reg:
        (plan,) = reg.list("plan")
        sectors = reg.list("plan_sector", where={"plan_id": plan.id})
        sites = [s for s in reg.list("site") if Method.ROBOT in s.forbidden_methods]
        open_area = sum(h.geometry is not None and reg.balance(h.id).hazardous for h in reg.list("hazard"))
    assert plan.sectors == len(sectors) > 1000 and plan.unworkable == 0
    assert plan.objective < plan.greedy_objective and plan.bound <= plan.objective
    assert sum(s.area_m2 for s in sectors) == pytest.approx(open_area, rel=1e-5)  # every square metre planned once
    # no robot inside a buffer of a site that forbids robots
    buffers = shapely.union_all([to_metric(s.geometry, UTM).buffer(s.buffer_m) for s in sites])
    robot = [to_metric(s.geometry, UTM) for s in sectors if s.method == Method.ROBOT]
    assert robot and all(g.intersection(buffers).area < 1.0 for g in robot)
