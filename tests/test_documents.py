"""The PDF documents, read back as a person would: the daily situation report and the completion
report of a hazard (IMAS 08.30), made from a small register on GeoPackage and PostGIS and from
the Palmyra scenario. Their text (pdftotext) must carry the register's figures, and every page
its number; over HTTP a download is a PDF, and a hidden hazard answers as a missing one."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import Point

from sapper.model.plan import Plan
from sapper.model.records import Item
from sapper.report.completion import completion_document, original_boundary
from sapper.report.documents import latest_stored_plan, sitrep_document
from sapper.report.pdf import Letterhead, render_pdf
from sapper.report.sitrep import sitrep
from sapper.server import create_app
from sapper.store import open_register
from sapper.testing.palmyra import palmyra
from sapper.testing.server import LAT, LON, Demo, Served, seeded, serving, square

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")

ON = date(2016, 4, 6)  # the day of the small register's last release
MISSING = 987_654
HEAD = Letterhead(organisation="Palmyra Mine Action Centre", author="Tester")


def pdf_text(pdf: bytes, tmp: Path) -> str:
    """The PDF's text with its layout kept (a table row stays one line); pages split by form feeds."""
    path = tmp / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pages_of(text: str) -> list[str]:
    return [page for page in text.split("\f") if page.strip()]


def check_page_numbers(text: str) -> int:
    """Every page says 'Page i of n', in order, and n is the number of pages; returns n."""
    pages = pages_of(text)
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {len(pages)}" in page, page[-300:]
    return len(pages)


def m2(value: float) -> str:
    return f"{value:,.1f}"


def row(text: str, *cells: str) -> bool:
    """Whether one line holds the cells in this order (a table row as pdftotext lays it out)."""
    pattern = r"\s+".join(re.escape(c) for c in cells)
    return any(re.search(pattern, line) for line in text.splitlines())


def line_has(text: str, *cells: str) -> bool:
    """Whether one line holds the cells in this order, with other cells between them or not."""
    pattern = r"(?:^|\s)" + r"\s(?:.*\s)?".join(re.escape(c) for c in cells) + r"(?:\s|$)"
    return any(re.search(pattern, line) for line in text.splitlines())


@dataclass
class Small:
    target: str
    demo: Demo
    hazard: int  # released entirely: cancelled in part, cleared the rest
    open_hazard: int  # still hazardous
    plan_finish: dict[str, date]


@pytest.fixture(scope="module")
def small(module_target: str) -> Small:
    demo = seeded(module_target)
    hazard, open_hazard = demo.hazards[1], demo.hazards[2]
    finish = {"p50": date(2016, 6, 1), "p80": date(2016, 6, 20), "p90": date(2016, 7, 1), "p95": date(2016, 7, 9)}
    with open_register(module_target, user="seed") as reg:
        inside = reg.get("hazard", hazard).geometry
        for item in reg.list("item"):
            if item.geometry.within(inside):
                reg.change("item", item.id, state="destroyed_in_place", hazard_id=hazard, depth_cm=12)
        reg.release(hazard, "cancelled", geometry=square(LON + 0.002, LAT, 0.0005), on=ON, team_id=demo.teams[0])
        reg.release(hazard, "cleared", on=ON, team_id=demo.teams[1], depth_cm=13)
        reg.release(open_hazard, "reduced", geometry=square(LON + 0.004, LAT, 0.0004), on=ON, team_id=demo.teams[0])
        # what only "ngo" may see: an item on its restricted hazard, of a category no one else has
        reg.add(Item(category="booby_trap", geometry=Point(LON + 0.0205, LAT + 0.0205), hazard_id=demo.secret_hazard,
                     found_on=ON, organisation="ngo"))  # fmt: skip
        reg.add(Plan(number=1, organisation="mac", **{f"finish_{p}": d for p, d in finish.items()}))
    return Small(module_target, demo, hazard, open_hazard, finish)


def test_the_sitrep_pdf_carries_the_registers_figures_and_page_numbers(small: Small, tmp_path: Path) -> None:
    with open_register(small.target, read_only=True) as reg:
        figures = sitrep(reg, ON)
        context = sitrep_document(reg, ON, None, latest_stored_plan(reg))
    text = pdf_text(render_pdf("sitrep.html", context, HEAD), tmp_path)
    assert check_page_numbers(text) >= 2
    assert "Palmyra Mine Action Centre" in text and "Tester" in text and "Daily situation report, 2016-04-06" in text
    land = figures["land"]
    for route in ("cancelled", "reduced", "cleared"):
        today, total = land["released_today"][route], land["released_total"][route]
        assert total["m2"] > 0
        assert row(text, route, m2(today["m2"]), f"{today['ha']:.3f}", m2(total["m2"]), f"{total['ha']:.3f}")
    assert row(text, "All routes", m2(land["released_today"]["all"]["m2"]))
    items = figures["items"]
    assert items["total_found"] == 26  # the demo's 25 and the restricted hazard's one
    assert row(text, "All categories") and f"{items['total_found']} / {items['total_disposed']}" in text
    assert row(text, "booby trap", "1", "1", "0", "0", "0", "1", "0")  # found on the day, by state, total, disposed
    assert row(text, "Manual 1") and row(text, "Dogs 2")  # by team
    assert row(text, "P50", "2016-06-01") and "90 % likely by 2016-07-01" in text  # the stored plan's band


def test_the_completion_pdf_documents_the_hazard_as_imas_08_30_asks(small: Small, tmp_path: Path) -> None:
    with open_register(small.target, read_only=True) as reg:
        hazard = reg.get("hazard", small.hazard)
        balance = reg.balance(small.hazard)
        items = reg.list("item", where={"hazard_id": small.hazard})
        context = completion_document(reg, small.hazard)
    text = pdf_text(render_pdf("completion.html", context, HEAD), tmp_path)
    check_page_numbers(text)
    assert f"Completion report: {hazard.name}" in text
    assert "DRAFT" not in text and "can be handed over" in text
    assert row(text, "Original hazardous area", m2(balance.original))
    for route in ("cancelled", "reduced", "cleared"):
        assert row(text, route, m2(getattr(balance, route)))
    assert balance.cancelled > 0 and balance.cleared > 0 and balance.hazardous == 0
    assert "Turning points of the original boundary (4)" in text  # the seed's squares have 4 corners
    assert row(text, "TP4", "outer", "38.272000", "34.551000") and "TP5" not in text
    assert (
        len(items) == 5
        and sum(line_has(text, str(i.id), i.category.value.replace("_", " "), "destroyed in place") for i in items) == 5
    )
    assert row(text, "cleared", "Dogs 2", "13")
    assert "Clearance depth required: not set. Released at: 13 cm" in text
    assert "No QC recorded" in text and "Residual risk" in text
    assert text.count("Signature") >= 3


def test_a_completion_report_of_land_still_hazardous_is_a_draft(small: Small, tmp_path: Path) -> None:
    with open_register(small.target, read_only=True) as reg:
        left = reg.balance(small.open_hazard).hazardous
        text = pdf_text(render_pdf("completion.html", completion_document(reg, small.open_hazard), HEAD), tmp_path)
    assert "DRAFT, not for hand-over" in text and f"{m2(left)} m² are still hazardous" in text
    assert row(text, "Still hazardous", m2(left))


def test_the_original_boundary_is_the_first_recorded_polygon(small: Small) -> None:
    with open_register(small.target, read_only=True) as reg:
        hazard = reg.get("hazard", small.open_hazard)
        first = original_boundary(reg, hazard, [])
    assert first is not None and first.equals(square(LON + 0.004, LAT))  # not what is left after the release
    assert not first.equals(hazard.geometry)


@pytest.fixture(scope="module")
def served(small: Small) -> Iterator[Served]:
    with serving(create_app(small.target)) as server:
        yield Served(server.url, small.target, small.demo)


def test_the_downloads_are_pdfs_and_a_hidden_hazard_is_missing(served: Served, small: Small, tmp_path: Path) -> None:
    secret = served.demo.secret_hazard
    with served.client("super") as mac, served.client("ngo") as ngo:
        answer = mac.get(f"/api/hazards/{small.hazard}/completion.pdf")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
        assert answer.content.startswith(b"%PDF")
        hidden, missing = (
            mac.get(f"/api/hazards/{secret}/completion.pdf"),
            mac.get(f"/api/hazards/{MISSING}/completion.pdf"),
        )
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["description"].replace(str(secret), "ID") == missing.json()["description"].replace(
            str(MISSING), "ID"
        )
        assert ngo.get(f"/api/hazards/{secret}/completion.pdf").status_code == 200  # its owner may
        assert mac.get("/api/reports/sitrep.pdf", params={"on": "0001-01-01"}).status_code == 400  # not a 500
        seen = mac.get("/api/reports/sitrep.pdf", params={"on": ON.isoformat()})
        owner = ngo.get("/api/reports/sitrep.pdf", params={"on": ON.isoformat()})
    assert seen.status_code == 200 and seen.headers["content-type"] == "application/pdf"
    mine, theirs = pdf_text(seen.content, tmp_path), pdf_text(owner.content, tmp_path)
    assert "booby trap" not in mine and row(theirs, "booby trap", "1")  # counted only for who may see it
    assert pages_of(theirs)[0].lstrip().startswith("ngo")  # the header names the reader's organisation
    assert "by super" in mine  # and the reader as author


def test_the_web_sitrep_page_links_the_pdf() -> None:
    static = Path(__file__).parents[1] / "sapper" / "server" / "static" / "ui"
    assert 'id="sitrep-pdf"' in (static / "sitrep.html").read_text()
    assert "/api/reports/sitrep.pdf?on=" in (static / "sitrep.js").read_text()


def sapper(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sapper", *args], capture_output=True, text=True)


def test_the_commands_write_the_pdfs_and_refuse_bad_input(small: Small, tmp_path: Path) -> None:
    sitrep_pdf, completion_pdf = tmp_path / "s.pdf", tmp_path / "c.pdf"
    done = sapper("report", "sitrep", small.target, "--on", ON.isoformat(), "--out", str(sitrep_pdf), "--organisation",
                  "Test MAC", "--author", "Ops officer")  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = pdf_text(sitrep_pdf.read_bytes(), tmp_path)
    assert "Test MAC" in text and "Ops officer" in text and "Daily situation report, 2016-04-06" in text
    done = sapper("report", "completion", small.target, str(small.hazard), "--out", str(completion_pdf))
    assert done.returncode == 0, done.stderr
    assert completion_pdf.read_bytes().startswith(b"%PDF")
    missing = sapper("report", "completion", small.target, str(MISSING), "--out", str(tmp_path / "x.pdf"))
    assert missing.returncode == 1 and f"hazard {MISSING} does not exist" in missing.stderr
    assert not (tmp_path / "x.pdf").exists()
    not_a_logo = tmp_path / "logo.txt"
    not_a_logo.write_text("not an image")
    bad = sapper("report", "sitrep", small.target, "--logo", str(not_a_logo), "--out", str(tmp_path / "y.pdf"))
    assert bad.returncode == 1 and "logo.txt" in bad.stderr and "PNG" in bad.stderr
    too_early = sapper("report", "sitrep", small.target, "--on", "0001-01-01", "--out", str(tmp_path / "z.pdf"))
    assert too_early.returncode == 1 and "give a day between 1900-01-01" in too_early.stderr


def test_a_logo_goes_into_the_header(small: Small, tmp_path: Path) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (40, 40), "#1f5fbf").save(logo)
    out = tmp_path / "s.pdf"
    done = sapper("report", "sitrep", small.target, "--on", ON.isoformat(), "--logo", str(logo), "--out", str(out))
    assert done.returncode == 0, done.stderr
    listed = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True).stdout
    sizes = {tuple(line.split()[3:5]) for line in listed.splitlines()[2:]}
    assert ("40", "40") in sizes  # the logo, on every page besides the map and charts


@pytest.fixture(scope="module")
def palmyra_gpkg(tmp_path_factory: pytest.TempPathFactory) -> str:
    return palmyra(str(tmp_path_factory.mktemp("palmyra") / "palmyra.gpkg"))


PALMYRA_DAY = date(2016, 4, 10)  # the scenario's last day of reports


def test_the_palmyra_sitrep_pdf_has_the_published_item_total(palmyra_gpkg: str, tmp_path: Path) -> None:
    with open_register(palmyra_gpkg, read_only=True) as reg:
        figures = sitrep(reg, PALMYRA_DAY)
        text = pdf_text(render_pdf("sitrep.html", sitrep_document(reg, PALMYRA_DAY), HEAD), tmp_path)
    check_page_numbers(text)
    assert figures["items"]["total_found"] == 4423  # the published total (see tests/test_scenario.py)
    assert row(text, "All categories") and "4,423 / " in text
    for route in ("cancelled", "reduced", "cleared"):
        assert row(text, route, m2(figures["land"]["released_today"][route]["m2"]))
        assert m2(figures["land"]["released_total"][route]["m2"]) in text
    assert "No plan has been made yet" in text


def test_palmyra_completion_reports_list_every_turning_point_and_item(palmyra_gpkg: str, tmp_path: Path) -> None:
    with open_register(palmyra_gpkg, read_only=True) as reg:
        released = [h for h in reg.list("hazard") if h.status.value == "released"]
        assert released
        hazard = max(released, key=lambda h: reg.count("item", where={"hazard_id": h.id}))
        items = reg.list("item", where={"hazard_id": hazard.id})
        balance = reg.balance(hazard.id)
        boundary = original_boundary(reg, hazard, [])
        text = pdf_text(render_pdf("completion.html", completion_document(reg, hazard.id), HEAD), tmp_path)
    check_page_numbers(text)
    vertices = sum(len(p.exterior.coords) - 1 + sum(len(r.coords) - 1 for r in p.interiors)
                   for p in getattr(boundary, "geoms", [boundary]))  # fmt: skip
    assert f"Turning points of the original boundary ({vertices})" in text
    assert row(text, f"TP{vertices}") and f"TP{vertices + 1}" not in text
    assert f"Completion report: {hazard.name}" in text
    assert row(text, "cleared", m2(balance.cleared))
    assert items and all(line_has(text, str(i.id), i.category.value.replace("_", " ").split()[0]) for i in items)
