"""The rest of the command line in the reader's language: the parser's own sentences and usage line,
the record tables of ``list``, ``show`` and ``history``, the plan's survey and practice notes, and the
backtest chart's words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point, box
from test_plan_cli import fill, wgs
from typer.testing import CliRunner

from sapper.cli import app
from sapper.cli.parser_language import SENTENCES, parser_sentence
from sapper.i18n import _, speaking
from sapper.model.enums import HazardClass, HazardStatus, Method, TeamKind
from sapper.model.records import Hazard, Team
from sapper.plan.forecasting.backtest import Backtest
from sapper.plan.rules.practice import Mismatch
from sapper.plan.survey.outlook import Outlook
from sapper.report.backtest_chart import backtest_figure
from sapper.store import open_register


def sapper(*args: str, lang: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SAPPER_LANG"} | {"COLUMNS": "200"}
    if lang:
        env["SAPPER_LANG"] = lang
    return subprocess.run([sys.executable, "-m", "sapper", *args], capture_output=True, text=True, env=env)


def test_an_unknown_option_is_reported_in_russian_with_a_russian_usage_line() -> None:
    run = sapper("--lang", "ru", "plan", "--limitx")
    assert run.returncode == 2
    err = run.stderr
    assert "Использование: python -m sapper plan" in err and "Ошибка" in err
    assert "Нет такого параметра: --limitx (возможные параметры: --time-limit)" in err
    for english in ("Usage:", "No such option", "Possible options", "Error", "for help"):
        assert english not in err, english


def test_a_missing_argument_is_reported_in_arabic() -> None:
    run = sapper("show", lang="ar")
    assert run.returncode == 2
    assert "الاستخدام: python -m sapper show" in run.stderr and "الوسيط 'kind' ناقص." in run.stderr
    assert "Missing argument" not in run.stderr and "Usage:" not in run.stderr


@pytest.mark.parametrize(
    ("args", "russian"),
    [
        (["show", "hazard", "x"], "Недопустимое значение 'record_id': нужно целое число"),
        (["plan", "--time-limit", "abc"], "Недопустимое значение '--time-limit': нужно число"),
        (["plan", "--runs"], "Параметру '--runs' нужно значение."),
        (["plan", "--no-lanes=3"], "Параметр '--no-lanes' не принимает значения."),
        (["show", "hazard", "1", "2"], "Лишние аргументы (2)"),
        (["lis"], "Нет такой команды 'lis'. Возможно, вы имели в виду 'list'?"),
    ],
)
def test_the_parsers_common_errors_speak_russian_and_english_comes_back(args: list[str], russian: str) -> None:
    """In one process: the Russian run, then an English one, which must not keep the Russian words."""
    runner = CliRunner()
    env = {"COLUMNS": "200", "SAPPER_LANG": None}
    ru = runner.invoke(app, ["--lang", "ru", *args], env=env)
    en = runner.invoke(app, args, env=env)
    assert ru.exit_code == 2 and en.exit_code == 2
    assert russian in " ".join(ru.output.replace("│", " ").split()), ru.output
    assert "Error" in en.output and "Использование" not in en.output and "Ошибка" not in en.output


def test_every_parser_sentence_template_has_fields_a_translation_can_reorder() -> None:
    assert len(SENTENCES) >= 20
    assert (
        parser_sentence("No such option: --x (Possible options: --y)", "en")
        == "No such option: --x (Possible options: --y)"
    )
    assert parser_sentence(
        "Invalid value for '--n': Input should be a valid number, unable to parse string as a number", "ru"
    ) == ("Недопустимое значение '--n': нужно число, строку не удалось прочитать как число")
    assert (
        parser_sentence("something typer said that no template knows", "ru")
        == "something typer said that no template knows"
    )


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> str:
    target = str(tmp_path_factory.mktemp("records") / "town.gpkg")
    fill(target)
    assert sapper("-r", target, "update", "hazard", "1", "priority=2").returncode == 0
    return target


def test_list_show_and_history_headers_are_russian(register: str) -> None:
    listed = sapper("--lang", "ru", "-r", register, "list", "hazard")
    assert listed.returncode == 0, listed.stderr
    assert "Опасные районы (SHA/CHA): 3" in listed.stdout and "землепользование" in listed.stdout
    assert "Hazard areas" not in listed.stdout and "land_use" not in listed.stdout
    shown = sapper("--lang", "ru", "-r", register, "show", "hazard", "1")
    assert shown.returncode == 0, shown.stderr
    assert "площадь полигона" in shown.stdout and "геометрия" in shown.stdout and "га, центр" in shown.stdout
    assert "polygon measures" not in shown.stdout and "centre" not in shown.stdout
    history = sapper("--lang", "ru", "-r", register, "history", "hazard", "1")
    assert history.returncode == 0, history.stderr
    for russian in ("История: район 1", "когда (UTC)", "кто", "изменения", "создано", "приоритет: 3 -> 2"):
        assert russian in history.stdout, russian
    for english in ("History of", "who", "changes", "created"):
        assert english not in history.stdout, english


def test_sapper_plan_writes_the_survey_outlook_in_arabic(tmp_path: Path) -> None:
    """Suspected land and a survey team: the plan's notes say what survey is expected to make of it."""
    target = str(tmp_path / "town.gpkg")
    fill(target)
    with open_register(target, user="tester") as reg:
        field = wgs(box(400, 0, 500, 100))
        reg.add(Hazard(name="Field", geometry=field, hazard_class=HazardClass.SHA, status=HazardStatus.SUSPECTED))
        reg.add(Team(name="Survey 1", kind=TeamKind.SURVEY, personnel=3, geometry=wgs(Point(150, -40))))
    run = sapper(
        "--lang", "ar", "-u", "planner", "plan", target,
        "--out", str(tmp_path / "plan"), "--time-limit", "1", "--runs", "100", "--no-lanes",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = " ".join(run.stdout.split())
    assert "الأراضي الممسوحة الملغاة/المخفضة/المطهرة: المسبق" in out and "لا إفراج عن أراضٍ مشتبه بها بعد" in out
    assert "فريق المسح، هكتار/يوم: NTS: المسبق 5 (2-8)، لا تقارير" in out
    for english in ("surveyed land", "no releases", "survey team ha/day", "no reports", "prior "):
        assert english not in out, english


def test_the_plans_survey_outlook_and_practice_notes_speak_arabic() -> None:
    outlook = Outlook(np.array([4.0, 3.0, 3.0]), np.array([0.4, 0.3, 0.3]), np.array([0.5, 0.25, 0.25]), 2.0)
    mismatch = Mismatch(3, "Ruins", Method.ROBOT, TeamKind.ROBOT, 5, "heritage: manual only")
    with speaking("ar"):
        survey, practice = outlook.explain(), mismatch.explain()
    assert "الأراضي الممسوحة الملغاة/المخفضة/المطهرة: المسبق 40%/30%/30%" in survey and "2.0" in survey
    assert "surveyed" not in survey and "register" not in survey
    assert practice.startswith("H3 Ruins: 5 ") and "robot" in practice and "rules forbid" not in practice


def test_the_backtest_charts_title_and_axes_are_russian() -> None:
    with speaking("ru"):
        figure = backtest_figure(Backtest(), _("Backtest of {register}", register="town.gpkg"))
    top, low = figure.axes
    words = [top.get_title(loc="left"), top.get_ylabel(), low.get_xlabel()]
    words += [t.get_text() for ax in (top, low) for t in ax.get_legend().get_texts()]
    assert "Проверка прогнозов на истории: town.gpkg" in words
    assert "опасная площадь в работе, га" in words and "внутри P10-P90, %" in words and "прогноз P10-P90" in words
    assert not [w for w in words if "still to work" in w or "days ahead" in w or "inside" in w], words


def test_the_rules_reason_quoted_in_a_practice_note_is_in_the_readers_language() -> None:
    from sapper.plan.rules.methods import load_rules

    rules = load_rules()
    reason = next(rule.reason for rule in rules.contamination if Method.ROBOT in rule.forbid)
    mismatch = Mismatch(3, "Depot", Method.ROBOT, TeamKind.ROBOT, 5, f"mixed: {reason}")
    with speaking("ru"):
        note = mismatch.explain()
    assert "(mixed: " in note, "the contamination stays a code"
    assert reason not in note, "the packaged rule's reason stays English"
    with speaking("ru"):
        assert _(reason) in note and _(reason) != reason
    written = Mismatch(3, "Depot", Method.ROBOT, TeamKind.ROBOT, 5, "mixed: our own rule, written by the centre")
    with speaking("ru"):
        assert "(mixed: our own rule, written by the centre)" in written.explain(), "an operator reason as written"
