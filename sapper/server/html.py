"""Plain HTML views of the OGC API documents, for people browsing with no GIS at hand.

No scripts and nothing from the internet: one local stylesheet from ``/static``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from fastapi.responses import HTMLResponse

from sapper.server.web import HTML


def _link_list(links: Iterable[dict[str, Any]]) -> str:
    items = "".join(
        f'<li><a href="{escape(lk["href"])}">{escape(lk.get("title") or lk["rel"])}</a> '
        f"<small>{escape(lk['rel'])}, {escape(lk['type'])}</small></li>"
        for lk in links
    )
    return f"<ul class='links'>{items}</ul>"


def page(title: str, body: str, links: Sequence[dict[str, Any]] = (), status: int = 200) -> HTMLResponse:
    html_links = [lk for lk in links if lk.get("type") == HTML and lk["rel"] not in ("self", "alternate")]
    nav = " · ".join(f'<a href="{escape(lk["href"])}">{escape(lk.get("title") or lk["rel"])}</a>' for lk in html_links)
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(title)} - sapper</title>"
        "<link rel='stylesheet' href='/static/sapper.css'></head><body>"
        f"<header><a href='/ogc?f=html'>sapper</a> operations server</header><main><h1>{escape(title)}</h1>"
        f"{f'<nav>{nav}</nav>' if nav else ''}{body}"
        f"<h2>Links</h2>{_link_list(links)}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status)


def table(rows: Iterable[Sequence[Any]], head: Sequence[str]) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else escape(str(value))


def anchor(href: str, label: Any) -> str:
    return f'<a href="{escape(href)}">{text(label)}</a>'
