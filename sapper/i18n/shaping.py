"""Arabic text for matplotlib charts: joined letter forms, right to left.

Browsers and WeasyPrint (Pango) shape Arabic themselves. Matplotlib before 3.11 draws characters
one by one, left to right: for it the letters are joined here (arabic-reshaper) and put in visual
order (python-bidi). Matplotlib 3.11 joins and orders Arabic itself (seen with 3.11.2), and doing it
twice would reverse the words again, so then the text goes to it unchanged.
"""

from __future__ import annotations

import re
from functools import cache

from sapper.i18n import translate

ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF]")


@cache
def matplotlib_shapes_text() -> bool:
    import matplotlib

    major, minor = (int(part) for part in matplotlib.__version__.split(".")[:2])
    return (major, minor) >= (3, 11)


def shaped(text: str) -> str:
    """The text as matplotlib must be given it: unchanged unless it holds Arabic letters."""
    if not ARABIC.search(text) or matplotlib_shapes_text():
        return text
    import arabic_reshaper
    from bidi import get_display

    return "\n".join(str(get_display(arabic_reshaper.reshape(line))) for line in text.split("\n"))


def chart_text(message: str, **params: object) -> str:
    """A chart label in the language in force, shaped for drawing."""
    text = translate(message)
    return shaped(text.format(**params) if params else text)
