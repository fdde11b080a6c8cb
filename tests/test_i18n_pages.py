"""Every text the web UI's scripts put on screen goes through i18n.js's ``t()``: a sentence in a string
literal, a literal text child of ``el(tag, {attributes}, "Text")`` or a literal title, aria-label,
placeholder or alt is reported with its file and line. (The pages' HTML is checked by the catalogue
test: its texts are marked ``data-i18n``.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parent.parent / "sapper" / "server" / "static" / "ui"
TOKEN = re.compile(
    r"//[^\n]*|/\*.*?\*/"  # comments
    r"|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`"  # strings and template strings
    r"|[\w$-]+|\S",
    re.DOTALL,
)
SENTENCE = re.compile(r"[^\W\d_]{2,},? [^\W\d_]{2,}")
WORD = re.compile(r"[^\W\d_]{2,}")
SHOWN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
NOT_SHOWN = {"on", "addEventListener", "removeEventListener", "querySelector", "querySelectorAll"}
NAMES = {"sapper"}  # the product's name is the same in every language


def literals(source: str) -> Iterator[tuple[int, str, list[str]]]:
    """Each string literal with its line and the three tokens before it."""
    tokens: list[str] = []
    for match in TOKEN.finditer(source):
        token = match.group(0)
        if token.startswith(("//", "/*")):
            continue
        if token[0] in "\"'`":
            yield source.count("\n", 0, match.start()) + 1, token[1:-1], tokens[-3:]
        tokens.append(token)


def unmarked(source: str) -> list[tuple[int, str]]:
    found = []
    for line, text, before in literals(source):
        if before[-2:] == ["t", "("] or (len(before) >= 2 and before[-2] in NOT_SHOWN) or text in NAMES:
            continue
        words = re.sub(r"\$\{[^}]*\}", "", text)
        attribute = before[-1:] == [":"] and before[-2].strip("\"'") in SHOWN_ATTRIBUTES
        child = before[-2:] == ["}", ","]  # el("tag", { ... }, "Text")
        if SENTENCE.search(words) or ((attribute or child) and WORD.search(words)):
            found.append((line, text))
    return found


def test_the_check_finds_unmarked_text_and_lets_marked_text_pass() -> None:
    source = """
el("button", { type: "button" }, "Edit");
el("button", { type: "button", title: "Close" }, t("Edit"));
box.textContent = `${n} hazards shown`; // a comment with words in it
el("h2", {}, t("Land release balance")); grid.on("load remove", done);
el("a", { class: "brand" }, "sapper"); el("select", { "aria-label": t("Plan") });
"""
    assert unmarked(source) == [(2, "Edit"), (3, "Close"), (4, "${n} hazards shown")]


@pytest.mark.parametrize("path", sorted(UI.glob("*.js")), ids=lambda p: p.name)
def test_every_text_a_script_shows_goes_through_t(path: Path) -> None:
    found = unmarked(path.read_text(encoding="utf-8"))
    assert not found, "put these through t() from i18n.js:\n" + "\n".join(f"{path.name}:{n}: {s!r}" for n, s in found)
