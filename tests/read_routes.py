"""Every GET route of the server, and what to ask of it to reach another organisation's hidden records.

Read by tests/test_security_reads.py. The routes are taken from the app itself, so a read route added
later has no case here and that test fails naming it. A request naming a hidden record is paired with
the same request naming a missing one: the two must answer alike.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import FastAPI
from starlette.routing import Mount

from sapper.testing.server import LAT, LON
from sapper.testing.tiles import tile_of

MARK = "SECRET-MARKER"  # in the name or notes of every hidden record
SECRET_LON, SECRET_LAT = LON + 0.02, LAT + 0.02  # the demo's restricted hazard; nothing of "mac" is near
FOUND_ON = date(2016, 5, 2)  # a day with nothing else on it
MISSING = 987_654
BOX = "38.289,34.569,38.292,34.572"  # around the secret place (a request echoes it in its links)


@dataclass
class Known:
    """The ids a request names: hidden records by name, ordinary ones by kind, the restricted hazard."""

    hidden: dict[str, int]
    ordinary: dict[str, int]
    secret: int


# --- the routes, as the app serves them -------------------------------------------------------


def get_routes(app: FastAPI) -> set[str]:
    """Every path the app answers GET on: its OpenAPI paths and the routes left out of that document."""

    def walk(routes: list[Any]) -> Iterator[str]:
        for route in routes:
            inner = getattr(route, "effective_candidates", None)  # an included router
            if inner is not None:
                yield from walk(inner())
            elif not isinstance(route, Mount) and "GET" in (getattr(route, "methods", None) or ()):
                yield route.path

    documented = {path for path, ops in app.openapi()["paths"].items() if "get" in ops}
    return documented | set(walk(app.routes))


@dataclass(frozen=True)
class Ask:
    """A GET request. One naming a hidden record carries the same request naming a missing one
    (``missing``) and how each names its record (``names``): the two must answer alike. One without
    ``missing`` must answer the same before and after the hidden records are added."""

    url: str
    params: tuple[tuple[str, str], ...] = ()
    missing: Ask | None = None
    names: tuple[str, str] = ("", "")


def ask(url: str, **params: Any) -> Ask:
    return Ask(url, tuple((k, str(v)) for k, v in params.items()))


def hidden_pair(template: str, hidden_id: int, **params: Any) -> Ask:
    """The request naming a hidden record (``{id}`` in its path or a parameter), paired with one naming ``MISSING``."""

    def naming(record_id: int) -> Ask:
        filled = {k: record_id if v == "{id}" else v for k, v in params.items()}
        return ask(template.replace("{id}", str(record_id)), **filled)

    return dataclasses.replace(naming(hidden_id), missing=naming(MISSING), names=(str(hidden_id), str(MISSING)))


COLLECTION_KINDS = {  # OGC collection -> the hidden record named in it, the ordinary one
    "hazards": ("hazard", "hazard"), "items": ("item", "item"), "teams": ("team", "team"),
    "protected_sites": ("site_point", "site"), "protected_site_points": ("site_point", "site"),
    "protected_site_areas": ("site_area", "site"), "reports": ("report", None), "releases": ("release", None),
    "plan_sectors": ("plan_sector", None), "plan_lanes": ("plan_lane", None), "qc_samples": ("qc_sample", None),
}  # fmt: skip
HISTORY_KINDS = {
    "hazard": "hazard", "item": "item", "team": "team", "site": "site_point", "report": "report",
    "release": "release", "activity": "eod_task", "plan": "secret_plan", "plan_sector": "plan_sector",
    "plan_lane": "plan_lane", "qc_sample": "qc_sample", "assignment": "assignment", "priority": "priority",
    "plan_day": "plan_day", "qc_plan": "qc_plan", "qa_visit": "qa_visit",
}  # fmt: skip
PAGES = ("sitrep", "report", "plan", "nothing")
FORMS = ("sapper_daily_report", "sapper_item_found", "sapper_eod_task", "sapper_qc_inspection")


def ogc_asks(known: Known, path: str) -> list[Ask] | None:
    found = re.fullmatch(r"/ogc/collections/(\w+)(/items|/queryables|/tiles/WebMercatorQuad|/tiles)?(/.*)?", path)
    if found is None:
        return None
    name, part, rest = found.groups()
    assert name in COLLECTION_KINDS, f"GET {path}: a collection with no hidden record in this test"
    hidden, ordinary = COLLECTION_KINDS[name]
    items = f"/ogc/collections/{name}/items"
    if part is None or (part in ("/queryables", "/tiles", "/tiles/WebMercatorQuad") and rest is None):
        return [ask(path), ask(path, f="html")] if part is None else [ask(path)]
    if part == "/items" and rest is None:
        asks = [ask(items, limit=1000), ask(items, bbox=BOX), ask(items, bbox=BOX, f="html"), ask(items, limit=1)]
        asks += [ask(items, datetime=FOUND_ON.isoformat()), ask(items, hazard_id=known.secret)]
        return asks
    if part == "/items" and rest == "/{featureId}":
        asks = [
            hidden_pair(f"{items}/{{id}}", known.hidden[hidden]),
            hidden_pair(f"{items}/{{id}}", known.hidden[hidden], f="html"),
        ]
        return asks + ([ask(f"{items}/{known.ordinary[ordinary]}")] if ordinary else [])
    if part == "/tiles/WebMercatorQuad" and rest == "/{tileMatrix}/{tileRow}/{tileCol}":
        tiles = [tile_of(SECRET_LON, SECRET_LAT, z) for z in (6, 10, 14, 16)]
        return [ask(f"/ogc/collections/{name}/tiles/WebMercatorQuad/{t.zoom}/{t.row}/{t.col}") for t in tiles]
    return None


def route_asks(known: Known, path: str) -> list[Ask]:
    """What to ask of one GET route; a route with no case fails the test, naming it."""
    h, o, secret = known.hidden, known.ordinary, known.secret
    on = FOUND_ON.isoformat()
    ogc = ogc_asks(known, path)
    if ogc is not None:
        return ogc
    cases: dict[str, Callable[[], list[Ask]]] = {
        "/": lambda: [ask("/")],
        "/openapi.json": lambda: [ask(path)],
        "/ogc": lambda: [ask(path), ask(path, f="html")],
        "/ogc/conformance": lambda: [ask(path)],
        "/ogc/collections": lambda: [ask(path), ask(path, f="html")],
        "/ogc/api": lambda: [ask(path)],
        "/ogc/tileMatrixSets": lambda: [ask(path)],
        "/ogc/tileMatrixSets/WebMercatorQuad": lambda: [ask(path)],
        "/api/hazards/{hazard_id}/balance": lambda: [
            hidden_pair("/api/hazards/{id}/balance", secret),
            ask(f"/api/hazards/{o['hazard']}/balance"),
        ],
        "/api/history/{kind}/{record_id}": lambda: (
            [hidden_pair(f"/api/history/{kind}/{{id}}", h[name]) for kind, name in HISTORY_KINDS.items()]
            + [ask(f"/api/history/hazard/{o['hazard']}")]
        ),
        "/api/sitrep": lambda: [ask(path), ask(path, on=on)],
        "/api/plans": lambda: [ask(path)],
        "/api/plans/stored": lambda: [ask(path)],
        "/api/plans/compare": lambda: [hidden_pair(path, h["plan_job"], a="{id}", b="{id}")],
        "/api/plans/{plan_id}": lambda: [hidden_pair("/api/plans/{id}", h[j]) for j in ("plan_job", "root_plan_job")],
        "/api/reports/sitrep.pdf": lambda: [ask(path, on=on)],
        "/api/hazards/{hazard_id}/completion.pdf": lambda: [
            hidden_pair("/api/hazards/{id}/completion.pdf", secret),
            ask(f"/api/hazards/{o['hazard']}/completion.pdf"),
        ],
        "/api/activities/{activity_id}/eod.pdf": lambda: [hidden_pair("/api/activities/{id}/eod.pdf", h["eod_task"])],
        "/api/reports/{report_id}/eod.pdf": lambda: [hidden_pair("/api/reports/{id}/eod.pdf", h["report"])],
        "/api/reports/monthly.pdf": lambda: [
            ask(path, month="2016-05"),
            ask(path, month="2016-05", organisation="ngo"),
        ],
        "/api/reports/eod-tasks": lambda: [ask(path)],
        "/api/jobs/{job_id}": lambda: [
            hidden_pair("/api/jobs/{id}", h[j]) for j in ("report_job", "plan_job", "root_plan_job")
        ],
        "/api/jobs/{job_id}/result": lambda: [hidden_pair("/api/jobs/{id}/result", h["report_job"])],
        "/api/activities": lambda: [
            ask(path),
            ask(path, hazard_id=secret),
            hidden_pair(path, h["team"], team_id="{id}"),
        ],
        "/api/activities/{task_id}": lambda: [hidden_pair("/api/activities/{id}", h[t]) for t in ("eod_task", "task")],
        "/api/me": lambda: [ask(path)],
        "/api/users": lambda: [ask(path)],
        "/api/users/{name}/history": lambda: [
            Ask("/api/users/ngo/history", (), ask("/api/users/nobody/history"), ("ngo", "nobody")),
            ask("/api/users/viewer/history"),
        ],
        "/api/submissions": lambda: [ask(path), ask(path, status="rejected")],
        "/api/submissions/{sub_id}": lambda: [hidden_pair("/api/submissions/{id}", h["submission"])],
        "/api/submissions/{sub_id}/attachments/{name}": lambda: [
            hidden_pair("/api/submissions/{id}/attachments/photo.png", h["submission"])
        ],
        "/api/submissions/{sub_id}/corrections": lambda: [
            hidden_pair("/api/submissions/{id}/corrections", h["submission"])
        ],
        "/api/{collection}/{record_id}/attachments": lambda: (
            [
                hidden_pair(f"/api/{c}/{{id}}/attachments", h[name])
                for c, name in (
                    ("hazards", "hazard"),
                    ("items", "item"),
                    ("reports", "report"),
                    ("qc_samples", "qc_sample"),
                )
            ]
            + [ask(f"/api/hazards/{o['hazard']}/attachments")]
        ),
        "/api/attachments/{attachment_id}": lambda: [
            hidden_pair("/api/attachments/{id}", h[a]) for a in ("hazard_photo", "item_photo")
        ],
        "/api/attachments/{attachment_id}/thumbnail": lambda: [
            hidden_pair("/api/attachments/{id}/thumbnail", h[a]) for a in ("hazard_photo", "item_photo")
        ],
        "/ui/imagery/{z}/{x}/{y}": lambda: [ask("/ui/imagery/10/630/410")],  # no imagery: the same 404
        "/ui/api/config": lambda: [ask(path)],
        "/ui/api/choices": lambda: [ask(path)],
        "/ui/api/buffers": lambda: [ask(path, bbox=BOX)],
        "/ui/api/progress": lambda: [ask(path, on=on, days=3), ask(path)],
        "/ui/api/plan": lambda: [ask(path), Ask(path, (("number", "2"),), ask(path, number=99), ("2", "99"))],
        "/ui/i18n/messages": lambda: [ask(path)],
        "/ui": lambda: [ask(path)],
        "/ui/": lambda: [ask(path)],
        "/ui/sw.js": lambda: [ask(path)],
        "/ui/{page}": lambda: [ask(f"/ui/{page}") for page in PAGES],
        "/openrosa/formList": lambda: [ask(path)],
        "/openrosa/forms/{form_id}.xml": lambda: [ask(f"/openrosa/forms/{form}.xml") for form in FORMS],
        "/openrosa/forms/{form_id}/manifest": lambda: [ask(f"/openrosa/forms/{form}/manifest") for form in FORMS],
        "/openrosa/forms/{form_id}/media/{filename}": lambda: [
            ask(f"/openrosa/forms/{form}/media/{name}")
            for form, name in (
                ("sapper_eod_task", "hazards.csv"),
                ("sapper_eod_task", "tasks.csv"),
                ("sapper_qc_inspection", "qc_samples.csv"),
            )
        ],
    }
    assert path in cases, f"GET {path}: a read route with no case in this test"
    return cases[path]()
