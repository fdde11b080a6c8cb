"""Field packages: ``sapper field pack`` writes a team's GeoPackage and QGIS project, QGIS itself
opens and edits them as QField would, and ``sapper field sync`` brings the edits back, all or
nothing, with conflicts listed and both versions kept."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pyogrio
import pyogrio.raw
import pytest
from typer.testing import CliRunner

from sapper.cli import app
from sapper.model.enums import ItemCategory
from sapper.model.plan import Plan, PlanLane, PlanSector
from sapper.model.records import Activity
from sapper.store import init_register
from sapper.testing.server import LAT, LON, seeded

runner = CliRunner()
QGIS_PYTHON = "/usr/bin/python3"  # QGIS's Python bindings come with the system's Python (python3-qgis)


def _has_qgis() -> bool:
    if not Path(QGIS_PYTHON).exists():
        return False
    return subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True).returncode == 0


needs_qgis = pytest.mark.skipif(not _has_qgis(), reason="QGIS's Python API (python3-qgis) is not installed")

# Runs in QGIS's Python: opens the project and, given edits, makes them as QField does (edit
# buffer, commitChanges); prints what QGIS sees of every layer as JSON.
QGIS_SCRIPT = r"""
import json, sys
from qgis.core import QgsApplication, QgsFeature, QgsGeometry, QgsProject
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
if not project.read(sys.argv[1]):
    raise SystemExit("project not read: " + project.error())
by_source = {lay.source().split("layername=")[-1]: lay for lay in project.mapLayers().values()}
for edit in json.loads(sys.argv[2]):
    lay = by_source[edit["layer"]]
    assert lay.startEditing()
    if "add" in edit:
        feature = QgsFeature(lay.fields())
        for name, value in edit["add"].items():
            feature.setAttribute(name, value)
        feature.setGeometry(QgsGeometry.fromWkt(edit["wkt"]))
        assert lay.addFeature(feature)
    else:
        target = next(f for f in lay.getFeatures() if f["sapper_id"] == edit["id"])
        for name, value in edit["change"].items():
            assert lay.changeAttributeValue(target.id(), lay.fields().indexOf(name), value)
    if not lay.commitChanges():
        raise SystemExit("commit refused: " + "; ".join(lay.commitErrors()))
seen = {}
for name, lay in by_source.items():
    renderer = lay.renderer()
    categories = renderer.categories() if renderer.type() == "categorizedSymbol" else []
    widgets = {f.name(): lay.editorWidgetSetup(i) for i, f in enumerate(lay.fields())}
    seen[name] = {
        "valid": lay.isValid(),
        "features": lay.featureCount(),
        "crs": lay.crs().authid(),
        "renderer": renderer.type(),
        "categories": {c.value(): c.symbol().color().name() for c in categories},
        "value_maps": {
            n: [v for entry in w.config()["map"] for v in entry.values()]
            for n, w in widgets.items() if w.type() == "ValueMap"
        },
    }
print(json.dumps(seen))
"""


def qgis(project: Path, edits: list[dict] | None = None) -> dict:
    """Open the project with QGIS (and make ``edits``); what QGIS sees of each layer."""
    script = project.parent.parent / "qgis_edit.py"
    script.write_text(QGIS_SCRIPT, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [QGIS_PYTHON, str(script), str(project), json.dumps(edits or [])], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def packed(target: str, tmp_path: Path) -> tuple[str, dict, Path]:
    """A seeded register where team 1 has open tasks on hazards 0 and 1 and, in the latest plan, a sector
    on hazard 2 (an older plan gave it hazard 3); its package in ``tmp_path/pack``."""
    demo = seeded(target)
    team = demo.teams[0]
    with init_register(target, user="office") as reg:
        tasks = [Activity(activity_type="clearance", hazard_id=demo.hazards[i], team_id=team) for i in (0, 1)]
        reg.add_many(tasks)
        for number, hazard in ((1, demo.hazards[3]), (2, demo.hazards[2])):
            plan = reg.add(Plan(number=number, organisation="mac"))
            sector = reg.add(PlanSector(plan_id=plan.id, hazard_id=hazard, label=f"S{number}", team_id=team))
            reg.add(PlanLane(plan_id=plan.id, sector_id=sector.id, team_id=team, lanes=3))
    directory = tmp_path / "pack"
    done = runner.invoke(app, ["field", "pack", target, str(directory), "--team", str(team)])
    assert done.exit_code == 0, done.output
    ids = {"team": team, "hazards": demo.hazards, "items": len(demo.items)}
    return target, ids, directory


def _features(path: Path, layer: str) -> tuple[list[int], dict[str, list]]:
    meta, _fids, _geoms, columns = pyogrio.raw.read(str(path), layer=layer)
    values = {name: list(col) for name, col in zip(meta["fields"], columns)}
    return values.get("sapper_id", []), values


def test_pack_holds_the_teams_hazards_and_empty_layers_to_fill(packed: tuple[str, dict, Path]) -> None:
    _target, ids, directory = packed
    gpkg = directory / "field.gpkg"
    hazards, values = _features(gpkg, "hazards")
    assert sorted(hazards) == sorted(ids["hazards"][:3])  # tasks and latest plan; not hazard 3, 4 or another team's
    assert values["status"] == ["suspected"] * 3
    assert _features(gpkg, "plan_sectors")[1]["label"] == ["S2"]
    assert len(_features(gpkg, "plan_lanes")[0]) == 1
    assert len(_features(gpkg, "site_buffers")[0]) == 1
    for empty in ("reports", "items"):
        assert pyogrio.read_info(str(gpkg), layer=empty)["features"] == 0
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["team"]["id"] == ids["team"]
    assert manifest["packed_at"]
    assert {r["id"]: r["version"] for r in manifest["records"]["hazards"]} == {h: 0 for h in ids["hazards"][:3]}


@needs_qgis
def test_project_opens_in_qgis_styled_with_value_lists(packed: tuple[str, dict, Path]) -> None:
    _target, _ids, directory = packed
    seen = qgis(directory / "field.qgs")
    assert set(seen) == {"hazards", "plan_sectors", "plan_lanes", "protected_sites", "site_buffers", "reports", "items"}
    assert all(layer["valid"] and layer["crs"] == "EPSG:4326" for layer in seen.values()), seen
    assert seen["hazards"]["features"] == 3
    # IMSMA symbology: CHA red, SHA orange
    assert seen["hazards"]["categories"]["confirmed"] == "#ff0000"
    assert seen["hazards"]["categories"]["suspected"] == "#f4a718"
    assert set(seen["items"]["categories"]) == {c.value for c in ItemCategory}
    assert seen["items"]["value_maps"]["category"] == [c.value for c in ItemCategory]
    assert "status" in seen["hazards"]["value_maps"] and "activity_type" in seen["reports"]["value_maps"]


def _tablet_work(ids: dict, category: str = "ap_mine") -> list[dict]:
    hazard = ids["hazards"][0]
    box = f"POLYGON(({LON} {LAT},{LON + 5e-4} {LAT},{LON + 5e-4} {LAT + 5e-4},{LON} {LAT + 5e-4},{LON} {LAT}))"
    return [
        {
            "layer": "reports",
            "add": {"activity_type": "clearance", "report_date": "2026-12-01", "hazard_id": hazard, "notes": "lane 1"},
            "wkt": box,
        },
        {
            "layer": "items",
            "add": {"category": category, "hazard_id": hazard, "found_on": "2026-12-01", "depth_cm": 12.5},
            "wkt": f"POINT({LON + 0.0002} {LAT + 0.0002})",
        },
        {"layer": "hazards", "id": ids["hazards"][1], "change": {"notes": "fence down on the north side"}},
    ]


def _sync(target: str, directory: Path):
    return runner.invoke(app, ["field", "sync", target, str(directory)])


@needs_qgis
def test_tablet_edits_come_back_once(packed: tuple[str, dict, Path]) -> None:
    target, ids, directory = packed
    qgis(directory / "field.qgs", _tablet_work(ids))
    done = _sync(target, directory)
    assert done.exit_code == 0, done.output
    with init_register(target) as reg:
        reports = reg.list("report")
        assert [(r.notes, r.team_id, r.hazard_id, r.report_date) for r in reports] == [
            ("lane 1", ids["team"], ids["hazards"][0], date(2026, 12, 1))
        ]
        new_items = [i for i in reg.list("item") if i.source_key and i.source_key.startswith("field:")]
        assert [(i.category.value, i.depth_cm, i.team_id) for i in new_items] == [("ap_mine", 12.5, ids["team"])]
        changed = reg.get("hazard", ids["hazards"][1])
        assert (changed.notes, changed.version) == ("fence down on the north side", 1)
        assert reg.get("hazard", ids["hazards"][2]).version == 0  # untouched on the tablet, untouched here
    item_id = new_items[0].id
    assert _features(directory / "field.gpkg", "items")[0] == [item_id]  # the package now knows its record
    again = _sync(target, directory)
    assert again.exit_code == 0, again.output
    with init_register(target) as reg:
        assert reg.count("report") == 1 and reg.count("item") == ids["items"] + 1
        assert reg.get("hazard", ids["hazards"][1]).version == 1
    assert "conflict" not in again.output
    qgis(directory / "field.qgs", [{"layer": "items", "id": item_id, "change": {"depth_cm": 20.0}}])
    edited = _sync(target, directory)
    assert edited.exit_code == 0, edited.output
    with init_register(target) as reg:
        assert reg.count("item") == ids["items"] + 1
        assert (reg.get("item", item_id).depth_cm, reg.get("item", item_id).version) == (20.0, 1)


@needs_qgis
def test_a_hazard_changed_on_both_sides_is_a_conflict_and_both_are_kept(packed: tuple[str, dict, Path]) -> None:
    target, ids, directory = packed
    with init_register(target, user="office") as reg:
        reg.change("hazard", ids["hazards"][1], notes="office: fenced on 2 Dec")
    qgis(directory / "field.qgs", _tablet_work(ids))
    done = _sync(target, directory)
    assert done.exit_code == 0, done.output
    assert f"hazards {ids['hazards'][1]}" in done.output and "conflict" in done.output
    with init_register(target) as reg:
        assert reg.get("hazard", ids["hazards"][1]).notes == "office: fenced on 2 Dec"
        assert reg.count("report") == 1  # the rest of the work still came in
    conflicts = json.loads((directory / "conflicts.json").read_text())
    assert [(c["id"], c["tablet"]["notes"], c["register"]["notes"]) for c in conflicts] == [
        (ids["hazards"][1], "fence down on the north side", "office: fenced on 2 Dec")
    ]


@needs_qgis
def test_an_item_of_unknown_category_is_refused_and_nothing_imported(packed: tuple[str, dict, Path]) -> None:
    target, ids, directory = packed
    qgis(directory / "field.qgs", _tablet_work(ids, category="grenade launcher"))
    done = _sync(target, directory)
    assert done.exit_code == 1
    message = " ".join(done.output.split())
    assert "items feature 1: category: unknown item category 'grenade launcher'" in message
    assert "nothing was imported" in message
    with init_register(target) as reg:
        assert reg.count("report") == 0 and reg.count("item") == ids["items"]
        assert reg.get("hazard", ids["hazards"][1]).version == 0
