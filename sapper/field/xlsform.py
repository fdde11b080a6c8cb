"""An XLSForm as data, written as .xlsx (openpyxl) and turned into an XForm (pyxform).

A form is held as the rows of its three sheets (survey, choices, settings), so the .xlsx a
form designer opens in a spreadsheet and the XForm the server hands to ODK Collect come from
the same rows. The version is a digest of those rows: a form changes version exactly when
its definition changes, which is what tells ODK Collect to fetch it again.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from sapper.model.enums import Vocabulary

SURVEY_COLUMNS = ("type", "name", "label", "hint", "required", "relevant", "constraint", "constraint_message")
SURVEY_EXTRA = ("default", "choice_filter", "appearance", "parameters", "calculation")
CHOICE_COLUMNS = ("list_name", "name", "label")
# abbreviations of the IMAS glossary (IMAS 04.10) a label writes in capitals: "AT mine", not "At mine"
ACRONYMS = frozenset({"ap", "at", "axo", "bac", "cha", "eod", "ied", "nts", "qc", "sha", "ts", "uxo"})


@dataclass
class XLSForm:
    """One form: its id, title and sheets; ``media`` names the CSV files it attaches."""

    form_id: str
    title: str
    survey: list[dict[str, str]]
    choices: list[dict[str, str]] = field(default_factory=list)
    media: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        body = json.dumps([self.form_id, self.title, self.survey, self.choices], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:12]

    @property
    def settings(self) -> dict[str, str]:
        # ``name`` is the root element of every submission: the form id, however the file is named
        return {"form_title": self.title, "form_id": self.form_id, "version": self.version, "name": self.form_id}

    def xlsx_bytes(self) -> bytes:
        """The form as an .xlsx workbook (sheets survey, choices, settings)."""
        from openpyxl import Workbook  # only where a workbook is written: not at every start of the CLI

        book = Workbook()
        survey = book.active
        survey.title = "survey"
        columns = [c for c in (*SURVEY_COLUMNS, *SURVEY_EXTRA) if any(row.get(c) for row in self.survey)]
        survey.append(columns)
        for row in self.survey:
            survey.append([row.get(c, "") for c in columns])
        choices = book.create_sheet("choices")
        choices.append(list(CHOICE_COLUMNS))
        for row in self.choices:
            choices.append([row[c] for c in CHOICE_COLUMNS])
        settings = book.create_sheet("settings")
        wanted = {k: v for k, v in self.settings.items() if v}
        settings.append(list(wanted))
        settings.append(list(wanted.values()))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def write(self, directory: Path) -> Path:
        path = directory / f"{self.form_id}.xlsx"
        path.write_bytes(self.xlsx_bytes())
        return path

    def xform(self) -> str:
        """The XForm pyxform makes of the .xlsx: what ODK Collect downloads."""
        from pyxform.xls2xform import convert

        return convert(xlsform=io.BytesIO(self.xlsx_bytes()), file_type=".xlsx").xform


def row(type_: str, name: str, label: str = "", **extra: str) -> dict[str, str]:
    """A survey row; keyword names are the XLSForm column names (``constraint_message``...)."""
    return {"type": type_, "name": name, "label": label, **extra}


def vocabulary_choices(list_name: str, vocabulary: type[Vocabulary], *, leave_out: tuple[str, ...] = ()) -> list[dict]:
    """A choice list of a register vocabulary: its stored values, labelled in words."""
    return [
        {"list_name": list_name, "name": term.value, "label": term_label(term.value)}
        for term in vocabulary
        if term.value not in leave_out
    ]


def term_label(code: str) -> str:
    """A stored code in words, as a form shows it: ``eod_spot`` -> "EOD spot", ``rendered_safe`` -> "Rendered safe"."""
    label = " ".join(word.upper() if word in ACRONYMS else word for word in code.split("_"))
    return label[:1].upper() + label[1:]


def plain_choices(list_name: str, *pairs: tuple[str, str]) -> list[dict]:
    return [{"list_name": list_name, "name": name, "label": label} for name, label in pairs]
