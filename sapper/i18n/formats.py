"""Numbers and dates in the reader's convention (Babel's CLDR data): ``1,234.5``, ``1 234,5``, ``١٬٢٣٤٫٥``."""

from __future__ import annotations

from datetime import date, datetime

from sapper.i18n import current

# CLDR locales that carry each language's usual conventions (Arabic: Arabic-Indic digits as in Egypt
# and the Levant; "ar" alone in CLDR already uses them).
LOCALES = {"en": "en_GB", "ar": "ar", "ru": "ru_RU"}


def locale_of(language: str | None = None) -> str:
    return LOCALES.get(language or current(), "en_GB")


def number(value: float | int | None, digits: int = 0, language: str | None = None) -> str:
    """A figure with ``digits`` decimals, grouped; an en dash for no value."""
    if value is None:
        return "–"
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=locale_of(language))


def day(value: date | str | None, language: str | None = None) -> str:
    """A calendar day as its readers write it: ISO 8601 in English (the register's own form, which
    English-speaking operations read), written out in Arabic and Russian (``6 ديسمبر 2026``,
    ``6 декабря 2026 г.``). A string that is not a date passes unchanged."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if (language or current()) == "en":
        return value.isoformat()
    from babel.dates import format_date

    return format_date(value, format="long", locale=locale_of(language))


def moment(value: datetime, language: str | None = None) -> str:
    """A date and time of day to the minute (the moment a document was issued)."""
    if (language or current()) == "en":
        return value.strftime("%Y-%m-%d %H:%M")
    from babel.dates import format_time

    return f"{day(value.date(), language)} {format_time(value, format='short', locale=locale_of(language))}"
