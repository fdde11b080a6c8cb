"""The web UI and the sitrep PDF in Arabic, in a real browser (Chromium via Playwright) against the
Palmyra scenario: the page lays out right to left with its labels translated, and the PDF the
server makes follows the browser's language. Screenshots: map-ar.png and sitrep-pdf-ar.png (set
``$SAPPER_SCREENSHOTS`` to write them for the README)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page

from sapper.testing.browser import ONE_BACKEND, Site, login, map_settled, screenshot

pytestmark = ONE_BACKEND
DAY = "2016-04-10"  # the Palmyra scenario's latest daily reports


def test_the_map_in_arabic_is_right_to_left_and_translated(palmyra: Site, page: Page, shots: Path) -> None:
    page.set_extra_http_headers({"Accept-Language": "ar-SY,ar;q=0.9,en;q=0.5"})
    login(page, palmyra.url, "viewer")
    map_settled(page)
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
    assert page.evaluate("getComputedStyle(document.getElementById('side')).direction") == "rtl"
    assert page.title() == "الخريطة - sapper"
    headings = page.locator("#side h2").all_inner_texts()
    assert headings == ["الطبقات", "مفتاح الخريطة"]
    nav = page.inner_text("#nav")
    assert "الخريطة" in nav and "تقرير الوضع" in nav and "تسجيل الخروج" in nav
    assert "المناطق الخطرة" in page.inner_text("[data-layer='hazards']")
    assert "كبّر الخريطة لرؤية" in page.locator("[data-layer='items'] + .note").inner_text()  # zoom in to see...
    legend = page.inner_text("#legend")
    assert "مُفرج عنها: مطهّرة" in legend and "Released" not in legend
    assert page.get_attribute("#map", "aria-label") == "خريطة المناطق الخطرة والمواد والمواقع المحمية"
    screenshot(page, shots, "map-ar")


def test_the_sitrep_page_in_russian_writes_dates_and_numbers_as_russians_do(palmyra: Site, page: Page) -> None:
    page.set_extra_http_headers({"Accept-Language": "ru"})
    login(page, palmyra.url, "viewer", "/ui/sitrep")
    page.wait_for_selector("body[data-loaded]", state="attached")
    assert page.get_attribute("html", "dir") == "ltr" and page.get_attribute("html", "lang") == "ru"
    assert page.inner_text("#title") == "Оперативная сводка, 10 апр. 2016 г."
    assert page.inner_text("#released-total .what") == "Всего высвобождено земли"
    released = page.inner_text("#released-total .value")
    assert released.endswith(" га") and "," in released  # a decimal comma


def test_the_sitrep_page_in_arabic_draws_its_charts_and_notes_in_arabic(palmyra: Site, page: Page, shots: Path) -> None:
    page.set_extra_http_headers({"Accept-Language": "ar"})
    login(page, palmyra.url, "viewer", "/ui/sitrep")
    page.wait_for_selector("body[data-loaded]", state="attached")
    axis = page.locator("#chart-released svg > text").all_text_contents()
    assert any("أبريل" in tick for tick in axis), axis  # days on the axis as Arabic readers write them
    assert not any(re.fullmatch(r"\d\d-\d\d", tick) for tick in axis), axis
    cut = page.evaluate(
        "[...document.querySelectorAll('#chart-items svg text')]"
        ".filter((t) => t.getBBox().x < 0).map((t) => t.textContent)"
    )
    assert cut == [], "labels running off the chart's left edge"
    assert page.evaluate("getComputedStyle(document.querySelector('#chart-items svg')).direction") == "ltr"
    methods = page.inner_text("#methods")
    assert "نصف محيط" in methods and "متوسط المساحة" in methods and "mean area" not in methods, methods
    assert "نُصُب أثري" in page.inner_text("#buildings .sub")  # a site kind's label, not its code
    screenshot(page, shots, "sitrep-ar", full_page=True)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm)")
def test_the_server_makes_the_sitrep_pdf_in_the_browsers_language(palmyra: Site, shots: Path, tmp_path: Path) -> None:
    with palmyra.api("viewer") as client:
        answer = client.get("/api/reports/sitrep.pdf", params={"on": DAY}, headers={"Accept-Language": "ar"})
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    pdf = tmp_path / "sitrep-ar.pdf"
    pdf.write_bytes(answer.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "تقرير الوضع اليومي" in text and "Daily situation report" not in text
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    first = next(tmp_path.glob("p*.png"))
    shutil.copy(first, shots / "sitrep-pdf-ar.png")
