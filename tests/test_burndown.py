"""The plan's burn-down tells what the tables tell: its lines reach zero on the finish dates
`sapper plan` prints, it names the hazard that keeps the plan open, and the picture shows it."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from rich.console import Console
from shapely import affinity
from shapely.geometry import Point, box

from sapper.cli.plan import headline_table
from sapper.model.enums import Contamination, LandUse, TeamKind
from sapper.model.geometry import to_wgs84
from sapper.model.records import Hazard, Team
from sapper.plan.build import Inputs, PlanResult, Settings, make_plan
from sapper.plan.problem import TICKS_PER_DAY
from sapper.plan.records import bundle
from sapper.report.charts import FINISH_COLOURS, MEDIAN
from sapper.report.plan_files import burndown_data, draw_burndown, last_hazard_labels
from sapper.store import init_register
from sapper.store.plans import save_plan

UTM = 32637  # Palmyra's UTM zone
X0, Y0 = 432_000.0, 3_823_000.0


def wgs(geom):
    return to_wgs84(affinity.translate(geom, X0, Y0), UTM)


@pytest.fixture(scope="module")
def result() -> PlanResult:
    """A quarter with few items, and a small depot full of them: the area goes fast, the depot does not."""
    hazards = [
        Hazard(
            id=1,
            name="Quarter",
            geometry=wgs(box(0, 0, 240, 240)),
            land_use=LandUse.RESIDENTIAL,
            contamination=Contamination.IED,
            estimated_items=5,
        ),
        Hazard(
            id=2,
            name="Ammunition depot",
            geometry=wgs(box(600, 0, 620, 60)),
            land_use=LandUse.INDUSTRIAL,
            contamination=Contamination.AXO,
            estimated_items=9000,
        ),
    ]
    # two sections: one empties the depot in bulk (IMAS 09.30 bulk removal) while the other searches the quarter
    teams = [
        Team(id=t, name=f"Section {t}", kind=TeamKind.MANUAL, personnel=8, geometry=wgs(Point(300, -50)))
        for t in (1, 2)
    ]
    settings = Settings(start=date(2016, 4, 11), time_limit_s=1.0, runs=400, lanes=False, seed=2)
    return make_plan(Inputs(hazards=hazards, teams=teams), settings)


def printed(table) -> str:
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def first_zero(dates, values) -> date:
    return dates[int(np.nonzero(np.asarray(values) <= 0)[0][0])]


def test_the_lines_reach_zero_on_the_dates_the_table_prints(result: PlanResult) -> None:
    text = printed(headline_table(result))
    table = {int(q): date.fromisoformat(d) for q, d in re.findall(r"P(\d\d) finish\s+(\d{4}-\d\d-\d\d)", text)}
    planned = date.fromisoformat(re.search(r"planned finish\s+(\d{4}-\d\d-\d\d)", text).group(1))
    chart = burndown_data(result)
    assert set(table) == {50, 80, 90, 95} and chart.finish[50] == table[50]
    # the work still to do reaches zero the day the table's P50 and P90 say, the plan's line on the planned finish
    assert first_zero(chart.dates, chart.work.bands[50]) == table[50]
    assert first_zero(chart.dates, chart.work.bands[90]) == table[90]
    assert first_zero(chart.dates, chart.work.planned) == planned
    # the area is cleared long before: the depot holds the work, not the hectares
    assert first_zero(chart.dates, chart.area.bands[50]) <= table[50]
    assert (table[50] - chart.tail_from).days > 10
    assert all(np.all(np.diff(s.bands[50]) <= 1e-9) for s in (chart.work, chart.area))


def test_the_chart_names_the_hazard_that_keeps_the_plan_open(result: PlanResult) -> None:
    chart = burndown_data(result)
    assert result.forecast.tail_hazards[0] == 2
    depot_p50 = result.calendar.finish_date(result.forecast.hazard_finish[2][50])
    assert depot_p50 == chart.finish[50]
    assert f"Ammunition depot (H2, 0.1 ha, ~9,000 items): P50 finish {depot_p50}" in chart.tail_label
    assert "Quarter" not in chart.tail_label
    # the shaded tail is the depot's own work: never more than the whole, all of it at the end
    tail, whole = np.asarray(chart.work.tail), np.asarray(chart.work.bands[50])
    assert np.all(tail <= whole + 1e-9) and tail.max() > 0
    assert np.allclose(tail[-5:], whole[-5:])


def test_the_gantt_chart_names_the_depot_where_the_team_works_it(result: PlanResult) -> None:
    (label,) = last_hazard_labels(result)
    depot = [slot for s, slot in result.schedule.slots.items() if result.problem.sectors[s].hazard_id == 2]
    assert label.text == "Ammunition depot" and label.row == depot[0].team
    assert label.start == result.calendar.date_of(min(slot.start for slot in depot) // TICKS_PER_DAY)
    assert label.end == result.calendar.finish_date(result.schedule.makespan_days)  # it is the plan's last work


def colour_mask(image: np.ndarray, hex_colour: str, tolerance: float = 0.08) -> np.ndarray:
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.all(np.abs(image[:, :, :3] - rgb) < tolerance, axis=2)


def test_the_picture_ends_the_median_line_at_the_p50_mark(result: PlanResult, tmp_path: Path) -> None:
    image = mpimg.imread(draw_burndown(result, tmp_path / "burndown.png"))
    height, width = image.shape[:2]
    assert height > 800 and width > 1200
    # the panels' frames: rows that are black across most of the picture (top and bottom of each panel)
    frames = np.nonzero(colour_mask(image, "#000000", 0.2).sum(axis=1) > 0.6 * width)[0]
    top, axis_row = frames[0], frames[frames > frames[0] + 50][0]  # the work panel, its zero line
    panel = image[top + 2 : axis_row]
    green = colour_mask(panel, FINISH_COLOURS[50])
    p50_column = int(np.argmax(green.sum(axis=0)))
    assert green[:, p50_column].sum() > 0.3 * panel.shape[0]  # a dashed line from top to bottom
    rows, columns = np.nonzero(colour_mask(panel, MEDIAN, 0.04))
    above = columns[rows < panel.shape[0] - 4]  # the median line clear of the zero line
    assert above.max() <= p50_column + 2  # no work left after the P50 mark ...
    assert p50_column - above.max() < 0.05 * width  # ... and some until just before it


def test_the_plan_keeps_its_burn_down_in_the_register(result: PlanResult, target: str) -> None:
    """What the web UI draws later is what the PNG drew when the plan was made: the rows stored with it."""
    chart = burndown_data(result)
    bundled = bundle(result)
    with init_register(target) as reg:
        plan = save_plan(reg, bundled)
        other = save_plan(reg, bundled)  # a second plan's rows stay its own
        rows = sorted(reg.list("plan_day", where={"plan_id": plan.id}), key=lambda d: d.working_day)
        assert reg.count("plan_day", where={"plan_id": other.id}) == len(rows)
    assert [d.day for d in rows] == list(chart.dates)
    assert [d.working_day for d in rows] == list(range(len(rows)))
    for field, series, scale in (("team_days", chart.work, 1.0), ("m2", chart.area, 1e-4)):
        planned = "planned_team_days" if field == "team_days" else "planned_m2"
        assert np.allclose([getattr(d, planned) * scale for d in rows], series.planned, atol=1e-3)
        for q in (10, 50, 90):
            assert np.allclose([getattr(d, f"{field}_p{q}") * scale for d in rows], series.bands[q], atol=1e-3)
    # read back, the median still reaches zero on the plan's P50 finish
    assert first_zero([d.day for d in rows], [d.team_days_p50 for d in rows]) == plan.finish_p50
    assert rows[0].planned_m2 == pytest.approx(plan.area_m2, abs=0.5)
