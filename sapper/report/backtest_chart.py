"""The backtest's picture: each past day's forecast fan against the real burn-down.

Above: the hazardous area still to work, the register's own line (what happened) in
black, and from each past day the forecast made that evening, its P10-P90 band shaded
and its P50 dashed, in one colour per day. Below: per horizon, the share of forecasts
whose real area fell inside the band and the P50's error. Its words are in the language in force
(Arabic shaped for matplotlib, sapper.i18n.shaping); days are numeric outside English, whose month
abbreviations matplotlib would otherwise write.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib import colormaps

from sapper.i18n import DEFAULT, N_, current
from sapper.i18n.shaping import chart_text, shaped
from sapper.plan.forecasting.backtest import Backtest
from sapper.report.charts import _save, day_end

HA = 10_000.0


def backtest_chart(path: str | Path, result: Backtest, title: str = "Backtest") -> Path:
    """The picture written to ``path`` (PNG); ``title`` already in the reader's language."""
    return _save(backtest_figure(result, title), path)


def backtest_figure(result: Backtest, title: str = "Backtest") -> plt.Figure:
    fig, (top, low) = plt.subplots(
        2, 1, figsize=(10, 7.5), gridspec_kw={"height_ratios": [3, 1.4]}, constrained_layout=True
    )
    colours = colormaps["viridis"]
    n = max(len(result.days), 1)
    if result.days:
        first = result.days[0]
        actual_dates = [first.day + timedelta(days=h) for h in range(len(first.actual))]
        for k, d in enumerate(result.days):
            x = day_end([d.day + timedelta(days=h) for h in range(len(d.actual))])
            colour = colours(k / max(n - 1, 1) * 0.9)
            top.fill_between(x, d.bands[10] / HA, d.bands[90] / HA, color=colour, alpha=0.18, linewidth=0)
            top.plot(x, d.bands[50] / HA, color=colour, linestyle="--", linewidth=1.2)
        top.plot(
            day_end(actual_dates),
            first.actual / HA,
            color="black",
            linewidth=2.2,
            label=chart_text(N_("real (the register)")),
        )
    top.plot(
        [], [], color="grey", linestyle="--", label=chart_text(N_("forecast P50 (one colour per day it was made)"))
    )
    top.fill_between([], [], [], color="grey", alpha=0.3, label=chart_text(N_("forecast P10-P90")))
    top.set_ylabel(chart_text(N_("hazardous area still to work, ha")))
    top.set_title(shaped(title), loc="left")
    top.legend(loc="upper right", fontsize=8)
    top.xaxis.set_major_formatter(mdates.DateFormatter("%d %b" if current() == DEFAULT else "%d.%m"))
    top.grid(alpha=0.3)

    horizons = [s.horizon for s in result.scores]
    low.bar(
        [h - 0.2 for h in horizons],
        [100 * s.coverage for s in result.scores],
        width=0.4,
        label=chart_text(N_("inside P10-P90, %")),
    )
    low.bar(
        [h + 0.2 for h in horizons],
        [100 * s.p50_error for s in result.scores],
        width=0.4,
        label=chart_text(N_("P50 error, %")),
    )
    low.axhline(80, color="#1b7837", linewidth=1, linestyle=":")
    low.set_xlabel(chart_text(N_("days ahead")))
    low.set_xticks(horizons)
    low.set_ylabel("%")
    low.legend(loc="upper right", fontsize=8)
    low.grid(alpha=0.3, axis="y")
    return fig
