"""What the plan learned from the register's daily reports, as tables that fit 80 columns."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.table import Table

from sapper.cli.render import compact_table, room_for, shorten
from sapper.i18n import N_, _, translate

if TYPE_CHECKING:
    from sapper.plan.build import PlanResult
    from sapper.plan.forecasting.learning import Learned

UNIT = {"m2_per_person_day": N_("/pers-day"), "m2_per_team_day": N_("/team-day"), "m2_per_hour": N_("/hour")}
Z90 = 1.2815515655446004  # the 10-90 % interval of a normal: +-1.28 sd


def rates_tables(result: PlanResult, width: int = 80) -> list[Table]:
    learned = result.learned
    if learned is None or not learned.rates:
        return []
    return [rate_table(learned, width), *([density_table(learned, result)] if learned.density else [])]


def rate_table(learned: Learned, width: int = 80) -> Table:
    """Per team kind, method and terrain: the cited prior, what the reports show, the rate used."""
    table = compact_table(_("Rates from the reports, m² all in (travel and items inside)"))
    headers = [_("kind, method, terrain"), _("unit"), _("prior (range)"), _("seen (days)"), _("used (10-90%)")]
    for i, name in enumerate(headers):
        table.add_column(name, justify="left" if i < 2 else "right", no_wrap=True)
    rows = []
    for (kind, method, terrain), rate in sorted(learned.rates.items(), key=lambda kv: str(kv[0])):
        what = kind.value if kind.value == method.value else f"{kind.value} {method.value}"
        prior = rate.prior
        rows.append(
            [
                f"{what}, {terrain.value}",
                translate(UNIT.get(rate.unit, rate.unit)),
                f"{_n(prior.mode)} ({_n(prior.low)}-{_n(prior.high)})",
                f"{_n(rate.observed)} ({rate.days})",
                f"{_n(rate.mean)} ({_n(rate.level(-Z90))}-{_n(rate.level(Z90))})",
            ]
        )
    room = max(12, room_for(width, headers, rows, 0))
    for row in rows:
        table.add_row(shorten(row[0], room), *row[1:])
    return table


def density_table(learned: Learned, result: PlanResult) -> Table:
    """Items per hectare by contamination and terrain: the default, the reports' count, the posterior."""
    prior = result.learned.productivity.default_items_per_ha if result.learned and result.learned.productivity else 0
    table = compact_table(
        _("Items per hectare found (prior {prior}; used where a hazard has no estimate)", prior=_n(prior))
    )
    for i, name in enumerate((_("contamination, terrain"), _("items"), _("ha searched"), _("used"))):
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    b0 = learned.productivity.learning.items_prior_ha if learned.productivity else 0.0
    a0 = prior * b0
    for (contamination, terrain), (a, b) in sorted(learned.density.items(), key=lambda kv: str(kv[0])):
        table.add_row(f"{contamination.value}, {terrain.value}", f"{a - a0:,.0f}", f"{b - b0:,.1f}", f"{a / b:,.1f}")
    return table


def _n(value: float) -> str:
    """A rate in few characters: 850, 1.3k, 14k."""
    if value is None or math.isnan(value):
        return "-"
    if value >= 10_000:
        return f"{value / 1000:,.0f}k"
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"
