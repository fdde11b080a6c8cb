"""The plan page in a real browser (Debian's Chromium, Playwright; fixtures: sapper.testing.browser).

A supervisor makes a plan on the page, for a small demo register and for the Palmyra scenario,
and sees it as the planner stored it: a Gantt of the teams with the finish dates marked, and the
burn-down of work and area with the forecast's band, the very rows `sapper plan` charts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page

from sapper.testing.browser import ONE_BACKEND, Site, drawn, login, map_settled, move_map, requested, screenshot
from sapper.testing.server import LAT, LON, served_demo


def make_a_plan(page: Page, seconds: int = 1) -> None:
    page.fill("#time_limit", str(seconds))
    page.click("#make button[type=submit]")
    # the plan shown, or the run's error: a plan that fails says so at once, not after the timeout
    page.wait_for_selector("body[data-plan][data-loading='0'], #make-status [role=alert]", timeout=180_000)
    assert page.locator("#make-status [role=alert]").count() == 0, page.inner_text("#make-status")


def plan_drawn(page: Page, view: dict[str, Any]) -> None:
    """The burn-down as the plan stored it (work and area: plan, median, band) and the finish dates marked."""
    assert view["days"], "the plan was stored with its burn-down"
    for chart in ("#burndown-work", "#burndown-area"):
        assert page.locator(f"{chart} path[data-series='plan (expected durations)']").count() == 1
        assert page.locator(f"{chart} path[data-series='forecast, median of the runs (p50)']").count() == 1
        assert page.locator(f"{chart} path[data-band='forecast, 10-90 % of runs']").count() == 1
        assert page.locator(f"{chart} line title").all_text_contents() == [
            f"p{q} finish: {view['plan'][f'finish_p{q}']}" for q in (50, 80, 95)
        ]
    assert page.locator("#burndown-area path[data-series='still hazardous (register)']").count() == 1
    marks = page.locator("#gantt line.mark title").all_text_contents()
    last = max(b["end"] for t in view["teams"] for b in t["bars"])
    assert marks == [f"plan finish {last}", *(f"p{q} finish {view['plan'][f'finish_p{q}']}" for q in (50, 95))]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with served_demo(str(tmp_path_factory.mktemp("demo") / "demo.gpkg")) as served:
        yield served


def test_a_supervisor_makes_a_plan_and_sees_its_gantt_and_burn_down(demo: Any, page: Page, tmp_path: Path) -> None:
    login(page, demo.url, "super", "/ui/plan")
    page.wait_for_selector("body[data-loading='0']")
    assert "no plan is stored yet" in page.inner_text("#no-plan")
    with demo.client("super") as client:
        assert page.input_value("#start") == client.get("/ui/api/config").json()["plan_start"]
    page.fill("#start", "2016-04-11")
    make_a_plan(page)
    assert page.get_attribute("body", "data-plan") == "1"
    with demo.client("super") as client:
        view = client.get("/ui/api/plan").json()
        sectors = client.get(
            "/ogc/collections/plan_sectors/items", params={"plan_id": view["plan"]["id"], "limit": 1}
        ).json()
    rows = page.locator("#gantt g.row")
    assert rows.count() == len(view["teams"]) > 0
    assert page.locator("#gantt rect.bar").count() == sum(len(t["bars"]) for t in view["teams"])
    assert page.get_attribute("#plan-finish", "data-value") == view["plan"]["finish_p50"]
    plan_drawn(page, view)
    screenshot(page, tmp_path, "plan-demo", full_page=True)  # not one of the README's

    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.click("#nav a[href='/ui/']")
    map_settled(page)
    move_map(page, LAT + 0.0005, LON + 0.005, 16)
    url = requested(urls, "plan_sectors")
    assert parse_qs(urlparse(url).query)["plan_id"] == [str(view["plan"]["id"])], "the map shows the latest plan"
    with demo.client("super") as client:
        expected = client.get(url).json()["numberMatched"]
    assert 0 < expected <= sectors["numberMatched"]
    assert drawn(page, "plan") == expected


@ONE_BACKEND
def test_the_palmyra_plan_on_the_page_is_the_plan_the_register_keeps(palmyra: Site, page: Page, shots: Path) -> None:
    login(page, palmyra.url, "chief", "/ui/plan")
    page.wait_for_selector("body[data-loading='0']")
    assert page.input_value("#start") == "2016-04-11", "the day after the scenario's last reports"
    make_a_plan(page)
    with palmyra.api() as client:
        view = client.get("/ui/api/plan").json()
        stored = client.get("/api/plans/stored").json()[-1]
    assert view["plan"]["id"] == stored["id"] and view["plan"]["start_on"] == "2016-04-11"
    assert page.get_attribute("#plan-finish", "data-value") == stored["finish_p50"]
    # every team has work: the 11 that search, the survey team and the three EOD teams (survey and EOD tasks)
    assert page.locator("#gantt g.row").count() == len(view["teams"]) == 15
    plan_drawn(page, view)
    screenshot(page, shots, "plan", full_page=True)


def test_a_supervisor_cancels_a_plan_still_waiting_for_a_worker(tmp_path: Path, page: Page) -> None:
    with served_demo(str(tmp_path / "queue.gpkg"), worker=False) as served:  # no worker: the plan waits
        login(page, served.url, "super", "/ui/plan")
        page.wait_for_selector("body[data-loading='0']")
        assert page.locator("#cancel-run").is_hidden()
        page.click("#make button[type=submit]")
        page.wait_for_selector("#cancel-run:visible")
        page.wait_for_selector("#make-status:has-text('waiting for a worker')")  # the status in words, not its code
        page.click("#cancel-run")
        page.wait_for_selector("#make-status:has-text('was cancelled')")
        assert page.locator("#cancel-run").is_hidden()
        with served.client("super") as client:
            runs = client.get("/api/plans").json()
        assert [r["status"] for r in runs] == ["cancelled"]
        assert runs[0]["step"] == "cancelled by super"
