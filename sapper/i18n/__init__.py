"""The reader's language: English, Arabic or Russian, from gettext catalogues made with Babel.

The language in force is a context variable, so a server request, a CLI command and a PDF each
read their own. Messages are marked in the code with ``_()`` (translated now, in the language in
force) or ``N_()`` (only marked: translated later, by whoever shows them, e.g. an API error in the
language of the request). Vocabulary values stay stable codes in the data; only their labels are
translated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sapper.i18n.catalogues import lookup

DEFAULT = "en"
LANGUAGES = {"en": "English", "ar": "العربية", "ru": "Русский"}
RIGHT_TO_LEFT = {"ar"}

_current: ContextVar[str] = ContextVar("sapper_language", default=DEFAULT)


def parse_language(value: str) -> str:
    """A supported language from a code such as ``ar``, ``ru-RU`` or ``en_GB``; a clear error otherwise.

    The error is a ValueError (the model's errors are translated with this package, so it imports none).
    """
    code = value.strip().replace("_", "-").split("-")[0].lower()
    if code not in LANGUAGES:
        raise ValueError(_("language {value!r}: give one of {choices}", value=value, choices=", ".join(LANGUAGES)))
    return code


def negotiate(accept_language: str | None) -> str | None:
    """The best supported language of an ``Accept-Language`` header (RFC 9110 12.5.4), or None."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().split("-")[0].lower()
        if code not in LANGUAGES:
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0 and (best is None or (weight, -position) > (best[0], best[1])):
            best = (weight, -position, code)
    return best[2] if best else None


def current() -> str:
    return _current.get()


def use(language: str | None) -> None:
    """Set the language for the rest of this context (a CLI run)."""
    _current.set(parse_language(language) if language else DEFAULT)


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """The language in force inside the block (a document, a request)."""
    code = parse_language(language) if language else current()
    token = _current.set(code)
    try:
        yield code
    finally:
        _current.reset(token)


def direction(language: str | None = None) -> str:
    return "rtl" if (language or current()) in RIGHT_TO_LEFT else "ltr"


def translate(message: str, language: str | None = None) -> str:
    """The message in ``language`` (default: the one in force); the English text if it has no translation."""
    return lookup(language or current(), message) or message


def _(message: str, **params: Any) -> str:
    """A message in the language in force, with ``{name}`` fields filled from ``params``."""
    text = translate(message)
    return text.format(**params) if params else text


def N_(message: str) -> str:
    """Mark a message for the catalogues without translating it yet."""
    return message


gettext = translate

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "_",
    "current",
    "direction",
    "gettext",
    "negotiate",
    "parse_language",
    "speaking",
    "translate",
    "use",
]
