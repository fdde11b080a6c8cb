"""The rejects file of an import with --skip-invalid: each bad row as it was, and why.

A CSV anyone can open: ``source_row`` (as the import named it), ``problem``, then the
row's own fields and its geometry as WKT in the file's own CRS, so the rows can be
fixed and imported again with the same options (the two first columns are ignored).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sapper.formats.csvfile import write_csv
from sapper.formats.table import Source
from sapper.formats.values import plain
from sapper.model.wkt import to_wkt_many


def default_rejects_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.rejects.csv")


def write_rejects(path: Path, source: Source, rows: Sequence[int], problems: dict[int, str]) -> Path:
    index = np.asarray(sorted(rows), dtype=np.int64)
    columns = [plain(source.columns[name][index]) for name in source.fields]
    header = ["source_row", "problem", *source.fields]
    with_geometry = source.has_geometry
    if with_geometry:
        header.append("wkt")
        wkts = to_wkt_many(source.geometries[index])
    out = []
    for j, i in enumerate(index):
        line = [source.label(int(i)), problems[int(i)], *(_text(column[j]) for column in columns)]
        if with_geometry:
            line.append(wkts[j] or "")
        out.append(line)
    write_csv(path, header, out)
    return path


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
