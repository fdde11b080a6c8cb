"""Every message the code shows, found with Babel's extractors, and the catalogues kept up to date.

Sources: Python modules that use ``sapper.i18n`` (``_()``, ``N_()``), the command line's ``--help``
texts (read from the built command tree: typer's ``help=`` and docstrings), the method rules' reasons, the PDF templates
(Jinja2's ``_()``), the web UI's scripts (``t()``) and pages (elements marked ``data-i18n`` and
attributes named in ``data-i18n-attr``). ``python -m sapper.i18n.extract`` adds new messages to each catalogue, empty,
for a translator to fill; tests/test_i18n.py fails while one is empty.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

from sapper.i18n import LANGUAGES
from sapper.i18n.catalogues import catalogue_path

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "report" / "templates"
UI = PACKAGE / "server" / "static" / "ui"
PYTHON_KEYWORDS = {"_": None, "N_": None}
JS_KEYWORDS = {"t": None}
MARKED_TEXT = re.compile(r"<(\w+)[^>]*\sdata-i18n(?:\s[^>]*)?>([^<]+)</\1>")
MARKED_TAG = re.compile(r"<\w+[^>]*\sdata-i18n-attr=\"([^\"]+)\"[^>]*>")
RULE_REASON = re.compile(r'^reason = "([^"]+)"$')
Location = tuple[str, int]


def first(message: str | tuple[str | None, ...] | None) -> str | None:
    """The message id of a call: its first argument (the others are values, not messages)."""
    return message[0] if isinstance(message, tuple) else message


def _python() -> Iterator[tuple[str, Location]]:
    from babel.messages.extract import extract_python

    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "sapper.i18n" not in source and path.parent.name != "i18n":
            continue
        with path.open("rb") as handle:
            for line, _func, message, _comments in extract_python(handle, PYTHON_KEYWORDS, [], {}):
                text = first(message)
                if text:
                    yield text, (str(path.relative_to(PACKAGE)), line)


def where_defined(command: object) -> Location:
    """The file and line of a command's function (a group with none: of its first command's)."""
    import inspect

    callback = getattr(command, "callback", None)
    if callback is None:
        subs = list(getattr(command, "commands", {}).values())
        return where_defined(subs[0]) if subs else ("cli/app.py", 1)
    code = inspect.unwrap(callback).__code__
    return str(Path(code.co_filename).resolve().relative_to(PACKAGE)), code.co_firstlineno


def _cli_help() -> Iterator[tuple[str, Location]]:
    import typer.main

    from sapper.cli import app
    from sapper.cli.help_language import help_texts

    for text, command in help_texts(typer.main.get_command(app)):
        yield text, where_defined(command)


def _rules() -> Iterator[tuple[str, Location]]:
    """The reasons of the method rules (``plan/rules/data/methods.toml``), quoted in a plan's notes.

    A reason an operator writes into their own rules file has no translation and is shown as written.
    """
    path = PACKAGE / "plan" / "rules" / "data" / "methods.toml"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        found = RULE_REASON.match(line)
        if found:
            yield found.group(1), (str(path.relative_to(PACKAGE)), number)


def _templates() -> Iterator[tuple[str, Location]]:
    from jinja2.ext import babel_extract

    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    for path in sorted(TEMPLATES.glob("*.html")):
        with path.open("rb") as handle:
            for line, _func, message, _comments in babel_extract(handle, ("_", "gettext"), [], options):
                text = first(message)
                if text:
                    yield text, (str(path.relative_to(PACKAGE)), line)


def _scripts() -> Iterator[tuple[str, Location]]:
    from babel.messages.extract import extract_javascript

    for path in sorted(UI.glob("*.js")):
        with path.open("rb") as handle:
            for line, _func, message, _comments in extract_javascript(handle, JS_KEYWORDS, [], {}):
                text = first(message)
                if text:
                    yield text, (str(path.relative_to(PACKAGE)), line)


def page_messages(source: str) -> Iterator[tuple[str, int]]:
    """The marked texts and attributes of a UI page, with their line numbers."""
    for match in MARKED_TEXT.finditer(source):
        yield " ".join(html.unescape(match.group(2)).split()), source.count("\n", 0, match.start()) + 1
    for match in MARKED_TAG.finditer(source):
        for attribute in match.group(1).split():
            value = re.search(rf'\s{re.escape(attribute)}="([^"]*)"', match.group(0))
            if value and value.group(1).strip():
                yield html.unescape(value.group(1)), source.count("\n", 0, match.start()) + 1


def _pages() -> Iterator[tuple[str, Location]]:
    for path in sorted(UI.glob("*.html")):
        for text, line in page_messages(path.read_text(encoding="utf-8")):
            yield text, (str(path.relative_to(PACKAGE)), line)


def messages() -> dict[str, list[Location]]:
    """Every message id with where it is used."""
    found: dict[str, list[Location]] = {}
    for source in (_python, _cli_help, _rules, _templates, _scripts, _pages):
        for text, where in source():
            found.setdefault(text, []).append(where)
    return found


def update(language: str, found: dict[str, list[Location]] | None = None) -> int:
    """Add the new messages to a language's catalogue (keeping every translation); the number added."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    found = messages() if found is None else found
    path = catalogue_path(language)
    if path.exists():
        with path.open("rb") as handle:
            catalogue = read_po(handle, locale=language)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        catalogue = Catalog(locale=language, project="sapper")
    added = 0
    for text, where in found.items():
        if text not in catalogue:
            added += 1
        catalogue.add(text, catalogue[text].string if text in catalogue else "", locations=where)
        catalogue[text].locations = list(where)  # where it is now, not every line it was ever on
    for message in list(catalogue):
        if message.id and message.id not in found:
            catalogue.obsolete[message.id] = message
            del catalogue[message.id]
    with path.open("wb") as handle:
        write_po(handle, catalogue, width=120, sort_output=False, include_previous=False)
    return added


if __name__ == "__main__":
    everything = messages()
    for code in LANGUAGES:
        if code != "en":
            print(f"{code}: {update(code, everything)} new messages of {len(everything)}")
