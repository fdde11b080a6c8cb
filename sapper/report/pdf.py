"""PDF documents from Jinja2 templates and one shared page CSS, typeset by WeasyPrint.

Every document extends ``templates/base.html``: the running header (the organisation's logo
and name, or its name alone), the footer (date, author, page X of Y) and ``document.css``.
Sentences in the templates go through ``_()`` (Jinja2's i18n extension), so gettext
catalogues plug in without touching the templates. WeasyPrint (and Pango under it) is
imported only when a PDF is made: the command line starts without it.
"""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from sapper.model.errors import SapperError

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOGO_TYPES = {"image/png", "image/jpeg", "image/svg+xml", "image/gif"}
DEFAULT_ORGANISATION = "Mine action centre"


@dataclass(frozen=True)
class Letterhead:
    """Who issues a document: the organisation's name, its logo (a data: URI) and the author."""

    organisation: str = DEFAULT_ORGANISATION
    logo: str | None = None
    author: str = ""


def letterhead(organisation: str | None, logo: str | Path | None, author: str) -> Letterhead:
    """A letterhead, with the logo file read now so a bad file is refused before any work."""
    return Letterhead(organisation or DEFAULT_ORGANISATION, logo_uri(Path(logo)) if logo else None, author)


def logo_uri(path: Path) -> str:
    kind, _ = mimetypes.guess_type(path.name)
    if kind not in LOGO_TYPES:
        raise SapperError(f"logo {path}: give a PNG, JPEG, GIF or SVG file (not {kind or 'an unknown type'})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SapperError(f"logo {path}: {exc.strerror or exc}") from None
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _hectares(m2: float | None, digits: int = 2) -> str:
    return "–" if m2 is None else f"{m2 / 10_000:,.{digits}f} ha"


def _label(code: Any) -> str:
    """A vocabulary code as words (stable codes stay in the data; only the page shows words)."""
    return "–" if code in (None, "") else str(code).replace("_", " ")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]  # gettext catalogues later
    env.filters.update(number=_number, hectares=_hectares, label=_label)
    return env


def render_html(template: str, context: dict[str, Any], head: Letterhead, issued: datetime | None = None) -> str:
    issued = issued or datetime.now().astimezone()
    page = {"lang": "en", "dir": "ltr", "issued": issued.strftime("%Y-%m-%d %H:%M"), "today": date.today()}
    return environment().get_template(template).render(**context, head=head, page=page)


def render_pdf(template: str, context: dict[str, Any], head: Letterhead) -> bytes:
    """The document as PDF bytes."""
    from weasyprint import HTML, URLFetcher

    html = render_html(template, context, head)
    local_only = URLFetcher(allowed_protocols={"data", "file"})  # images are data: URIs, the CSS a local file
    return HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=local_only).write_pdf()
