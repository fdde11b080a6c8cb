"""PDF documents from Jinja2 templates and one shared page CSS, typeset by WeasyPrint.

Every document extends ``templates/base.html``: the running header (the organisation's logo
and name, or its name alone), the footer (date, author, page X of Y) and ``document.css``.
Sentences in the templates go through ``_()`` (Jinja2's i18n extension) and the catalogues of
``sapper.i18n``: a document is written in the language in force or the one given, laid out right
to left in Arabic, with numbers and dates as its readers write them. WeasyPrint (and Pango under it) is
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

from sapper import i18n
from sapper.i18n import N_, formats, vocabulary
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
    return formats.number(value, digits)


def _hectares(m2: float | None, digits: int = 2) -> str:
    return "–" if m2 is None else i18n.translate(N_("{ha} ha")).format(ha=formats.number(m2 / 10_000, digits))


def _label(code: Any) -> str:
    """A vocabulary code as words (stable codes stay in the data; only the page shows words)."""
    return vocabulary.label(code)


def _gettext(message: str) -> str:
    return i18n.translate(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translate(singular if n == 1 else plural)


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
    # Looked up at each call, in the language in force: one environment serves every language.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(number=_number, hectares=_hectares, label=_label, day=formats.day)
    return env


def page_footer() -> tuple[str, str, str]:
    """The footer's "Page X of Y" cut around the two counters, for the page CSS."""
    text = i18n.translate(N_("Page {page} of {pages}"))
    before, _, rest = text.partition("{page}")
    middle, _, after = rest.partition("{pages}")
    return before, middle, after


def render_html(
    template: str,
    context: dict[str, Any],
    head: Letterhead,
    issued: datetime | None = None,
    language: str | None = None,
) -> str:
    issued = issued or datetime.now().astimezone()
    with i18n.speaking(language) as lang:
        page = {
            "lang": lang,
            "dir": i18n.direction(lang),
            "issued": formats.moment(issued),
            "today": date.today(),
            "footer": page_footer(),
        }
        return environment().get_template(template).render(**context, head=head, page=page)


def render_pdf(template: str, context: dict[str, Any], head: Letterhead, language: str | None = None) -> bytes:
    """The document as PDF bytes, in ``language`` (default: the language in force)."""
    from weasyprint import HTML, URLFetcher

    html = render_html(template, context, head, language=language)
    local_only = URLFetcher(allowed_protocols={"data", "file"})  # images are data: URIs, the CSS a local file
    return HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=local_only).write_pdf()
