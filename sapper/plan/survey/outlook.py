"""What survey will make of suspected land: the shares cancelled, reduced and left for clearance,
as the plan expects them and the forecast draws them (learned in suspected.py and confirmed.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapper.i18n import _
from sapper.plan.survey.confirmed import Reduction, shares


@dataclass(frozen=True)
class Outlook:
    """Shares of surveyed suspected land cancelled, reduced and left for clearance."""

    alpha: np.ndarray  # Dirichlet parameters, in ROUTES order
    prior: np.ndarray
    observed: np.ndarray | None  # the register's own shares, one observation per hazard as the posterior counts them
    hazards: float  # surveyed hazards behind the observation (partly released ones count in part)
    note: str = ""  # the survey rates used, in words (survey_rates.explain_rates)
    confirmed: Reduction | None = None  # technical survey of confirmed land (confirmed.py)

    @property
    def expected(self) -> np.ndarray:
        return self.alpha / self.alpha.sum()

    def draw(self, runs: int, rng: np.random.Generator) -> np.ndarray:
        """Runs x 3 shares (cancelled, reduced, cleared), one draw of the posterior per run."""
        return rng.dirichlet(self.alpha, runs)

    def explain(self) -> str:
        seen = _("no releases of suspected land yet")
        if self.observed is not None:
            seen = _(
                "register {shares} over {hazards} hazards",
                shares=shares(self.observed),
                hazards=format(self.hazards, ".1f"),
            )
        text = _(
            "surveyed land cancelled/reduced/cleared: prior {prior}, {seen}, used {used}",
            prior=shares(self.prior),
            seen=seen,
            used=shares(self.expected),
        )
        if self.confirmed is not None:
            text = f"{text}\n{self.confirmed.explain()}"
        return f"{text}\n{self.note}" if self.note else text
