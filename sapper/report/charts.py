"""Charts for reports, drawn with matplotlib's Agg backend (no display needed).

The burn-down shows the area still to work day by day: the plan's line and the
forecast's median with its 10-90 % band, the P50/P80/P95 finish dates marked. The Gantt
chart shows each team's sectors over the calendar, coloured by the hazard's priority.
Both take plain values so any part of sapper can draw them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize

FINISH_COLOURS = {50: "#1b7837", 80: "#e08214", 95: "#b2182b"}


def burndown_chart(
    path: str | Path,
    dates: Sequence[date],
    planned_ha: Sequence[float],
    bands: dict[int, Sequence[float]],
    finish: dict[int, date],
    title: str = "Area still to clear",
) -> Path:
    """``bands``: percentile (10, 50, 90) -> hectares per date; ``finish``: percentile -> date."""
    fig, ax = plt.subplots(figsize=(11, 6), dpi=120)
    x = mdates.date2num(list(dates))
    if 10 in bands and 90 in bands:
        ax.fill_between(x, bands[10], bands[90], color="#92c5de", alpha=0.5, label="forecast, 10-90 % of runs")
    if 50 in bands:
        ax.plot(x, bands[50], color="#2166ac", lw=2.2, label="forecast, median (P50)")
    ax.plot(x, planned_ha, color="#404040", lw=1.5, ls="--", label="plan (expected durations)")
    top = max(max(planned_ha, default=0.0), max((max(v, default=0.0) for v in bands.values()), default=0.0))
    for q, day in sorted(finish.items()):
        if q not in FINISH_COLOURS:
            continue
        ax.axvline(mdates.date2num(day), color=FINISH_COLOURS[q], lw=1.2, ls=":")
        ax.annotate(
            f"P{q}\n{day:%d %b %Y}",
            (mdates.date2num(day), top * (0.95 - 0.12 * list(FINISH_COLOURS).index(q))),
            xytext=(4, 0),
            textcoords="offset points",
            color=FINISH_COLOURS[q],
            fontsize=9,
            va="top",
        )
    ax.set_ylim(0, top * 1.05 if top > 0 else 1)
    ax.set_ylabel("hectares still to clear")
    ax.set_title(title, fontsize=13)
    ax.grid(True, alpha=0.3)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=12))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


@dataclass(frozen=True)
class Bar:
    row: int  # index into the row labels
    start: date
    end: date  # the last working day (inclusive)
    value: float  # what the colour shows (the hazard's priority score)


def gantt_chart(
    path: str | Path,
    rows: Sequence[str],
    bars: Sequence[Bar],
    title: str = "Teams and their sectors",
    value_label: str = "priority score of the hazard",
    marks: dict[str, date] | None = None,
) -> Path:
    height = min(max(3.5, 0.45 * len(rows) + 1.8), 30)
    fig, ax = plt.subplots(figsize=(13, height), dpi=120)
    values = np.array([b.value for b in bars]) if bars else np.zeros(1)
    norm = Normalize(vmin=float(values.min()), vmax=float(max(values.max(), values.min() + 1e-9)))
    cmap = colormaps["plasma_r"]
    for row in range(len(rows)):
        mine = [b for b in bars if b.row == row]
        if not mine:
            continue
        spans = [(mdates.date2num(b.start), mdates.date2num(b.end) + 1 - mdates.date2num(b.start)) for b in mine]
        colours = [cmap(norm(b.value)) for b in mine]
        ax.broken_barh(spans, (row - 0.38, 0.76), facecolors=colours, edgecolor="white", linewidth=0.3)
    for label, day in (marks or {}).items():
        ax.axvline(mdates.date2num(day), color="#404040", lw=1, ls=":")
        ax.annotate(label, (mdates.date2num(day), -0.6), xytext=(3, 0), textcoords="offset points", fontsize=8)
    ax.set_yticks(range(len(rows)), labels=rows, fontsize=9)
    ax.set_ylim(len(rows) - 0.5, -0.8)
    ax.xaxis_date()
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=12))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(title, fontsize=13)
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01, fraction=0.03)
    bar.set_label(value_label)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
