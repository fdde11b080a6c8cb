"""ODK's XForm engine in a real browser for tests: enketo-core and enketo-transformer, bundled from
the npm packages that ``./install.sh --test`` installs in tests/xform_engine, served on 127.0.0.1.

A page loads an XForm the way Enketo does: enketo-transformer's browser build turns it into Enketo's
HTML form and model with its own XSLT stylesheets (run by Chromium's XSLT processor), and
enketo-core's ``Form`` runs it, with the form's attached CSV lists given as XML instances. What the
engine records (``form.getDataStr()``) and the files on its file inputs come back to the test.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, tostring

from playwright.sync_api import Page

from sapper.testing.server import ServerThread, serving

ENGINE_DIR = Path(__file__).resolve().parents[2] / "tests" / "xform_engine"
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>XForm engine</title>
<link rel="stylesheet" href="/leaflet.css"><style>.hide { display: none; }</style>
<script src="/engine.js"></script></head>
<body><div id="form-host"></div></body></html>
"""
# a 1x1 transparent PNG: the geo widgets' map tiles, so the page asks nothing of the internet
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def build_engine(out: Path) -> Path:
    """The engine bundled for the browser with esbuild, from node_modules (nothing is downloaded)."""
    if not (ENGINE_DIR / "node_modules" / "enketo-core").is_dir():
        raise RuntimeError(
            f"enketo-core is not installed in {ENGINE_DIR / 'node_modules'}: "
            "run ./install.sh --test (it runs npm ci there) before these tests"
        )
    if shutil.which("node") is None:
        raise RuntimeError("node is not installed: run ./install.sh --test before these tests")
    bundle = out / "engine.js"
    done = subprocess.run(
        ["node", str(ENGINE_DIR / "build.mjs"), str(bundle)], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"bundling the XForm engine failed: {done.stderr.strip()}")
    return bundle


def csv_instance(body: bytes) -> str:
    """A CSV list as the XML instance enketo-core reads: ``<root><item><COLUMN>value</COLUMN>...</item></root>``,
    one ``item`` a row, the shape Enketo Express makes of a form's CSV attachments (its utils.csvToXml)."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    root = Element("root")
    for values in rows[1:]:
        item = SubElement(root, "item")
        for column, value in zip(rows[0], values):
            SubElement(item, column.strip()).text = value.strip()
    return tostring(root, encoding="unicode")


def _app(bundle: Path) -> object:
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    script = bundle.read_bytes()
    leaflet = (ENGINE_DIR / "node_modules" / "leaflet" / "dist" / "leaflet.css").read_bytes()  # the maps' layout
    return Starlette(
        routes=[
            Route("/", lambda _r: HTMLResponse(PAGE)),
            Route("/engine.js", lambda _r: Response(script, media_type="text/javascript")),
            Route("/leaflet.css", lambda _r: Response(leaflet, media_type="text/css")),
            Route("/tiles/{z}/{x}/{y}.png", lambda _r: Response(TILE, media_type="image/png")),
        ]
    )


@contextmanager
def engine_server(bundle: Path) -> Iterator[ServerThread]:
    """The engine's page, served by uvicorn on 127.0.0.1."""
    with serving(_app(bundle)) as server:
        yield server


@dataclass
class Record:
    """What the engine produced: the record's XML and the files its file inputs hold (name -> bytes, type)."""

    xml: str
    files: dict[str, tuple[bytes, str]]


LOAD = """async ({xform, lists}) => {
    const {transform, Form} = window.xformEngine;
    const result = await transform({xform});
    const host = document.getElementById('form-host');
    host.innerHTML = result.form;
    const parser = new DOMParser();
    const external = Object.entries(lists).map(([id, xml]) => ({id, xml: parser.parseFromString(xml, 'text/xml')}));
    const form = new Form(host.querySelector('form.or'), {modelStr: result.model, external}, {});
    window.form = form;
    return form.init();
}"""

RECORD = """async () => {
    const valid = await window.form.validate();
    const files = await Promise.all(window.xformEngine.fileManager.getCurrentFiles().map(async (file) => {
        const bytes = new Uint8Array(await file.arrayBuffer());
        let text = '';
        for (const b of bytes) text += String.fromCharCode(b);
        return [file.name, btoa(text), file.type];
    }));
    const invalid = [...document.querySelectorAll('.invalid-required, .invalid-constraint, .invalid-relevant')]
        .map((el) => el.querySelector('[name]')?.getAttribute('name'));
    return {valid, invalid, xml: window.form.getDataStr(), files};
}"""


def load_form(page: Page, url: str, xform: str, lists: dict[str, bytes]) -> None:
    """Open the engine's page and start ``xform`` in it; ``lists`` are its CSV attachments by file name."""
    page.goto(url)
    instances = {name.rsplit(".", 1)[0]: csv_instance(body) for name, body in lists.items()}
    errors = page.evaluate(LOAD, {"xform": xform, "lists": instances})
    assert errors == [], f"enketo-core could not load the form: {errors}"


def record(page: Page) -> Record:
    """Validate the filled form as Enketo does on submit, and take its record and files."""
    out = page.evaluate(RECORD)
    assert out["valid"], f"enketo-core refuses the form as filled: {json.dumps(out['invalid'])}"
    return Record(out["xml"], {name: (base64.b64decode(data), kind) for name, data, kind in out["files"]})
