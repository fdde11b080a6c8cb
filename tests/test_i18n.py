"""English, Arabic and Russian: the catalogues are complete, and the CLI, the API's errors, the
account's language and the PDF documents follow the reader's language (read back with pdftotext).
The web UI in Arabic, in Chromium, is tested in test_i18n_browser.py."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from sapper import i18n
from sapper.i18n.catalogues import messages as catalogue
from sapper.i18n.extract import messages as extracted
from sapper.i18n.extract import page_messages
from sapper.server import create_app
from sapper.store import open_register
from sapper.store.accounts import USERS, Accounts
from sapper.testing.server import Demo, Served, seeded, serving

MISSING = 987_654
ON = "2016-04-06"
PLACEHOLDER = re.compile(r"\{\w+(?:![rs])?\}|%\(\w+\)s|%%")
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def found() -> dict[str, list[tuple[str, int]]]:
    return extracted()


@pytest.mark.parametrize("language", ["ar", "ru"])
def test_every_message_in_the_code_has_a_translation(found: dict[str, list[tuple[str, int]]], language: str) -> None:
    assert len(found) > 300, "the extractors found the CLI's, the API's, the templates' and the UI's messages"
    translated = catalogue(language)
    missing = [f"{where[0][0]}:{where[0][1]}: {msgid!r}" for msgid, where in found.items() if msgid not in translated]
    assert not missing, f"{len(missing)} messages have no {language} translation (python -m sapper.i18n.extract):\n" + (
        "\n".join(missing[:30])
    )


@pytest.mark.parametrize("language", ["ar", "ru"])
def test_translations_keep_every_placeholder(language: str) -> None:
    for msgid, msgstr in catalogue(language).items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), (language, msgid, msgstr)


def test_the_extractors_find_messages_in_code_templates_scripts_and_pages(found: dict) -> None:
    files = {where[0].split(":")[0] for places in found.values() for where in places}
    assert {"server/errors.py", "report/templates/sitrep.html", "server/static/ui/map.js"} <= files
    assert "server/static/ui/map.html" in files
    page = '<h2 data-i18n>Layers</h2>\n<div aria-label="Map of it" data-i18n-attr="aria-label"></div>'
    assert list(page_messages(page)) == [("Layers", 1), ("Map of it", 2)]


def test_the_browser_language_is_negotiated() -> None:
    assert i18n.negotiate("fr-FR, ru;q=0.8, ar;q=0.9") == "ar"
    assert i18n.negotiate("ru-RU,ru;q=0.9,en-US;q=0.8") == "ru"
    assert i18n.negotiate("en-US,en;q=0.9") == "en"
    assert i18n.negotiate("de, ar;q=0") is None
    assert i18n.negotiate(None) is None
    with pytest.raises(ValueError, match="give one of en, ar, ru"):
        i18n.parse_language("de")


def test_numbers_and_dates_follow_the_reader() -> None:
    from sapper.i18n.formats import day, number

    assert number(12345.678, 1, "en") == "12,345.7"
    assert number(12345.678, 1, "ru") == "12\xa0345,7"
    assert day(date(2016, 4, 6), "en") == "2016-04-06"
    assert day(date(2016, 4, 6), "ru") == "6 апреля 2016\u202fг."
    assert day(date(2016, 4, 6), "ar") == "6 أبريل 2016"


@pytest.fixture(scope="module")
def demo(module_target: str) -> Demo:
    return seeded(module_target)


@pytest.fixture(scope="module")
def served(module_target: str, demo: Demo) -> Iterator[Served]:
    with serving(create_app(module_target)) as server:
        yield Served(server.url, module_target, demo)


def test_api_errors_follow_accept_language_and_keep_their_code(served: Served) -> None:
    with served.client("super") as client:
        english = client.get(f"/api/hazards/{MISSING}/balance")
        russian = client.get(f"/api/hazards/{MISSING}/balance", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
        arabic = client.get("/api/no-such-thing", headers={"Accept-Language": "ar"})
        asked = client.get(f"/api/hazards/{MISSING}/balance?lang=ar", headers={"Accept-Language": "ru"})
    assert english.status_code == russian.status_code == 404
    assert english.json()["code"] == russian.json()["code"] == "Not Found"  # for programs: the same in every language
    assert english.json()["description"] == f"hazard {MISSING} does not exist"
    assert russian.json()["description"] == f"hazard {MISSING} не существует"
    assert russian.json()["detail"] == russian.json()["description"]
    assert russian.headers["content-language"] == "ru"
    assert arabic.json()["description"].startswith("لا شيء في /api/no-such-thing")
    assert asked.json()["description"] == f"hazard {MISSING} غير موجود"  # ?lang= goes before the browser's
    with served.client() as anonymous:
        refused = anonymous.get("/api/sitrep", headers={"Authorization": "Bearer nope", "Accept-Language": "ar"})
    assert refused.status_code == 401 and refused.json()["code"] == "Unauthorized"
    assert refused.json()["description"] == "الرمز غير معروف أو منتهي الصلاحية أو مسحوب؛ سجّل الدخول مجددًا"


def test_the_account_keeps_its_language_on_both_backends(served: Served, tmp_path: Path) -> None:
    with open_register(served.target, user="test") as reg:
        accounts = Accounts(reg.backend).ensure()
        assert accounts.get("viewer").language is None
        assert accounts.change("viewer", language="ar").language == "ar"
        assert accounts.get("viewer").language == "ar"
        with pytest.raises(Exception, match="language 'de'"):
            accounts.change("viewer", language="de")
        assert accounts.history("viewer")[-1].after["language"] == "ar"  # the audit log shows the change
    try:
        with served.client("viewer") as client:
            ui = client.get("/ui/i18n/messages", headers={"Accept-Language": "en-GB"}).json()
            error = client.get(f"/api/hazards/{MISSING}/balance", headers={"Accept-Language": "en-GB"})
            pdf = client.get("/api/reports/sitrep.pdf", params={"on": ON}, headers={"Accept-Language": "en-GB"})
        assert ui["lang"] == "ar" and ui["dir"] == "rtl" and ui["messages"]["Layers"] == "الطبقات"
        assert ui["labels"]["cleared"] == "مطهّرة"  # the code stays, its label is translated
        assert error.json()["description"] == f"hazard {MISSING} غير موجود"  # the account's language wins
        assert pdf.status_code == 200 and "تقرير الوضع اليومي" in pdf_text(pdf.content, tmp_path)
    finally:
        with open_register(served.target, user="test") as reg:
            Accounts(reg.backend).change("viewer", language=None)


def test_an_older_register_gains_the_language_column(target: str) -> None:
    seeded(target)
    with open_register(target, user="test") as reg:
        reg.backend.execute(f"ALTER TABLE {USERS} DROP COLUMN language")
        assert "language" not in reg.backend.existing_columns(USERS)
        accounts = Accounts(reg.backend).ensure()  # as a newer server starts on it
        assert "language" in reg.backend.existing_columns(USERS)
        assert accounts.get("super").language is None and accounts.change("super", language="ru").language == "ru"


def sapper(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sapper", *args], capture_output=True, text=True)


def pdf_text(pdf: bytes, folder: Path) -> str:
    path = folder / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def plain(text: str) -> str:
    """pdftotext's text without the direction marks it puts around runs of Arabic and numbers."""
    return re.sub(r"[ \t]+", " ", BIDI_CONTROLS.sub("", text))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
@pytest.mark.parametrize("module_target", ["gpkg"], indirect=True)
def test_the_sitrep_in_arabic_has_arabic_headings_and_the_figures(demo: Demo, module_target: str, tmp_path: Path):
    from sapper.report.sitrep import sitrep

    out = tmp_path / "sitrep-ar.pdf"
    done = sapper("report", "sitrep", module_target, "--on", ON, "--lang", "ar", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "كُتب تقرير الوضع" in done.stdout  # the command speaks the document's language too
    text = plain(pdf_text(out.read_bytes(), tmp_path))
    for heading in ("تقرير الوضع اليومي", "حسب الفريق", "التوقعات", "الخريطة", "المسار"):
        assert heading in text, heading
    assert re.search(r"6\W*أبريل\W*2016", text)  # the day as Arabic readers write it (pdftotext moves the comma)
    pages = [p for p in text.split("\f") if p.strip()]
    for n, page in enumerate(pages, start=1):
        assert re.search(rf"الصفحة\s*{n}\s*من\s*{len(pages)}", page), page[-200:]
    with open_register(module_target, read_only=True) as reg:
        figures = sitrep(reg, date.fromisoformat(ON))
    assert re.search(rf"{figures['land']['still_hazardous']['m2'] / 10_000:,.2f}\s*هكتار", text)
    items = figures["items"]
    found, disposed = items["total_found"], items["total_disposed"]
    assert found == 25 and f"{disposed} / {found}" in text  # "found / disposed", read right to left
    assert "Daily situation report" not in text and "All routes" not in text  # nothing left in English


def test_the_cli_speaks_the_language_given(demo: Demo, module_target: str, tmp_path: Path) -> None:
    missing = sapper("--lang", "ru", "report", "completion", module_target, str(MISSING), "--out", str(tmp_path / "x"))
    assert missing.returncode == 1
    assert f"ошибка: hazard {MISSING} не существует" in missing.stderr
    wrong = sapper("--lang", "de", "report", "completion", module_target, str(MISSING))
    assert wrong.returncode != 0 and "en, ar, ru" in wrong.stderr
    with open_register(module_target, user="test") as reg:
        Accounts(reg.backend).ensure().change("ngo", language="ru")
    out = tmp_path / "sitrep.pdf"
    done = sapper("-u", "ngo", "report", "sitrep", module_target, "--on", ON, "--out", str(out))  # the account's
    assert done.returncode == 0, done.stderr
    assert "Ежедневная оперативная сводка" in pdf_text(out.read_bytes(), tmp_path)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
@pytest.mark.parametrize("module_target", ["gpkg"], indirect=True)
def test_documents_write_missing_values_and_counting_notes_in_the_readers_language(
    demo: Demo, module_target: str, tmp_path: Path
) -> None:
    monthly = tmp_path / "monthly-ru.pdf"
    done = sapper("report", "monthly", module_target, "--month", "2016-04", "--lang", "ru", "--out", str(monthly))
    assert done.returncode == 0, done.stderr
    text = " ".join(plain(pdf_text(monthly.read_bytes(), tmp_path)).split())
    assert "донор не" in text and "no donor recorded" not in text  # work of no task: the words for "no donor"
    report = tmp_path / "sitrep-ru.pdf"
    done = sapper("report", "sitrep", module_target, "--on", ON, "--lang", "ru", "--out", str(report))
    assert done.returncode == 0, done.stderr
    text = " ".join(plain(pdf_text(report.read_bytes(), tmp_path)).split())
    assert "половина периметра" in text and "средняя площадь, высвобождаемая за день, за 14 дней" in text
    assert "half the perimeter" not in text and "mean area released" not in text  # how figures are counted
