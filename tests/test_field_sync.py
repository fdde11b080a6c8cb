"""``sapper field sync`` of what a team did in QGIS or QField: hazards the team found and drew in the
package come into the register as the team's organisation's, and the conflicts file appears only
with a sync that committed."""

from __future__ import annotations

import json
from pathlib import Path

from test_field_pack import _features, _sync, needs_qgis, packed, qgis

from sapper.store import init_register
from sapper.testing.server import LAT, LON

__all__ = ["packed"]  # the fixture, shared with test_field_pack
CORNERS = [
    (LON, LAT + 0.02),
    (LON + 1e-3, LAT + 0.02),
    (LON + 1e-3, LAT + 0.021),
    (LON, LAT + 0.021),
    (LON, LAT + 0.02),
]
FIELD = "POLYGON((" + ",".join(f"{x} {y}" for x, y in CORNERS) + "))"


def _new_hazard(**values: object) -> dict:
    return {"layer": "hazards", "add": values, "wkt": FIELD}


@needs_qgis
def test_a_hazard_drawn_in_the_package_becomes_one_of_the_teams_organisation(packed: tuple[str, dict, Path]) -> None:
    target, _ids, directory = packed
    found = _new_hazard(name="Orchard by the wadi", hazard_class="sha", status="suspected",
                        contamination="ap_mines", land_use="agriculture", reported_on="2026-12-02",
                        notes="villagers saw a mine")  # fmt: skip
    qgis(directory / "field.qgs", [found])
    done = _sync(target, directory)
    assert done.exit_code == 0, done.output
    with init_register(target) as reg:
        new = [h for h in reg.list("hazard") if (h.source_key or "").startswith("field:")]
        assert [(h.name, h.organisation, h.contamination.value, h.land_use.value) for h in new] == [
            ("Orchard by the wadi", "mac", "ap_mines", "agriculture")
        ]
        assert 10_000 < new[0].original_area_m2 < 10_400  # the drawn 0.001 degree square, as the register measures it
        count = reg.count("hazard")
    assert new[0].id in _features(directory / "field.gpkg", "hazards")[0]  # the package now knows its record
    again = _sync(target, directory)
    assert again.exit_code == 0, again.output
    with init_register(target) as reg:
        assert reg.count("hazard") == count  # synced twice, added once


@needs_qgis
def test_a_hazard_drawn_without_a_name_is_refused_and_nothing_imported(packed: tuple[str, dict, Path]) -> None:
    target, ids, directory = packed
    qgis(directory / "field.qgs", [_new_hazard(hazard_class="sha", notes="no name given")])
    done = _sync(target, directory)
    assert done.exit_code == 1
    message = " ".join(done.output.split())
    assert "hazards feature 4: name is missing" in message and "nothing was imported" in message
    with init_register(target) as reg:
        assert reg.count("hazard") == len(ids["hazards"]) + 1  # the seed's five and its restricted one


@needs_qgis
def test_a_sync_the_register_refuses_leaves_no_conflicts_file(packed: tuple[str, dict, Path]) -> None:
    target, ids, directory = packed
    with init_register(target, user="office") as reg:
        reg.change("hazard", ids["hazards"][1], notes="office: fenced on 2 Dec")
    qgis(
        directory / "field.qgs",
        [
            {"layer": "hazards", "id": ids["hazards"][1], "change": {"notes": "fence down"}},  # a conflict
            {"layer": "hazards", "id": ids["hazards"][0], "change": {"status": "suspended"}},  # refused on writing
        ],
    )
    done = _sync(target, directory)
    assert done.exit_code == 1
    assert "cannot change from suspected to suspended" in " ".join(done.output.split())
    assert not (directory / "conflicts.json").exists()  # no conflict of a sync that did not happen
    with init_register(target) as reg:
        assert reg.get("hazard", ids["hazards"][0]).status.value == "suspected"
    qgis(directory / "field.qgs", [{"layer": "hazards", "id": ids["hazards"][0], "change": {"status": "suspected"}}])
    done = _sync(target, directory)
    assert done.exit_code == 0, done.output
    conflicts = json.loads((directory / "conflicts.json").read_text())
    assert [(c["id"], c["tablet"]["notes"]) for c in conflicts] == [(ids["hazards"][1], "fence down")]
