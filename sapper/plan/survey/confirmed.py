"""Technical survey of confirmed land: which confirmed hazards it reduces, and by how much.

IMAS 07.11 (land release) applies technical survey to confirmed hazardous areas (CHA) too:
it defines the part of a CHA that really holds explosive ordnance, and the rest is released
as reduced; nothing is cancelled (cancellation is non-technical survey's). The plan gives a
confirmed hazard technical survey where an officer would accept it:

- the register shows technical survey already reducing its land (a reduced release): the
  programme has chosen to survey it, the plan goes on;
- or it is battle area holding unexploded ordnance only (contamination ``uxo``, the land
  IMAS 09.11 battle area clearance works, no mines nor IEDs) and large: at least
  ``MIN_AREA_M2``. Mines, IEDs and mixed contamination are cleared in full.

The share reduced is learned from the register's reductions of confirmed land, with a
cited prior (rules/data/survey.toml [confirmed]): a Beta posterior (reduced, cleared), each
confirmed hazard with a reduction counting as one observation in proportion to how much of
it is released, as suspected.py counts suspected land.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sapper.i18n import _
from sapper.model.enums import Contamination, HazardClass, HazardStatus, ReleaseRoute
from sapper.model.records import Hazard, Release
from sapper.plan.survey.posterior import SharesPosterior, shares

# ASSUMPTION: below about two and a half technical-survey blocks (survey.toml [blocks]) a
# team clears the land about as fast as it would survey it first.
MIN_AREA_M2 = 50_000.0
BATTLE_AREA = frozenset({Contamination.UXO})  # IMAS 09.11: battle area, no mines nor IEDs
SURVEYED_ROUTES = (ReleaseRoute.REDUCED, ReleaseRoute.CLEARED)


@dataclass(frozen=True)
class Reduction(SharesPosterior):
    """Shares of surveyed confirmed land reduced and left for clearance (a Beta posterior: reduced, cleared)."""

    reduced: frozenset[int] = frozenset()  # confirmed hazards whose land technical survey reduced

    def explain(self) -> str:
        # apart from the call below: the catalogue extractor reads no call nested in another
        seen = self.seen(_("no reductions of confirmed land yet"))
        return _(
            "surveyed confirmed land reduced/cleared: prior {prior}, {seen}, used {used}",
            prior=shares(self.prior),
            seen=seen,
            used=shares(self.expected),
        )


def learn_reduction(
    hazards: Sequence[Hazard], releases: Sequence[Release], prior: np.ndarray, weight: float
) -> Reduction:
    """The Beta posterior from the releases of confirmed hazards that technical survey reduced.

    A confirmed hazard cleared without a reduction says nothing of what survey would have
    reduced: only hazards with a reduced release count.
    """
    confirmed = {int(h.id): h for h in hazards if h.hazard_class == HazardClass.CHA and h.id is not None}  # type: ignore[arg-type]
    by_hazard: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(2))
    for r in releases:
        if r.hazard_id in confirmed and r.route in SURVEYED_ROUTES:
            by_hazard[r.hazard_id][SURVEYED_ROUTES.index(r.route)] += r.area_m2
    seen, count, reduced = np.zeros(2), 0.0, set()
    for hid, area in by_hazard.items():
        if area[0] <= 0:
            continue
        released = area.sum()
        worth = min(1.0, released / (confirmed[hid].original_area_m2 or released))
        seen, count = seen + worth * area / released, count + worth
        reduced.add(hid)
    observed = seen / count if count > 0 else None
    return Reduction(weight * prior + seen, prior, observed, count, frozenset(reduced))


def survey_confirmed(hazard: Hazard, area_m2: float, reduction: Reduction | None) -> bool:
    """Whether the plan gives this confirmed hazard (``area_m2`` still to work) technical survey."""
    if reduction is None or hazard.hazard_class != HazardClass.CHA or hazard.status == HazardStatus.SUSPECTED:
        return False
    if hazard.id is not None and int(hazard.id) in reduction.reduced:
        return True
    return hazard.contamination in BATTLE_AREA and area_m2 >= MIN_AREA_M2
