"""Shares of surveyed land by how it was released, as a Dirichlet posterior (a Beta for two).

The prior is cited (rules/data/survey.toml); each hazard the register shows released by
survey counts as one observation in proportion to how much of it is released.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapper.i18n import _


@dataclass(frozen=True)
class SharesPosterior:
    """What the plan expects and the forecast draws of the shares, one row of ``alpha`` per route."""

    alpha: np.ndarray  # Dirichlet parameters, one per route
    prior: np.ndarray
    observed: np.ndarray | None  # the register's own shares
    hazards: float  # hazards behind the observation (partly released ones count in part)

    @property
    def expected(self) -> np.ndarray:
        return self.alpha / self.alpha.sum()

    def draw(self, runs: int, rng: np.random.Generator) -> np.ndarray:
        """Runs x routes shares, one draw of the posterior per run."""
        return rng.dirichlet(self.alpha, runs)

    def seen(self, none_yet: str) -> str:
        """What the register showed, in words (``none_yet`` when it has shown nothing)."""
        if self.observed is None:
            return none_yet
        return _(
            "register {shares} over {hazards} hazards",
            shares=shares(self.observed),
            hazards=format(self.hazards, ".1f"),
        )


def shares(values: np.ndarray) -> str:
    """Shares of land as the notes write them: 40%/35%/25%."""
    return "/".join(f"{v:.0%}" for v in values)
