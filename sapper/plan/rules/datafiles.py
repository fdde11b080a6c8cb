"""The planner's data files (weights, method rules, productivity, safety) and their reading.

Figures live in TOML next to this module so a user can read where each comes from and
edit a copy (``sapper plan --weights FILE`` ...). A bad file gives one message naming
the file and the key, never a traceback.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from sapper.model.enums import Vocabulary
from sapper.model.errors import SapperError

DATA_DIR = Path(__file__).resolve().parent / "data"
V = TypeVar("V", bound=Vocabulary)


class DataFileError(SapperError):
    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")


def read_toml(name: str, path: str | Path | None = None) -> tuple[dict[str, Any], str]:
    """The parsed file and a label for messages; ``path`` replaces the packaged ``name``."""
    file = Path(path) if path else DATA_DIR / name
    label = str(path) if path else f"planner data {name}"
    try:
        with open(file, "rb") as handle:
            return tomllib.load(handle), label
    except FileNotFoundError:
        raise DataFileError(label, "no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(label, f"not valid TOML ({exc})") from None


@dataclass(frozen=True)
class Triangular:
    """A triangular distribution: the usual way to state 'from a to c, most often b'."""

    low: float
    mode: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    @property
    def mean_inverse(self) -> float:
        """E[1/X]: what an expected duration needs when X is a rate."""
        a, b, c = self.low, self.mode, self.high
        if c <= a:
            return 1.0 / b

        def term(lo: float, hi: float, at: float) -> float:  # at * ln(hi/lo) / (hi - lo), 1 in the limit
            return at * float(np.log(hi / lo)) / (hi - lo) if hi > lo else 1.0

        return 2.0 / (c - a) * (term(b, c, c) - term(a, b, a))

    @property
    def sd(self) -> float:
        a, b, c = self.low, self.mode, self.high
        return float(np.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18.0))

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        if self.high <= self.low:
            return np.full(size, self.mode, dtype=float)
        return rng.triangular(self.low, self.mode, self.high, size)


class Section:
    """One table of a data file, with typed getters whose errors name the file, table and key."""

    def __init__(self, raw: Mapping[str, Any], where: str, table: bool = False) -> None:
        self.raw = raw
        self.where = where  # the file, then the table: "priority.toml, table stake.site_kind"
        self.table = table

    def _fail(self, key: str, problem: str) -> DataFileError:
        return DataFileError(self.where, f"{key}: {problem}")

    def has(self, key: str) -> bool:
        return key in self.raw

    def section(self, key: str) -> Section:
        value = self.raw.get(key, {})
        if not isinstance(value, Mapping):
            raise self._fail(key, "should be a table")
        return Section(value, f"{self.where}.{key}" if self.table else f"{self.where}, table {key}", True)

    def number(self, key: str, default: float | None = None, minimum: float | None = 0.0) -> float:
        value = self.raw.get(key, default)
        if value is None:
            raise self._fail(key, "is missing")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(key, f"{value!r} is not a number")
        if minimum is not None and value < minimum:
            raise self._fail(key, f"{value} is below {minimum:g}")
        return float(value)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "is missing" if value is None else f"{value!r} is not text")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, f"{value!r} is not true/false")
        return value

    def words(self, key: str, vocabulary: type[V]) -> tuple[V, ...]:
        value = self.raw.get(key, [])
        if not isinstance(value, list):
            raise self._fail(key, "should be a list")
        return tuple(self.term(key, v, vocabulary) for v in value)

    def term(self, key: str, value: Any, vocabulary: type[V]) -> V:
        try:
            return vocabulary.parse(value)  # type: ignore[return-value]
        except ValueError as exc:
            raise self._fail(key, str(exc)) from None

    def mapping(self, key: str, vocabulary: type[V], read: Callable[[Section, str], Any]) -> dict[V, Any]:
        """A table whose keys are vocabulary terms, each value read by ``read(section, key)``."""
        return self.section(key).entries(vocabulary, read)

    def entries(self, vocabulary: type[V], read: Callable[[Section, str], Any]) -> dict[V, Any]:
        """This table's keys as vocabulary terms, each value read by ``read(self, key)``."""
        return {self.term(name, name, vocabulary): read(self, name) for name in self.raw}

    def triangular(self, key: str) -> Triangular:
        sub = self.section(key)
        low, mode, high = sub.number("min"), sub.number("mode"), sub.number("max")
        if not low <= mode <= high:
            raise self._fail(key, f"needs min <= mode <= max (got {low:g}, {mode:g}, {high:g})")
        return Triangular(low, mode, high)

    def tables(self, key: str) -> list[Section]:
        value = self.raw.get(key, [])
        if not isinstance(value, list):
            raise self._fail(key, "should be an array of tables ([[...]])")
        return [Section(v, f"{self.where}, {key} #{i + 1}", True) for i, v in enumerate(value)]


def load(name: str, path: str | Path | None = None) -> Section:
    raw, label = read_toml(name, path)
    return Section(raw, label)
