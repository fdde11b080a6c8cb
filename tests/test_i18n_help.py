"""The command line's ``--help`` and the tables it prints follow the reader's language: every help
text of every command and parameter has an Arabic and a Russian translation, ``--lang`` and
SAPPER_LANG choose it (also for ``sapper --help``, which runs before the app's callback), and
``sapper plan`` prints its tables and notes in Russian."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import typer.main
from test_plan_cli import fill
from typer.testing import CliRunner

from sapper.cli import app
from sapper.cli.help_language import language_asked
from sapper.i18n.catalogues import messages as catalogue


def help_texts(command: typer.core.TyperGroup, path: str = "sapper") -> Iterator[tuple[str, str]]:
    """(where, text) of every help text in the built command tree: commands, sub-commands, parameters."""
    for text in (command.help, command.short_help):
        if text:
            yield path, text
    for param in command.get_params(typer.Context(command)):
        if getattr(param, "help", None):
            yield f"{path} <{param.name}>", param.help
    for name, sub in getattr(command, "commands", {}).items():
        yield from help_texts(sub, f"{path} {name}")


def key(text: str) -> str:
    """A help text as the catalogues hold it: its paragraphs, each on one line."""
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(text).split("\n\n") if p.strip())


def sapper(*args: str, lang: str | None = None, columns: int = 250) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SAPPER_LANG"} | {"COLUMNS": str(columns)}
    if lang:
        env["SAPPER_LANG"] = lang
    return subprocess.run([sys.executable, "-m", "sapper", *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("language", ["ar", "ru"])
def test_every_help_text_of_every_command_and_parameter_is_translated(language: str) -> None:
    found = list(help_texts(typer.main.get_command(app)))
    commands = {where for where, _text in found if "<" not in where}
    assert len(commands) > 30 and len(found) > 200  # the walk reached the sub-commands and their parameters
    translated = catalogue(language)
    missing = sorted({f"{where}: {text[:70]!r}" for where, text in found if key(text) not in translated})
    assert not missing, f"{len(missing)} help texts have no {language} translation:\n" + "\n".join(missing[:30])


def test_lang_chooses_the_language_of_a_commands_help() -> None:
    shown = sapper("--lang", "ru", "plan", "--help")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "Спланировать разминирование" in out and "Число прогонов Монте-Карло" in out
    assert "Параметры" in out and "по умолчанию: 1000" in out  # typer's own words around them too
    for english in ("Plan the clearance", "Monte Carlo runs", "Options", "default: 1000"):
        assert english not in out, english


def test_sapper_lang_chooses_the_language_of_the_top_level_help() -> None:
    shown = sapper("--help", lang="ar")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "تسجيل تطهير مدينة من الأخطار المتفجرة" in out  # the app's help
    assert "تخطيط التطهير" in out and "حسابات خادم العمليات" in out  # commands' and sub-apps' help
    assert "عرض هذه المساعدة والخروج" in out and "الأوامر" in out
    for english in ("Register, plan and track", "Plan the clearance", "Show this message", "Commands"):
        assert english not in out, english
    assert "Register, plan and track" in sapper("--help").stdout  # English without SAPPER_LANG


def test_one_process_changes_language_and_back() -> None:
    """Help texts are put into the language of each run, so one run's language never stays for the next."""
    runner = CliRunner()
    russian = runner.invoke(app, ["--lang", "ru", "qc", "--help"], env={"COLUMNS": "100", "SAPPER_LANG": None})
    english = runner.invoke(app, ["qc", "--help"], env={"COLUMNS": "100", "SAPPER_LANG": None})
    assert "Контроль качества (IMAS 09.20)" in russian.output and "Команды" in russian.output
    assert "Quality control (IMAS 09.20)" in english.output and "Commands" in english.output
    assert "Контроль" not in english.output and "Команды" not in english.output


def test_the_language_of_help_is_read_among_the_root_options() -> None:
    assert language_asked(["--lang", "ru", "plan", "--help"], {}) == "ru"
    assert language_asked(["-r", "x.gpkg", "--lang=ar", "--help"], {}) == "ar"
    assert language_asked(["-r", "ar", "plan"], {}) == "en"  # a register named "ar" is not a language
    assert language_asked(["report", "sitrep", "--lang", "ar", "--help"], {}) == "en"  # the document's language
    assert language_asked(["--help"], {"SAPPER_LANG": "ru_RU"}) == "ru"
    assert language_asked(["--lang", "de", "--help"], {"SAPPER_LANG": "ru"}) == "en"  # the callback says why


def test_plan_prints_its_tables_and_notes_in_russian_in_80_columns(tmp_path: Path) -> None:
    target = str(tmp_path / "town.gpkg")
    fill(target)
    run = sapper(
        "--lang", "ru", "-u", "planner", "plan", target,
        "--out", str(tmp_path / "plan"), "--time-limit", "1", "--runs", "100", "--no-lanes", columns=80,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for russian in (
        "плановое завершение",  # the headline table
        "Производительность по отчётам",  # the rates learned from the report
        "Приоритеты: первые 3 из 3 опасных районов",
        "балл",  # the priorities' headers
        "Группы: их секторы, гектары и занятые рабочие дни",
        "начало",  # the teams' headers
        "работа: разминирование: задач",  # the kinds of work
        "темп: по отчётам высвобождалось",  # the pace against the reports
        "Простой групп в пределах плана и его причины",
        "ждёт",  # an idle team's reason
        "сохранён в реестре",
    ):
        assert russian in out, russian
    for english in ("planned finish", "Priorities", "Teams:", "last day", "pace:", "Idle team-days", "waits", "reason"):
        assert english not in out, english
    # the Russian headers leave the tables as narrow as the English ones: one row per hazard, rank and dates on it
    assert max(len(line) for line in out.splitlines()) <= 80
    assert re.search(r"\n 1 +1 Road +[\d.]+ +[\d.]+ .* \d{4}-\d\d-\d\d +\d{4}-\d\d-\d\d *\n", out), out


def test_qc_and_user_tables_speak_the_readers_language(tmp_path: Path) -> None:
    target = str(tmp_path / "r.gpkg")
    assert sapper("init", target).returncode == 0
    shown = sapper("--lang", "ru", "qc", "show", target)
    assert shown.returncode == 0, shown.stderr
    assert "Планы контроля качества (IMAS 09.20)" in shown.stdout and "предел дефектов" in shown.stdout
    assert "QC plans" not in shown.stdout and "defect limit" not in shown.stdout
    users = sapper("-r", target, "user", "list", lang="ar")
    assert users.returncode == 0, users.stderr
    assert "الاسم" in users.stdout and "المنظمة" in users.stdout and "organisation" not in users.stdout
