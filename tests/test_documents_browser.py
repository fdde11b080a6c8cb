"""The web UI's sitrep page offers the day's situation report as a PDF, downloaded in Chromium
with the session cookie of the login (no token in the link)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from sapper.testing.browser import ONE_BACKEND, Site, login


@ONE_BACKEND
def test_the_sitrep_page_downloads_the_days_pdf(palmyra: Site, page: Page, tmp_path: Path) -> None:
    login(page, palmyra.url, "viewer", "/ui/sitrep")
    page.wait_for_selector("body[data-loaded][data-loading='0']")
    day = page.get_attribute("body", "data-loaded")
    link = page.locator("#sitrep-pdf")
    assert link.get_attribute("href") == f"/api/reports/sitrep.pdf?on={day}"
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"sitrep-{day}.pdf"
    assert saved.read_bytes().startswith(b"%PDF")
