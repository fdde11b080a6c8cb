"""The `sapper` command as a user runs it: a real process, on both backends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SQUARE = "POLYGON((38.26 34.55, 38.264 34.55, 38.264 34.554, 38.26 34.554, 38.26 34.55))"
WEST_HALF = "POLYGON((38.259 34.549, 38.262 34.549, 38.262 34.555, 38.259 34.555, 38.259 34.549))"


def sapper(*args: str, register: str | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env_args = ["-r", register] if register else []
    result = subprocess.run(
        [sys.executable, "-m", "sapper", "-u", "cli-tester", *env_args, *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert (result.returncode == 0) == ok, result.stdout + result.stderr
    return result


def test_a_day_of_register_work(target: str, tmp_path: Path) -> None:
    assert "register ready" in sapper("init", target).stdout
    r = target
    assert (
        "added hazard 1"
        in sapper(
            "add", "hazard", "name=Colonnade", f"geometry={SQUARE}", "contamination=ied", "priority=1", register=r
        ).stdout
    )
    area = tmp_path / "site.geojson"
    area.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [38.2615, 34.5515]},
                    }
                ],
            }
        )
    )
    sapper(
        "add",
        "site",
        "name=Temple of Bel",
        "kind=monument",
        f"geometry=@{area}",
        "buffer_m=100",
        "forbidden_methods=destruction_in_place,mechanical",
        register=r,
    )
    sapper("add", "item", "category=ap_mine", "geometry=POINT(38.2612 34.5512)", "hazard_id=1", register=r)

    listed = sapper("list", "hazard", "status=suspected", register=r).stdout
    assert "Colonnade" in listed and "ied" in listed
    near = sapper("list", "site", "--near", "POINT(38.2612 34.5512)", "--within", "50", register=r).stdout
    assert "Temple of Bel" in near

    refused = sapper("update", "item", "1", "state=destroyed_in_place", register=r, ok=False)
    assert "item 1: destruction in place is forbidden within 100 m of Temple of Bel" in refused.stderr
    assert "Traceback" not in refused.stderr

    sapper("update", "hazard", "1", "status=confirmed", register=r)
    refused = sapper("update", "hazard", "1", "status=suspected", register=r, ok=False)
    assert "cannot change from confirmed to suspected" in refused.stderr

    released = sapper(
        "release", "1", "--route", "cleared", "--geometry", WEST_HALF, "--on", "2016-04-02", "--force", register=r
    ).stdout  # item 1 lies there, still found
    assert "cleared from hazard 1" in released
    shown = sapper("show", "hazard", "1", register=r).stdout
    assert "still hazardous" in shown and "confirmed" in shown

    history = sapper("history", "hazard", "1", register=r).stdout
    assert (
        history.count("cli-tester") == 3 and "'suspected' -> 'confirmed'" in history and "geometry changed" in history
    )

    summary = sapper("summary", r).stdout
    assert "Land release" in summary and "cleared" in summary and "ap_mine" in summary

    sapper("delete", "item", "1", register=r)
    assert "deleted" in sapper("history", "item", "1", register=r).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "hazard", "name=x", "geometry=POINT(1 1)"), "has a Point geometry where Polygon or MultiPolygon"),
        (("add", "item", "category=banana", "geometry=POINT(1 1)"), "unknown item category 'banana'"),
        (("add", "hazard", "name=x", "geometry=POLYGON((0 0"), "geometry: not WKT"),
        (("add", "hazard", "colour=red"), "hazard has no field 'colour'"),
        (("add", "hazard", "original_area_m2=5"), "kept by the register"),
        (("show", "hazard", "7"), "hazard 7 does not exist"),
        (("list", "bunker"), "unknown layer 'bunker'"),
        (("add", "team", "name=T", "kind=dog", "personnel=two"), "personnel: 'two' is not a whole number"),
    ],
)
def test_bad_input_gets_one_clear_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    register = str(tmp_path / "r.gpkg")
    sapper("init", register)
    result = sapper(*args, register=register, ok=False)
    assert message in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr


def test_missing_register_is_explained(tmp_path: Path) -> None:
    result = sapper("list", "hazard", register=str(tmp_path / "nowhere.gpkg"), ok=False)
    assert "no register at" in result.stderr and "sapper init" in result.stderr
    result = sapper("list", "hazard", ok=False)
    assert "which register?" in result.stderr
