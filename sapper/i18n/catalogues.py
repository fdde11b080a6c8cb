"""The translations, read from the ``.po`` sources at first use with Babel's own reader.

Reading the sources (no compiled ``.mo`` files) keeps a clean clone working after ``pip install .``
with no build step, and a translator's edit shows at the next start. Reading both catalogues
takes a few tens of milliseconds (bench/i18n_bench.py), once per process.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

LOCALE = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


def catalogue_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def messages(language: str) -> dict[str, str]:
    """msgid -> msgstr of one language; empty for English (the source language) or a missing catalogue."""
    path = catalogue_path(language)
    if not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    return {
        str(message.id): str(message.string)
        for message in catalogue
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy
    }


def lookup(language: str, message: str) -> str | None:
    return messages(language).get(message) if language != "en" else None
