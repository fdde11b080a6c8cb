"""A polygon measures the same however its edges are split: on the Palmyra scenario, whose hazards are released
strip by strip, each hazard's land-release books (its original area less its releases) agree with the polygon
left, which is what the planner plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from sapper import open_register
from sapper.model.geometry import area_m2, areas_m2


def test_the_palmyra_hazards_keep_their_books(tmp_path: Path) -> None:
    from sapper.testing.palmyra import palmyra

    with open_register(palmyra(str(tmp_path / "palmyra.gpkg")), read_only=True) as reg:
        hazards = [h for h in reg.list("hazard") if h.geometry is not None]
        books = [reg.balance(h.id).hazardous for h in hazards]
    polygons = [area_m2(h.geometry) for h in hazards]
    assert books == pytest.approx(polygons, abs=1.0)  # the runway's were 179 m2 apart
    assert areas_m2([h.geometry for h in hazards]).tolist() == pytest.approx(polygons)
