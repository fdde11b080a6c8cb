"""What a daily report, a release, an item or a hazard may not say: a negative area worked, a day still to come.

The checks run in the register, so the command line, the API, imports and field forms refuse alike; the command
line also takes the words ``show`` and ``list`` print over a field (``date=`` for a report's ``report_date``).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from shapely.geometry import Point, box

from sapper.model.errors import InvalidRecord
from sapper.model.records import Hazard, Item, Release, Report, Team
from sapper.store import Register, init_register

LON, LAT = 38.27, 34.55
NEXT_WEEK = datetime.now(UTC).date() + timedelta(days=7)


def _hazard_and_team(reg: Register) -> tuple[int, int]:
    hazard = reg.add(Hazard(name="Street 4", geometry=box(LON, LAT, LON + 1e-3, LAT + 1e-3)))
    team = reg.add(Team(name="Section 1", kind="manual", personnel=8))
    return hazard.id, team.id


def test_a_report_of_negative_area_is_refused_on_add_and_on_update(reg: Register) -> None:
    hazard, team = _hazard_and_team(reg)
    day = date(2016, 4, 3)
    with pytest.raises(InvalidRecord, match="the area worked cannot be negative"):
        reg.add(Report(activity_type="bac", report_date=day, hazard_id=hazard, team_id=team, area_m2=-5.0))
    assert reg.count("report") == 0
    kept = reg.add(Report(activity_type="bac", report_date=day, hazard_id=hazard, team_id=team, area_m2=500.0))
    with pytest.raises(InvalidRecord, match=f"report {kept.id}.*the area worked cannot be negative"):
        reg.change("report", kept.id, area_m2=-1.0)
    assert reg.get("report", kept.id).area_m2 == 500.0


def test_what_happened_cannot_be_dated_next_week(reg: Register) -> None:
    hazard, team = _hazard_and_team(reg)
    cases = [
        Report(activity_type="bac", report_date=NEXT_WEEK, hazard_id=hazard, team_id=team, area_m2=5.0),
        Release(
            hazard_id=hazard, route="cancelled", released_on=NEXT_WEEK, geometry=box(LON, LAT, LON + 1e-4, LAT + 1e-4)
        ),
        Item(category="uxo", geometry=Point(LON, LAT), found_on=NEXT_WEEK),
        Hazard(name="Street 5", geometry=box(LON, LAT, LON + 1e-3, LAT + 1e-3), reported_on=NEXT_WEEK),
    ]
    for record in cases:
        with pytest.raises(InvalidRecord, match=f"{NEXT_WEEK.isoformat()} is in the future"):
            reg.add(record)
    assert (reg.count("report"), reg.count("release"), reg.count("item"), reg.count("hazard")) == (0, 0, 0, 1)
    today = datetime.now(UTC).date()  # today counts as the past anywhere: the office may be a day ahead of UTC
    reg.add(Report(activity_type="bac", report_date=today, hazard_id=hazard, team_id=team, area_m2=5.0))
    reg.add(Report(activity_type="bac", report_date=today + timedelta(days=1), hazard_id=hazard, team_id=team))
    assert reg.count("report") == 2


def test_a_bulk_import_with_one_report_from_next_week_writes_nothing(reg: Register) -> None:
    hazard, team = _hazard_and_team(reg)
    reports = [
        Report(
            activity_type="bac",
            report_date=date(2016, 4, 1 + i % 28),
            hazard_id=hazard,
            team_id=team,
            source_key=f"R{i}",
        )
        for i in range(300)
    ]
    reports[211] = Report(activity_type="bac", report_date=NEXT_WEEK, hazard_id=hazard, team_id=team, source_key="R211")
    with pytest.raises(InvalidRecord, match=r"^report 'R211': report_date .* is in the future$"):
        reg.add_many(reports)
    assert reg.count("report") == 0


def _sapper(register: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sapper", "-u", "cli-tester", "-r", register, *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_the_command_line_takes_the_words_it_shows_over_the_fields(target: str) -> None:
    reg = init_register(target, user="setup")
    try:
        hazard, team = _hazard_and_team(reg)
    finally:
        reg.close()
    added = _sapper(target, "add", "report", "date=2016-04-03", "activity=bac", f"hazard={hazard}", f"team={team}")
    assert added.returncode == 0, added.stderr
    shown = _sapper(target, "show", "report", "1").stdout
    assert "2016-04-03" in shown and "date" in shown
    listed = _sapper(target, "list", "report", "date=2016-04-03")
    assert listed.returncode == 0 and "2016-04-03" in listed.stdout
    refused = _sapper(target, "add", "report", "date=2016-04-03", "activity=bac", "area_m2=-5")
    assert refused.returncode != 0 and "the area worked cannot be negative" in refused.stderr
    unknown = _sapper(target, "add", "report", "colour=red")
    assert unknown.returncode != 0 and "report has no field 'colour'" in unknown.stderr
