"""Every sentence the command line shows goes through the catalogues: what it prints and the errors it
raises are marked (``_()``), so the catalogue test (test_i18n.py) sees them and a translator fills them.
A literal sentence (or an f-string with words) handed to a print or an exception is reported with its
file and line. The less-used commands are run in Russian and Arabic to read their sentences back."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sapper.i18n.extract import messages as extracted

CLI = Path(__file__).resolve().parent.parent / "sapper" / "cli"
PRINTS = {"print", "echo", "secho", "fail", "prompt", "status"}  # console.print, typer.echo, typer.prompt...
MARKED = {"_", "N_", "translate", "localised", "sentence"}  # already in the reader's language, or marked
MARKUP = re.compile(r"\[/?[a-z #_]*\]")  # rich markup such as [bold red] ... [/]
WORD = re.compile(r"[^\W\d_]{2,}")


def called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def literal_words(node: ast.AST) -> Iterator[str]:
    """The words of the literal text in an expression, leaving out marked calls and format specs."""
    if isinstance(node, ast.Call) and called(node) in MARKED:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if WORD.search(MARKUP.sub("", node.value)):
            yield node.value
        return
    if isinstance(node, (ast.FormattedValue, ast.Subscript)):  # not its format spec, not a key such as c["id"]
        yield from literal_words(node.value)
        return
    for child in ast.iter_child_nodes(node):
        yield from literal_words(child)


def shown(tree: ast.AST) -> Iterator[ast.expr]:
    """The expressions a command shows: what it prints, and the arguments of the exceptions it raises."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and called(node) in PRINTS:
            yield from node.args
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            yield from node.exc.args


def unmarked(source: str, name: str = "cli.py") -> list[str]:
    found = []
    for expression in shown(ast.parse(source)):
        for text in literal_words(expression):
            found.append(f"{name}:{expression.lineno}: {text!r}")
    return found


def test_the_check_finds_an_unmarked_sentence_and_lets_marked_ones_pass() -> None:
    source = """
console.print(f"wrote {path} ({rows:,} rows)")
raise SapperError("--runs must be at least 1")
err.print(f"[yellow]{escape(label)}[/] {escape(str(message))}")
console.print(escape(_("exported {n} {layer}", n=n, layer=layer)))
raise SapperError(_("--runs must be at least 1")) from None
console.print(table)
"""
    assert sorted(unmarked(source)) == [
        "cli.py:2: ' rows)'",
        "cli.py:2: 'wrote '",
        "cli.py:3: '--runs must be at least 1'",
    ]


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_every_sentence_the_command_line_shows_is_marked(path: Path) -> None:
    found = unmarked(path.read_text(encoding="utf-8"), path.name)
    assert not found, "mark these sentences with _() from sapper.i18n:\n" + "\n".join(found)


def test_the_catalogue_check_scans_every_command_module() -> None:
    files = {where[0] for places in extracted().values() for where in places}
    marking = {f"cli/{p.name}" for p in CLI.glob("*.py") if re.search(r"\b_\(", p.read_text(encoding="utf-8"))}
    assert marking and marking <= files


def sapper(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sapper", *args], capture_output=True, text=True)


def test_less_used_commands_speak_russian_and_arabic(tmp_path: Path) -> None:
    register = str(tmp_path / "r.gpkg")
    assert sapper("init", register).returncode == 0
    forms = sapper("--lang", "ru", "forms", "build", str(tmp_path / "forms"))
    assert forms.returncode == 0, forms.stderr
    assert "записан" in forms.stdout and "не записаны" in forms.stdout
    runs = sapper("--lang", "ar", "backtest", register, "--runs", "0")
    assert runs.returncode == 1 and "خطأ:" in runs.stderr and "--runs" in runs.stderr
    assert "must be" not in runs.stderr
    wkt = sapper("--lang", "ru", "-r", register, "add", "hazard", "name=x", "geometry=NOT WKT")
    assert wkt.returncode == 1 and "WKT" in wkt.stderr and "give" not in wkt.stderr, wkt.stderr
