"""Quality control of cleared land (IMAS 09.20): the sample size, the draw, results and reopening."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import shapely
from shapely.geometry import box

from sapper.model.errors import InvalidRecord
from sapper.model.geometry import area_m2
from sapper.model.qc import QcResult
from sapper.model.qc_sampling import binomial_sample_size, draw_samples, sample_size
from sapper.model.records import Hazard, Team
from sapper.report.completion import completion_document
from sapper.report.pdf import Letterhead, render_pdf
from sapper.store.qc import make_plan, record_result
from sapper.store.register import Register

LON, LAT = 38.27, 34.55
HEAD = Letterhead(organisation="Palmyra Mine Action Centre", author="Tester")


def missed(lot: int, defects: int, n: int) -> float:
    """The chance that n units drawn from the lot, ``defects`` of them defective, are all sound."""
    return math.comb(lot - defects, n) / math.comb(lot, n)


@pytest.mark.parametrize(
    ("lot", "confidence", "rate"),
    [(50, 0.95, 0.05), (200, 0.95, 0.05), (1000, 0.95, 0.01), (1000, 0.9, 0.02), (5000, 0.99, 0.05), (30, 0.8, 0.1)],
)
def test_the_sample_is_the_smallest_zero_acceptance_plan_for_the_lot(lot: int, confidence: float, rate: float) -> None:
    n = sample_size(lot, confidence, rate)
    defects = max(1, math.ceil(rate * lot))
    assert missed(lot, defects, n) <= 1 - confidence < missed(lot, defects, n - 1)
    assert n <= binomial_sample_size(confidence, rate)  # drawing without replacement needs no more


def test_published_and_hand_worked_sizes() -> None:
    # 95 % confidence of catching a 5 % defect rate: the 59 samples of 95/95 acceptance (Wilks).
    assert binomial_sample_size(0.95, 0.05) == 59 == sample_size(10_000_000, 0.95, 0.05)
    assert binomial_sample_size(0.95, 0.01) == 299  # ln(0.05) / ln(0.99) = 298.07
    # One defective cell in ten: only inspecting all ten finds it with 95 % confidence.
    assert sample_size(10, 0.95, 0.1) == 10
    with pytest.raises(ValueError, match="confidence"):
        sample_size(10, 1.5, 0.1)


def test_the_draw_is_reproducible_with_its_seed_and_lies_in_the_lot() -> None:
    lot = box(LON, LAT, LON + 0.002, LAT + 0.001).union(box(LON + 0.0025, LAT, LON + 0.003, LAT + 0.0005))
    first, again, other = (draw_samples(lot, 10.0, 0.95, 0.05, seed) for seed in (7, 7, 8))
    assert first.samples and [s.wkt for s in first.samples] == [s.wkt for s in again.samples]
    assert [s.wkt for s in first.samples] != [s.wkt for s in other.samples]
    assert len(first.samples) == sample_size(first.lot_cells, 0.95, 0.05)
    for sample in first.samples:
        assert area_m2(sample.difference(lot)) < 1e-6
        assert 10.0 <= area_m2(sample) <= 101.0  # a 10 m cell (slivers under 10 % are no sample unit)


def cleared_hazard(reg: Register) -> Hazard:
    """A hazard cleared in two pieces, now released entirely."""
    hazard = reg.add(Hazard(name="Grain store", geometry=box(LON, LAT, LON + 0.002, LAT + 0.001)))
    reg.release(hazard.id, "cleared", geometry=box(LON, LAT, LON + 0.001, LAT + 0.001), on=date(2016, 4, 2))
    reg.release(hazard.id, "cleared", on=date(2016, 4, 3))
    return reg.get("hazard", hazard.id)


def test_a_plan_stores_its_samples_on_the_cleared_land(reg: Register) -> None:
    hazard = cleared_hazard(reg)
    plan, samples = make_plan(reg, hazard.id, seed=11)
    cleared = shapely.union_all([r.geometry for r in reg.list("release", where={"hazard_id": hazard.id})])
    stored = reg.list("qc_sample", where={"plan_id": plan.id})
    assert reg.get("qc_plan", plan.id).seed == 11
    assert len(stored) == plan.sample_size == sample_size(plan.lot_cells, 0.95, 0.05) == len(samples)
    assert all(area_m2(s.geometry.difference(cleared)) < 1e-6 for s in stored)
    assert [s.geometry.wkt for s in stored] == [s.wkt for s in draw_samples(cleared, 10.0, 0.95, 0.05, 11).samples]
    with pytest.raises(InvalidRecord, match="no cleared land"):
        make_plan(reg, hazard.id)  # all its cleared land is sampled already


def test_a_lot_per_team_samples_only_that_team_s_cleared_land(reg: Register) -> None:
    manual, dogs = reg.add_many([Team(name="Manual 1", kind="manual"), Team(name="Dogs 2", kind="dog")])
    hazard = reg.add(Hazard(name="Orchard", geometry=box(LON, LAT, LON + 0.002, LAT + 0.001)))
    west = reg.release(hazard.id, "cleared", geometry=box(LON, LAT, LON + 0.001, LAT + 0.001), team_id=manual.id)
    reg.release(hazard.id, "cleared", team_id=dogs.id)
    plan, samples = make_plan(reg, hazard.id, team_id=manual.id, seed=1)
    assert plan.release_ids == str(west.id) and plan.lot_m2 == pytest.approx(west.area_m2)
    assert all(area_m2(s.geometry.difference(west.geometry)) < 1e-6 for s in samples)
    assert make_plan(reg, hazard.id, seed=1)[0].team_id is None  # the rest (the dogs' land) is the next lot


def test_a_failed_sample_reopens_the_lot_and_the_books_still_balance(reg: Register) -> None:
    hazard = cleared_hazard(reg)
    plan, samples = make_plan(reg, hazard.id, seed=3)
    record_result(reg, samples[0].id, "passed", inspector="QA Ivanov")
    with pytest.raises(InvalidRecord, match="say why"):
        record_result(reg, samples[1].id, "failed")
    sample, failed = record_result(reg, samples[1].id, "failed", items_found=1, notes="AP mine at 8 cm")
    assert sample.result == QcResult.FAILED and failed.status == QcResult.FAILED
    after = reg.get("hazard", hazard.id)
    books = reg.balance(hazard.id)
    assert after.status.value == "in_clearance" and reg.count("release", where={"hazard_id": hazard.id}) == 0
    assert books.cleared == 0 and books.hazardous == pytest.approx(books.original)
    assert books.hazardous + books.cancelled + books.reduced + books.cleared == pytest.approx(books.original)
    assert area_m2(after.geometry) == pytest.approx(books.hazardous, rel=1e-6)
    assert failed.reopened_m2 == pytest.approx(books.original)
    reason = reg.history("hazard", hazard.id)[-1].after["notes"]
    assert f"Reopened by QC plan {plan.id}" in reason and "AP mine at 8 cm" in reason
    assert reg.history("qc_plan", plan.id)[-1].after["reason"].endswith("AP mine at 8 cm")
    with pytest.raises(InvalidRecord, match="failed already"):
        record_result(reg, samples[2].id, "passed")
    # Cleared again, the land can be sampled again (a new lot).
    reg.release(hazard.id, "cleared", on=date(2016, 4, 9))
    assert make_plan(reg, hazard.id, seed=3)[0].lot_m2 == pytest.approx(books.original)


def test_a_crash_while_reopening_leaves_the_register_as_it_was(reg: Register, monkeypatch: pytest.MonkeyPatch) -> None:
    hazard = cleared_hazard(reg)
    plan, samples = make_plan(reg, hazard.id, seed=3)
    releases = reg.count("release", where={"hazard_id": hazard.id})
    real_update = Register.update

    def failing_update(self: Register, record: object, **kwargs: object) -> object:
        if isinstance(record, Hazard):
            raise RuntimeError("disk full")  # the hazard write fails after the releases were withdrawn
        return real_update(self, record, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Register, "update", failing_update)
    with pytest.raises(RuntimeError):
        record_result(reg, samples[0].id, "failed", notes="fuze found")
    monkeypatch.undo()
    assert reg.count("release", where={"hazard_id": hazard.id}) == releases
    assert reg.get("qc_sample", samples[0].id).result == QcResult.PENDING
    assert reg.get("hazard", hazard.id).status.value == "released"
    assert reg.get("qc_plan", plan.id).status == QcResult.PENDING


def pdf_text(pdf: bytes, tmp: Path) -> str:
    path = tmp / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
def test_the_completion_report_is_a_draft_until_every_sample_passed(reg: Register, tmp_path: Path) -> None:
    hazard = cleared_hazard(reg)
    plan, samples = make_plan(reg, hazard.id, seed=5, cell_m=40.0)
    pending = pdf_text(render_pdf("completion.html", completion_document(reg, hazard.id), HEAD), tmp_path)
    assert "DRAFT, not for hand-over" in pending and "Quality control (IMAS 09.20) is pending" in pending
    assert f"plan {plan.id}: {plan.sample_size} of {plan.lot_cells} cells" in pending
    for sample in samples:
        record_result(reg, sample.id, "passed", on=date(2016, 4, 10), inspector="QA Ivanov")
    assert reg.get("qc_plan", plan.id).status == QcResult.PASSED
    final = pdf_text(render_pdf("completion.html", completion_document(reg, hazard.id), HEAD), tmp_path)
    assert "DRAFT" not in final and "quality control passed" in final
    assert f"{len(samples)} passed" in final


def test_the_commands_plan_record_and_show(target: str) -> None:
    def sapper(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sapper", *args], capture_output=True, text=True)

    from sapper.store import init_register

    with init_register(target) as reg:
        hazard = cleared_hazard(reg)
    made = sapper("qc", "plan", target, str(hazard.id), "--seed", "4", "--cell", "40", "--defect-rate", "0.1")
    assert made.returncode == 0, made.stderr
    assert "seed 4" in made.stdout
    with init_register(target) as reg:
        first = reg.list("qc_sample")[0]
    failed = sapper("qc", "result", target, str(first.id), "failed", "--items", "1", "--notes", "fuze found")
    assert failed.returncode == 0, failed.stderr
    assert "reopened" in failed.stdout
    visit = sapper("qc", "visit", target, "--on", "2016-04-11", "--hazard", str(hazard.id), "--result", "stop_work")
    assert visit.returncode == 0, visit.stderr
    shown = sapper("qc", "show", target)
    assert shown.returncode == 0 and "fuze found" in shown.stdout and "stop_work" in shown.stdout
    bad = sapper("qc", "result", target, str(first.id), "maybe")
    assert bad.returncode != 0 and "maybe" in (bad.stderr + bad.stdout)


def test_a_supervisor_fails_a_sample_through_the_api_and_the_land_reopens(target: str) -> None:
    from sapper.store import open_register
    from sapper.testing.server import served_demo

    with served_demo(target) as served:
        hazard_id = served.demo.hazards[1]
        with open_register(target, user="qm") as reg:
            reg.release(hazard_id, "cleared", force=True)  # the demo's items are still `found` on it
            plan, samples = make_plan(reg, hazard_id, seed=2, cell_m=20.0)
        url = f"/ogc/collections/qc_samples/items/{samples[0].id}"
        failed = {"properties": {"result": "failed", "inspected_on": "2016-04-12", "notes": "AP mine at 5 cm"}}
        with served.client("leader") as leader:
            tag = leader.get(url).headers["etag"]
            assert leader.patch(url, json=failed, headers={"If-Match": tag}).status_code == 403
        with served.client("super") as sup:
            tag = sup.get(url).headers["etag"]
            silent = sup.patch(url, json={"properties": {"result": "failed"}}, headers={"If-Match": tag})
            assert silent.status_code in (400, 422) and "say why" in silent.text
            answer = sup.patch(url, json=failed, headers={"If-Match": tag})
            assert answer.status_code == 200, answer.text
        with open_register(target) as reg:
            assert reg.get("qc_plan", plan.id).status == QcResult.FAILED
            assert reg.get("hazard", hazard_id).status.value == "in_clearance"
            books = reg.balance(hazard_id)
            assert books.cleared == 0 and books.hazardous == pytest.approx(books.original)
