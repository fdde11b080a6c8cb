"""A register exported and imported into an empty one gives the same records with the same links
(both backends): random registers with released hazards, keyless records and ids with gaps, and the
Palmyra scenario exported layer by layer."""

from __future__ import annotations

import csv
import dataclasses
import io
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from sapper import Register, init_register
from sapper.formats import export_all, export_layer, import_file
from sapper.formats.identity import keys_of
from sapper.formats.importer import BadRows
from sapper.formats.whole import ORDER, import_all
from sapper.model import Activity, Hazard, Item, Report, Team
from sapper.model.enums import HazardStatus
from sapper.model.errors import SapperError
from sapper.store.rules import LINKS
from sapper.store.schema import layer

LON, LAT = 38.27, 34.55
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NAMES = st.text(st.characters(whitelist_categories=("L", "N", "Zs")), min_size=1, max_size=12).filter(str.strip)


@pytest.fixture
def new_register(target: str, tmp_path_factory: pytest.TempPathFactory, request) -> Iterator[Callable[[], Register]]:
    """Makes empty registers on the backend of ``target``, closed at the end of the test."""
    made: list[Register] = []

    def make() -> Register:
        where = (
            str(tmp_path_factory.mktemp("reg") / "register.gpkg")
            if target.endswith(".gpkg")
            else request.getfixturevalue("pg_cluster").new_database()
        )
        made.append(init_register(where, user="tester"))
        return made[-1]

    yield make
    for reg in made:
        reg.close()


# --- random registers ----------------------------------------------------------------------------


@st.composite
def registers(draw) -> dict[str, Any]:
    """What to build: hazards (some released in part or whole), teams, items, activities, reports,
    with or without source keys, and records deleted in between so ids have gaps."""
    n_hazards = draw(st.integers(1, 5))
    hazard = st.fixed_dictionaries(
        {
            "name": NAMES,
            "keyed": st.booleans(),
            "status": st.sampled_from(["suspected", "confirmed"]),
            "release": st.sampled_from(["none", "part", "all", "report", "part+all"]),
            "suspend": st.booleans(),
            "deleted_before": st.booleans(),
        }
    )
    item = st.fixed_dictionaries(
        {
            "hazard": st.none() | st.integers(0, n_hazards - 1),
            "team": st.none() | st.integers(0, 2),
            "keyed": st.booleans(),
            "twin": st.booleans(),  # a keyless copy of the item: both must be kept
            "deleted_after": st.booleans(),
            "model": NAMES,
        }
    )
    return {
        "hazards": draw(st.lists(hazard, min_size=n_hazards, max_size=n_hazards)),
        "teams": draw(st.lists(st.tuples(NAMES, st.booleans()), min_size=3, max_size=3)),
        "items": draw(st.lists(item, max_size=8)),
        "order": draw(st.permutations(range(n_hazards))),  # ids given in another order than the keys
    }


def build(reg: Register, plan: dict[str, Any]) -> None:
    teams = []
    for i, (name, keyed) in enumerate(plan["teams"]):
        spare = reg.add(Team(name="spare", kind="manual"))
        teams.append(reg.add(Team(name=name, kind="manual", source_key=f"T-{i}" if keyed else None)).id)
        reg.delete("team", spare.id)
    hazards: dict[int, int] = {}
    for i in plan["order"]:
        spec = plan["hazards"][i]
        if spec["deleted_before"]:
            reg.delete("hazard", reg.add(Hazard(name="gone", geometry=square(i))).id)
        hazards[i] = reg.add(
            Hazard(
                name=spec["name"],
                geometry=square(i),
                status=spec["status"],
                source_key=f"H-{i}" if spec["keyed"] else None,
                reported_on=date(2016, 4, 1),
            )
        ).id
    for n, spec in enumerate(plan["items"]):
        hazard_id = None if spec["hazard"] is None else hazards[spec["hazard"]]
        where = Point(LON + 0.0003 + 0.01 * (spec["hazard"] or 0), LAT + 0.0003)
        record = Item(
            category="uxo",
            geometry=where,
            hazard_id=hazard_id,
            team_id=None if spec["team"] is None else teams[spec["team"]],
            model=spec["model"],
            source_key=f"I-{n}" if spec["keyed"] else None,
        )
        added = reg.add(record)
        if spec["twin"] and not spec["keyed"]:
            reg.add(dataclasses.replace(record))
        if spec["deleted_after"]:
            reg.delete("item", added.id)
    for i, spec in enumerate(plan["hazards"]):
        _work(reg, hazards[i], teams[0], spec, i)


def square(i: int) -> shapely.Polygon:
    return box(LON + 0.01 * i, LAT, LON + 0.01 * i + 0.001, LAT + 0.001)


def _work(reg: Register, hazard_id: int, team_id: int, spec: dict[str, Any], i: int) -> None:
    """Activities, reports and land release on one hazard, as the field records them."""
    x = LON + 0.01 * i
    activity = reg.add(Activity(activity_type="clearance", hazard_id=hazard_id, team_id=team_id))
    report = reg.add(
        Report(
            activity_type="clearance",
            report_date=date(2016, 4, 2),
            hazard_id=hazard_id,
            team_id=team_id,
            activity_id=activity.id,
            geometry=box(x, LAT, x + 0.0004, LAT + 0.001),
        )
    )
    release = spec["release"]
    if release in ("part", "part+all"):
        reg.release(hazard_id, "cancelled", geometry=box(x + 0.0006, LAT, x + 0.001, LAT + 0.001), force=True)
    if release == "report":
        reg.release(hazard_id, None, report_id=report.id, force=True)
    if release in ("all", "part+all"):
        reg.release(hazard_id, "cleared", team_id=team_id, force=True)
    if spec["suspend"] and reg.get("hazard", hazard_id).status == HazardStatus.IN_CLEARANCE:
        reg.change("hazard", hazard_id, status="suspended")  # a report would put it in clearance again


def snapshot(reg: Register) -> dict[str, dict[str, dict[str, Any]]]:
    """Every record of every layer by its key, with its links as the linked records' keys and each
    hazard's land-release balance: what must be the same in two registers, whatever their ids."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    listed = {name: reg.list(name) for name in ORDER}
    keys = {layer(name).kind: keys_of(reg, layer(name), [r.id for r in listed[name]]) for name in ORDER}
    for name in ORDER:
        records = listed[name]
        own = keys[layer(name).kind]
        by_key = {}
        for record in records:
            values = dataclasses.asdict(record)
            del values["id"], values["version"]
            values["source_key"] = own[record.id]
            for field, kind in LINKS.get(name, {}).items():
                if values[field] is not None:
                    values[field] = keys[kind][values[field]]
            geometry = values.pop("geometry", None)
            # GeoJSON and KML keep 15 significant digits: 1e-9 degree (0.1 mm), a mm² of area
            values["geometry"] = None if geometry is None else shapely.to_wkt(shapely.normalize(geometry), 9)
            for field in ("original_area_m2", "area_m2"):
                if field in values:
                    values[field] = round(values[field], 3)
            if name == "hazards":
                values["balance"] = tuple(round(v, 3) for v in dataclasses.astuple(reg.balance(record.id)))
            by_key[own[record.id]] = values
        assert len(by_key) == len(records)
        out[name] = by_key
    return out


@SETTINGS
@given(plan=registers())
def test_a_register_exported_whole_and_imported_into_an_empty_one_has_the_same_records_and_links(
    new_register: Callable[[], Register], tmp_path_factory: pytest.TempPathFactory, plan: dict[str, Any]
) -> None:
    origin, copy = new_register(), new_register()
    with origin.transaction():  # one commit: quicker to build
        build(origin, plan)
    path = tmp_path_factory.mktemp("export") / "everything.gpkg"
    export_all(origin, path)
    results = import_all(copy, path)
    assert sum(r.added for r in results) == sum(origin.count(name) for name in ORDER)
    before = snapshot(origin)
    assert snapshot(copy) == before
    assert all(r.added == 0 and r.updated == 0 for r in import_all(copy, path))  # again: nothing new
    assert all(r.added == 0 and r.updated == 0 for r in import_all(origin, path))  # into its own register too
    assert snapshot(origin) == before


@pytest.mark.parametrize("fmt", ["geojson", "shp", "csv"])
def test_layers_exported_one_by_one_keep_their_links_in_another_register(
    new_register: Callable[[], Register], tmp_path: Path, fmt: str
) -> None:
    origin, copy = new_register(), new_register()
    plan = {
        "hazards": [
            {"name": n, "keyed": k, "status": "confirmed", "release": r, "suspend": False, "deleted_before": d}
            for n, k, r, d in [
                ("North", False, "all", True),
                ("تدمر", True, "part", False),
                ("Well", False, "none", True),
            ]
        ],
        "teams": [("Dogs", False), ("Manual 1", True), ("Manual 2", False)],
        "items": [
            {"hazard": h, "team": t, "keyed": k, "twin": w, "deleted_after": False, "model": "PMN-2"}
            for h, t, k, w in [
                (2, 0, False, True),
                (0, 1, True, False),
                (1, None, False, False),
                (None, 2, False, False),
            ]
        ],
        "order": [2, 0, 1],
    }
    build(origin, plan)
    for name in (name for name in ORDER if origin.count(name)):
        path = tmp_path / f"{name}.{fmt}"
        export_layer(origin, name, path)
        result = import_file(copy, path, name)
        assert result.added == origin.count(name) and result.rejected == 0, name
    assert snapshot(copy) == snapshot(origin)


def test_a_link_that_cannot_be_followed_names_the_record_the_field_and_the_value(
    new_register: Callable[[], Register], tmp_path: Path
) -> None:
    origin, copy = new_register(), new_register()
    hazard = origin.add(Hazard(name="North", geometry=square(0), source_key="H-1"))
    origin.add(Item(category="uxo", geometry=Point(LON, LAT), hazard_id=hazard.id, source_key="I-1"))
    export_layer(origin, "item", tmp_path / "items.geojson")
    with pytest.raises(BadRows, match=r"feature 1: item 'I-1': hazard_id 1 names hazard 'H-1' \(hazard_key\), which"):
        import_file(copy, tmp_path / "items.geojson", "item")
    assert copy.count("item") == 0
    blanked = tmp_path / "blanked.csv"
    export_layer(origin, "item", blanked)
    text = blanked.read_text(encoding="utf-8-sig").replace(",H-1,", ",,")
    blanked.write_text(text, encoding="utf-8")
    copy.add(Hazard(name="North", geometry=square(0), source_key="H-1"))
    with pytest.raises(BadRows, match=r"row 1: item 'I-1': hazard_id 1 names a hazard but hazard_key is empty"):
        import_file(copy, blanked, "item")
    older = tmp_path / "older.csv"  # as sapper exported before it wrote keys: ids alone
    rows = list(csv.reader(io.StringIO(text)))
    keep = [j for j, name in enumerate(rows[0]) if name not in ("hazard_key", "team_key")]
    older.write_text("\n".join(",".join(row[j] for j in keep) for row in rows), encoding="utf-8")
    with pytest.raises(SapperError, match=r"older.csv: hazard_id holds the ids of the register it was exported from"):
        import_file(copy, older, "item")
    assert copy.count("item") == 0


def test_a_whole_register_whose_links_disagree_with_its_own_layers_is_refused(
    new_register: Callable[[], Register], tmp_path: Path
) -> None:
    origin, copy = new_register(), new_register()
    origin.add_many([Hazard(name=n, geometry=square(i), source_key=f"H-{i}") for i, n in enumerate(["A", "B"])])
    origin.add(Item(category="uxo", geometry=Point(LON, LAT), hazard_id=1, source_key="I-1"))
    path = tmp_path / "everything.gpkg"
    export_all(origin, path)
    # The item's hazard_key edited by hand (GDAL runs the GeoPackage's triggers): now it says another hazard.
    subprocess.run(
        ["ogrinfo", str(path), "-sql", "UPDATE items SET hazard_key = 'H-1'"], check=True, capture_output=True
    )
    with pytest.raises(BadRows, match=r"items feature 1: item 'I-1': hazard_id 1 is hazard 'H-0' in this file, but"):
        import_all(copy, path)
    assert copy.count("hazard") == copy.count("item") == 0


# --- the Palmyra scenario ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def palmyra(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of what `sapper scenario palmyra` writes (the command itself: tests/test_scenario.py)."""
    from sapper.testing.palmyra import palmyra as built

    return built(str(tmp_path_factory.mktemp("palmyra") / "a.gpkg"))


def test_palmyra_hazards_and_items_exported_and_imported_keep_every_item_on_its_hazard(
    palmyra: str, tmp_path: Path
) -> None:
    with init_register(palmyra) as origin, init_register(tmp_path / "b.gpkg", user="tester") as copy:
        assert origin.count("hazard", where={"status": "released"}) > 0  # released hazards have no polygon
        for name in ("hazards", "teams", "items"):
            export_layer(origin, name, tmp_path / f"{name}.geojson")
        for name in ("teams", "hazards", "items"):
            import_file(copy, tmp_path / f"{name}.geojson", name)
        hazards_before = {h.id: h.source_key for h in origin.list("hazard")}
        hazards_after = {h.id: h.source_key for h in copy.list("hazard")}
        before = {i.source_key: hazards_before.get(i.hazard_id) for i in origin.list("item")}
        after = {i.source_key: hazards_after.get(i.hazard_id) for i in copy.list("item")}
        same = sum(1 for key, hazard in before.items() if after.get(key) == hazard)
        assert (same, len(after)) == (4423, 4423)
        released = {h.source_key for h in origin.list("hazard", where={"status": "released"})}
        restored = copy.list("hazard", where={"source_key": sorted(released)})
        assert {h.status for h in restored} == {HazardStatus.RELEASED} and all(h.geometry is None for h in restored)
        original = {h.source_key: h.original_area_m2 for h in origin.list("hazard")}
        assert {h.source_key: h.original_area_m2 for h in copy.list("hazard")} == pytest.approx(original)


def test_palmyra_exported_whole_and_imported_with_the_command(palmyra: str, tmp_path: Path) -> None:
    everything, copy = tmp_path / "everything.gpkg", tmp_path / "copy.gpkg"
    run = [sys.executable, "-m", "sapper", "-u", "tester"]
    subprocess.run([*run, "export", palmyra, str(everything)], check=True, capture_output=True)
    subprocess.run([*run, "init", str(copy)], check=True, capture_output=True)
    done = subprocess.run([*run, "import", str(copy), str(everything), "--all"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with init_register(palmyra) as origin, init_register(copy) as restored:
        released = origin.count("release")
        assert f"imported releases from everything.gpkg: {released} added" in done.stdout.replace("\n", "")
        assert snapshot(restored) == snapshot(origin)
