"""The register's own pace: the land its releases took out of the hazards per day of work, which
the plan is held against (notes/pace_words.py says how the two compare).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sapper.model.records import Release, Report


@dataclass(frozen=True)
class Reported:
    """Land the register released per day of work, over the days with reports or releases."""

    hectares: float
    days: int

    @property
    def per_day(self) -> float:
        return self.hectares / self.days if self.days else 0.0


def reported_pace(reports: Sequence[Report], releases: Sequence[Release]) -> Reported:
    days = {r.report_date for r in reports} | {r.released_on for r in releases}
    return Reported(sum(r.area_m2 for r in releases) / 10_000.0, len(days))
