"""Safety distances between teams (IMAS 10.20) and demolition danger areas (UN SaferGuard).

Figures and their sources are in data/safety.toml.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sapper.model.enums import Contamination, ItemCategory, Method
from sapper.plan.rules.datafiles import DataFileError, Section, load

KINDS = ("fragmenting", "bare")


@dataclass(frozen=True)
class Charge:
    auw_kg: float
    kind: str  # fragmenting or bare


@dataclass(frozen=True)
class Safety:
    default_m: float
    by_contamination: dict[Contamination, float]
    by_method: dict[Method, float]
    public_access: bool
    fragmenting_public: float
    fragmenting_closed: float
    bare: float
    charges: dict[ItemCategory, Charge]
    keep_clear: bool = True  # no other team inside a demolition's danger area while its sector is worked

    def working_distance(self, contamination: Contamination, methods: Iterable[Method]) -> float:
        """Distance to keep between this sector's team and any other team at work (IMAS 10.20)."""
        found = [self.by_contamination.get(contamination, self.default_m)]
        found += [self.by_method[m] for m in methods if m in self.by_method]
        return max(found)

    def danger_radius(self, category: ItemCategory) -> float:
        """Explosion danger area of destroying one item in place (UN SaferGuard formulae).

        Fragmenting munition: 634 x AUW^(1/6) m with public access, 444 x AUW^(1/6) m
        without; bare explosive: 130 x AUW^(1/3) m (AUW: all-up weight in kg).
        """
        charge = self.charges.get(category)
        if charge is None:
            return 0.0
        if charge.kind == "bare":
            return self.bare * charge.auw_kg ** (1.0 / 3.0)
        factor = self.fragmenting_public if self.public_access else self.fragmenting_closed
        return factor * charge.auw_kg ** (1.0 / 6.0)

    def danger_radius_of(self, categories: Iterable[ItemCategory]) -> float:
        return max((self.danger_radius(c) for c in categories), default=0.0)


def _charge(section: Section, key: str) -> Charge:
    sub = section.section(key)
    kind = sub.text("kind")
    if kind not in KINDS:
        raise DataFileError(sub.where, f"kind {kind!r} is not one of {', '.join(KINDS)}")
    return Charge(sub.number("auw_kg"), kind)


def load_safety(path: str | Path | None = None) -> Safety:
    data = load("safety.toml", path)
    distances = data.section("working_distance")
    danger = data.section("danger_area")
    return Safety(
        default_m=distances.number("default_m"),
        by_contamination=distances.mapping("contamination", Contamination, lambda s, k: s.number(k)),
        by_method=distances.mapping("method", Method, lambda s, k: s.number(k)),
        public_access=danger.flag("public_access"),
        fragmenting_public=danger.number("fragmenting_public"),
        fragmenting_closed=danger.number("fragmenting_closed"),
        bare=danger.number("bare"),
        charges=danger.mapping("items", ItemCategory, _charge),
        keep_clear=danger.flag("keep_clear", True),
    )
