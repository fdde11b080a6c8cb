"""The field forms: real .xlsx files that pyxform turns into XForms ODK Validate (JavaRosa) accepts,
with the register's own vocabularies, and the team's lists written by ``sapper forms build``."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from sapper.field.forms import all_forms, form, item_found
from sapper.field.openrosa import read_instance
from sapper.field.xlsform import row
from sapper.model.enums import ActivityType, Contamination, ItemCategory, ItemState, LandUse
from sapper.model.errors import SapperError
from sapper.model.records import Activity, Hazard, Team
from sapper.store import init_register
from sapper.testing.server import LAT, LON, square

XFORMS = "{http://www.w3.org/2002/xforms}"


def choices(xform: str, list_name: str) -> list[str]:
    doc = etree.fromstring(xform.encode())
    instance = doc.find(f".//{XFORMS}instance[@id='{list_name}']")
    assert instance is not None, list_name
    return [item.findtext(f"{XFORMS}name") for item in instance.iter(f"{XFORMS}item")]


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate runs on Java")
def test_every_form_converts_and_validates_in_javarosa(tmp_path: Path) -> None:
    for xlsform in all_forms():
        path = xlsform.write(tmp_path)
        warnings: list[str] = []
        result = convert(xlsform=str(path), warnings=warnings, validate=True)  # ODK Validate: JavaRosa parses it
        assert warnings == [], (xlsform.form_id, warnings)
        doc = etree.fromstring(result.xform.encode())
        primary = doc.find(f".//{XFORMS}instance")[0]  # type: ignore[index]
        assert (primary.get("id"), primary.get("version")) == (xlsform.form_id, xlsform.version)
        assert primary.find(f"{XFORMS}meta/{XFORMS}instanceID") is not None
        for media in xlsform.media:
            assert doc.find(f".//{XFORMS}instance[@src='jr://file-csv/{media}']") is not None


def test_choice_lists_are_the_registers_vocabularies() -> None:
    report, item, nts, eod = (
        form(f).xform() for f in ("sapper_daily_report", "sapper_item_found", "sapper_nts", "sapper_eod_task")
    )
    assert choices(report, "activity_type") == [t.value for t in ActivityType]
    assert choices(item, "item_category") == [c.value for c in ItemCategory]
    assert choices(item, "item_state") == [s.value for s in ItemState]
    assert choices(nts, "contamination") == [c.value for c in Contamination]
    assert choices(nts, "land_use") == [u.value for u in LandUse]
    assert choices(eod, "disposal") == [s.value for s in ItemState if s is not ItemState.FOUND]


def test_the_version_follows_the_definition() -> None:
    before = item_found()
    changed = item_found()
    changed.survey.append(row("text", "witness", "Witness"))
    assert before.version == item_found().version  # the same rows, the same version
    assert changed.version != before.version  # ODK Collect sees a new version and fetches it again


def test_a_submission_that_is_not_an_instance_is_named() -> None:
    with pytest.raises(SapperError, match="not well-formed"):
        read_instance(b"<data id='x'><open></data>")
    with pytest.raises(SapperError, match="no meta/instanceID"):
        read_instance(b"<data id='sapper_item_found'><category>uxo</category></data>")
    with pytest.raises(SapperError, match="not well-formed"):  # entities are refused, not expanded
        read_instance(b'<!DOCTYPE d [<!ENTITY a "aaaa">]><data id="x">&a;</data>')


def test_forms_build_writes_the_forms_and_the_teams_lists(tmp_path: Path) -> None:
    target = str(tmp_path / "register.gpkg")
    reg = init_register(target, user="seed")
    try:
        mine, other = reg.add_many(
            [
                Team(name="Manual 1", kind="manual", organisation="mac"),
                Team(name="Dogs 2", kind="dog", organisation="mac"),
            ]
        )
        hazards = reg.add_many(
            [Hazard(name=f"Hazard {i}", geometry=square(LON + 0.002 * i, LAT), organisation="mac") for i in range(3)]
        )
        reg.add(Activity(activity_type="clearance", hazard_id=hazards[1].id, team_id=mine.id, organisation="mac"))
        reg.add(Activity(activity_type="ts", hazard_id=hazards[2].id, team_id=other.id, organisation="mac"))
    finally:
        reg.close()
    out = tmp_path / "forms"
    result = subprocess.run(
        [sys.executable, "-m", "sapper", "-r", target, "forms", "build", str(out), "--team", str(mine.id)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{f.form_id}.xlsx" for f in all_forms()] + ["hazards.csv", "tasks.csv", "qc_samples.csv"]
    )
    for xlsform in all_forms():
        book = load_workbook(out / f"{xlsform.form_id}.xlsx")
        assert book.sheetnames == ["survey", "choices", "settings"]
        assert convert(xlsform=str(out / f"{xlsform.form_id}.xlsx")).xform == xlsform.xform()
    with (out / "hazards.csv").open(encoding="utf-8") as f:
        assert [r["name"] for r in csv.DictReader(f)] == [str(hazards[1].id)]  # only the hazard the team works on
    with (out / "tasks.csv").open(encoding="utf-8") as f:
        assert [r["hazard"] for r in csv.DictReader(f)] == [str(hazards[1].id)]
