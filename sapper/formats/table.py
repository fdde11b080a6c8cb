"""What a file holds once read: one numpy array per field, one array of geometries, and how
the user finds each row in the file. Every reader (GDAL's through source.py, CSV's own) makes one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Source:
    """What a file holds, in the file's own CRS."""

    path: Path
    driver: str
    layer: str | None
    fields: list[str]
    columns: dict[str, np.ndarray]
    geometries: np.ndarray  # shapely geometries or None, one per row
    crs: str | None
    row_word: str = "feature"
    problems: dict[int, str] = field(default_factory=dict)  # row index -> why the row could not be read
    has_geometry: bool = True
    housekeeping: frozenset[str] = frozenset()  # fields the format adds itself (not worth reporting)
    numbers: np.ndarray | None = None  # the user's row number of each row, where rows were skipped (blank lines)

    def __len__(self) -> int:
        return len(self.geometries)

    def label(self, index: int) -> str:
        """How the user finds row ``index`` (0-based) in the file."""
        number = index + 1 if self.numbers is None else int(self.numbers[index])
        return f"{self.row_word} {number}"
