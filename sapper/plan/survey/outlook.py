"""What survey will make of suspected land: the shares cancelled, reduced and left for clearance,
as the plan expects them and the forecast draws them (learned in suspected.py and confirmed.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sapper.i18n import _
from sapper.plan.survey.confirmed import Reduction
from sapper.plan.survey.posterior import SharesPosterior, shares


@dataclass(frozen=True)
class Outlook(SharesPosterior):
    """Shares of surveyed suspected land cancelled, reduced and left for clearance (in ROUTES order)."""

    note: str = ""  # the survey rates used, in words (rates.explain_rates)
    confirmed: Reduction | None = None  # technical survey of confirmed land (confirmed.py)

    def explain(self) -> str:
        # apart from the call below: the catalogue extractor reads no call nested in another
        seen = self.seen(_("no releases of suspected land yet"))
        text = _(
            "surveyed land cancelled/reduced/cleared: prior {prior}, {seen}, used {used}",
            prior=shares(self.prior),
            seen=seen,
            used=shares(self.expected),
        )
        if self.confirmed is not None:
            text = f"{text}\n{self.confirmed.explain()}"
        return f"{text}\n{self.note}" if self.note else text
