"""Source keys: what makes re-importing the same file update records instead of duplicating them.

A record's ``source_key`` is the id the other system gave it (the mapping's ``id``
field, with its optional prefix). A file without ids gets a key hashed from each row's
content: its field values as sapper reads them and its geometry (normalised, coordinates
rounded to 1e-7 degree, about 1 cm, so the same data in another format hashes the same).
Identical rows get ``#2``, ``#3``... so two identical items are both kept, and the
same file imported again yields the same keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from enum import Enum
from typing import Any

import numpy as np
import shapely

from sapper.formats.values import plain

HASH_PREFIX = "sha256:"


def key_text(value: Any) -> str | None:
    """An id cell as text: 12.0 read from a number column is "12"; empty is None."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def key_texts(values: np.ndarray) -> list[str | None]:
    """``key_text`` of a whole column (text as GDAL reads it: stripped, blank as None)."""
    cells = plain(values)
    if set(map(type, cells)) <= {str, type(None)}:
        return [None if v is None else v.strip() for v in cells]  # plain made blank cells None
    return [key_text(v) for v in cells]


def id_keys(values: np.ndarray, prefix: str, field: str) -> tuple[list[str | None], dict[int, str]]:
    """Keys from the id field; a row without an id is a problem (its key would be a guess)."""
    texts = key_texts(values)
    keys = [None if text is None else prefix + text for text in texts] if prefix else texts
    problems = {i: f"{field}: the id field is empty" for i, text in enumerate(texts) if text is None}
    return keys, problems


def duplicate_problems(keys: Sequence[str | None], label) -> dict[int, str]:
    """Rows repeating an id seen on an earlier row (by the earlier row's label)."""
    present = set(keys)
    present.discard(None)
    if len(present) == len(keys) - sum(k is None for k in keys):  # no id repeated: the usual case
        return {}
    first: dict[str, int] = {}
    problems: dict[int, str] = {}
    for i, key in enumerate(keys):
        if key is None:
            continue
        if key in first:
            problems[i] = f"id {key!r} is also on {label(first[key])}"
        else:
            first[key] = i
    return problems


def canonical(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ",".join(canonical(v) for v in value)
    return str(value)


def content_keys(columns: dict[str, Sequence[Any]], geometries: np.ndarray) -> list[str]:
    """One key per row from its values and geometry; repeated content gets #2, #3..."""
    n = len(geometries)
    names = sorted(columns)
    texts = []
    for name in names:
        cache: dict[tuple[type, Any], str] = {}
        column = []
        for value in columns[name]:
            key = (type(value), value)
            text = cache.get(key)
            if text is None:
                text = cache[key] = f"{name}={canonical(value)}"
            column.append(text)
        texts.append(column)
    normal = shapely.normalize(np.asarray(geometries, dtype=object))  # ring order and start do not matter
    rounded = shapely.transform(normal, lambda xy: np.round(xy, 7) + 0.0)  # + 0.0: -0.0 is 0.0
    wkbs = shapely.to_wkb(rounded, output_dimension=2, byte_order=1)
    seen: dict[str, int] = {}
    keys: list[str] = []
    sha = hashlib.sha256
    for i in range(n):
        digest = sha("\x1f".join(column[i] for column in texts).encode() + b"\x1e" + (wkbs[i] or b""))
        key = HASH_PREFIX + digest.hexdigest()[:32]
        count = seen.get(key, 0) + 1
        seen[key] = count
        keys.append(key if count == 1 else f"{key}#{count}")
    return keys
