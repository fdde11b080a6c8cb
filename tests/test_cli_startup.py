"""Every `sapper` command starts without loading what only some commands need: GDAL through
pyogrio (and pandas with it) only when a file is read or written, the planner's OR-Tools and
matplotlib only when a plan is made, WeasyPrint and Jinja2 only when a document is written.
Start-up time itself is measured by hand, never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = {"pyogrio", "pandas", "matplotlib", "ortools", "weasyprint", "jinja2"}


def run_python(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line last."""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_the_command_line_starts_without_gdal_pandas_or_the_planner() -> None:
    loaded = run_python("import json, sys, sapper.cli; print(json.dumps(sorted(sys.modules)))")
    roots = {name.split(".")[0] for name in loaded}
    assert "sapper" in roots and "typer" in roots  # the check sees what is imported
    assert not roots & HEAVY, sorted(roots & HEAVY)


def test_gdal_comes_in_when_a_file_is_read(tmp_path: Path) -> None:
    file = tmp_path / "one.geojson"
    feature = {"type": "Feature", "properties": {"name": "H1"}, "geometry": {"type": "Point", "coordinates": [38, 34]}}
    file.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    seen = run_python(
        "import json, sys\n"
        "import sapper.formats\n"
        "from sapper.formats.source import read_source\n"
        "before = 'pyogrio' in sys.modules\n"
        f"source = read_source({str(file)!r})\n"
        "print(json.dumps([before, 'pyogrio' in sys.modules, source.driver, list(source.columns['name'])]))"
    )
    assert seen == [False, True, "GeoJSON", ["H1"]]
