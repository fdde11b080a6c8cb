"""CSV files as spreadsheet programs save them: Arabic names arrive intact, or the import stops and
asks for the encoding; it never guesses one and garbles the names without a word."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from shapely.geometry import box

from sapper import Register
from sapper.formats import import_file
from sapper.model.errors import SapperError

NAMES = ["حقل الألغام الشمالي", "تدمر - المطار", "Well (بئر)"]


def wkt(i: int) -> str:
    return box(38.27 + 0.002 * i, 34.55, 38.271 + 0.002 * i, 34.551).wkt


def sheet(delimiter: str) -> str:
    """The hazards sheet as text, lines ended as Windows ends them."""
    rows = [["name", "status", "wkt"]] + [[name, "suspected", wkt(i)] for i, name in enumerate(NAMES)]
    return "".join(delimiter.join(f'"{cell}"' if delimiter in cell else cell for cell in row) + "\r\n" for row in rows)


def excel_csv_arabic_windows(path: Path) -> Path:
    """Excel's "CSV (Comma delimited)" on an Arabic Windows: Windows-1256, CRLF, no byte-order mark."""
    path.write_bytes(sheet(",").encode("cp1256"))
    return path


def excel_unicode_text(path: Path, byteorder: str = "le") -> Path:
    """Excel's "Unicode Text": UTF-16 little-endian with a byte-order mark, tab-separated."""
    mark = b"\xff\xfe" if byteorder == "le" else b"\xfe\xff"
    path.write_bytes(mark + sheet("\t").encode(f"utf-16-{byteorder}"))
    return path


def libreoffice_utf8_bom(path: Path) -> Path:
    """LibreOffice's "Text CSV" with UTF-8 and "save with byte-order mark"."""
    path.write_bytes(b"\xef\xbb\xbf" + sheet(",").encode("utf-8"))
    return path


def names_in(reg: Register) -> list[str]:
    return [h.name for h in reg.list("hazard")]


def test_windows_1256_is_refused_without_encoding_and_read_right_with_it(reg: Register, tmp_path: Path) -> None:
    path = excel_csv_arabic_windows(tmp_path / "hazards.csv")
    with pytest.raises(SapperError, match=r"hazards.csv is not UTF-8 .*--encoding, e.g. cp1256 for Arabic Excel"):
        import_file(reg, path, "hazards")
    assert reg.count("hazard") == 0
    assert import_file(reg, path, "hazards", encoding="cp1256").added == 3
    assert names_in(reg) == NAMES


@pytest.mark.parametrize("byteorder", ["le", "be"])
def test_unicode_text_from_excel_is_utf16_and_tab_separated(reg: Register, tmp_path: Path, byteorder: str) -> None:
    path = excel_unicode_text(tmp_path / "hazards.txt", byteorder)
    assert import_file(reg, path, "hazards").added == 3
    assert names_in(reg) == NAMES


def test_utf8_with_a_byte_order_mark_as_libreoffice_writes_it(reg: Register, tmp_path: Path) -> None:
    path = libreoffice_utf8_bom(tmp_path / "hazards.csv")
    assert import_file(reg, path, "hazards").added == 3
    assert names_in(reg) == NAMES


def test_a_wrong_or_unknown_encoding_is_one_clear_error(reg: Register, tmp_path: Path) -> None:
    path = libreoffice_utf8_bom(tmp_path / "hazards.csv")
    with pytest.raises(SapperError, match=r"unknown encoding 'arabic-please'"):
        import_file(reg, path, "hazards", encoding="arabic-please")
    utf16 = excel_unicode_text(tmp_path / "hazards.txt")
    with pytest.raises(SapperError, match=r"hazards.txt is not ascii"):
        import_file(reg, utf16, "hazards", encoding="ascii")
    assert reg.count("hazard") == 0


def test_the_command_takes_encoding(target: str, reg: Register, tmp_path: Path) -> None:
    path = excel_csv_arabic_windows(tmp_path / "hazards.csv")
    run = [sys.executable, "-m", "sapper", "-u", "tester", "import", target, str(path), "-l", "hazards"]
    env = {**os.environ, "COLUMNS": "200"}
    refused = subprocess.run(run, capture_output=True, text=True, env=env)
    assert refused.returncode == 1 and "is not UTF-8" in refused.stderr and "--encoding" in refused.stderr
    done = subprocess.run([*run, "--encoding", "cp1256"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert names_in(reg) == NAMES
