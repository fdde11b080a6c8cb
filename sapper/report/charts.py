"""Charts for reports, drawn with matplotlib's Agg backend (no display needed).

The burn-down shows the work still to do day by day, in team-days (what sets the finish)
and in hectares (what the map shows): the plan's line and the forecast's median with its
10-90 % band, the P50/P80/P95 finish dates marked, and the hazards that keep the plan open
once the area is nearly done. The Gantt
chart shows each team's sectors over the calendar, coloured by the hazard's priority.
Both take plain values so any part of sapper can draw them. Their words are in the language in
force (``sapper.i18n``), Arabic joined and ordered right to left before matplotlib draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize

from sapper.i18n import N_, translate
from sapper.i18n.shaping import chart_text, shaped

FINISH_COLOURS = {50: "#1b7837", 80: "#e08214", 95: "#b2182b"}
MEDIAN, BAND, PLAN, TAIL = "#2166ac", "#92c5de", "#404040", "#8c510a"


@dataclass(frozen=True)
class Series:
    """One quantity still to do, per date: the plan's line, forecast bands and the tail's share."""

    label: str  # the axis label, with its unit
    planned: Sequence[float]
    bands: dict[int, Sequence[float]]  # percentile (10, 50, 90) -> values
    tail: Sequence[float] | None = None  # the part of the median that the tail hazards hold


@dataclass(frozen=True)
class Burndown:
    dates: Sequence[date]  # the end of each working day (the first: the eve of the plan)
    work: Series  # team-days: what sets the finish date
    area: Series  # hectares: what the map shows
    finish: dict[int, date]  # percentile -> the forecast's finish date
    title: str
    tail_label: str = ""  # what keeps the plan open once the area is nearly all done
    tail_from: date | None = None  # from when the tail label holds


def burndown_chart(path: str | Path, chart: Burndown) -> Path:
    """Work (team-days) above, area (ha) below, on one calendar; P50/P80/P95 marked on both.

    Work is drawn large because it is what ends the plan: a few hectares full of items can
    keep teams busy for months after the area line has all but reached zero.
    """
    fig, (top, low) = plt.subplots(
        2, 1, figsize=(11, 7.8), dpi=120, sharex=True, gridspec_kw={"height_ratios": [2.3, 1]}
    )
    x = day_end(chart.dates)
    for ax, series in ((top, chart.work), (low, chart.area)):
        _series(ax, x, series)
        for q, day in sorted(chart.finish.items()):
            if q in FINISH_COLOURS:
                ax.axvline(day_end(day), color=FINISH_COLOURS[q], lw=1.6, ls=(0, (5, 3)))
        ax.set_ylabel(shaped(translate(series.label)))
        ax.grid(True, alpha=0.3)
        ax.set_ylim(0, _top(series) * 1.12 or 1)
    _finish_labels(top, chart.finish)
    if chart.tail_label and chart.tail_from is not None:
        _tail_note(top, chart)
    low.legend(*top.get_legend_handles_labels(), loc="upper right", fontsize=8.5, framealpha=0.95)
    top.set_title(shaped(translate(chart.title)), fontsize=12.5)
    low.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=12))
    low.xaxis.set_major_formatter(mdates.ConciseDateFormatter(low.xaxis.get_major_locator()))
    fig.tight_layout()
    return _save(fig, path)


def _series(ax: plt.Axes, x: np.ndarray, series: Series) -> None:
    b = series.bands
    if 10 in b and 90 in b:
        ax.fill_between(x, b[10], b[90], color=BAND, alpha=0.5, lw=0, label=chart_text(N_("forecast, 10-90 % of runs")))
    if series.tail is not None and max(series.tail, default=0.0) > 0:
        ax.fill_between(
            x,
            0,
            series.tail,
            where=np.asarray(series.tail) > 0,
            facecolor="none",
            edgecolor=TAIL,
            hatch="////",
            lw=0,
            label=chart_text(N_("of it, the hazards open last")),
        )
    if 50 in b:
        ax.plot(x, b[50], color=MEDIAN, lw=2.2, label=chart_text(N_("forecast, median of the runs (P50)")))
    ax.plot(x, series.planned, color=PLAN, lw=1.4, ls="--", label=chart_text(N_("plan (expected durations)")))


def _top(series: Series) -> float:
    values = [max(series.planned, default=0.0), *(max(v, default=0.0) for v in series.bands.values())]
    return float(max(values, default=0.0))


def _finish_labels(ax: plt.Axes, finish: dict[int, date]) -> None:
    """P50/P80/P95 and their dates written along the top, one below the other."""
    for i, (q, day) in enumerate(sorted((q, d) for q, d in finish.items() if q in FINISH_COLOURS)):
        ax.annotate(
            chart_text(N_("P{q} finish\n{day}"), q=q, day=day),
            (day_end(day), 1.0 - 0.13 * i),
            xycoords=("data", "axes fraction"),
            xytext=(-4, -4),
            textcoords="offset points",
            ha="right",
            va="top",
            color=FINISH_COLOURS[q],
            fontsize=9,
            fontweight="bold",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        )


def _tail_note(ax: plt.Axes, chart: Burndown) -> None:
    assert chart.tail_from is not None
    start = day_end(chart.tail_from)
    ax.axvline(start, color=TAIL, lw=1.0, ls=":")
    median = chart.work.bands.get(50, chart.work.planned)
    at = min(range(len(chart.dates)), key=lambda i: abs(day_end(chart.dates[i]) - start))
    ax.annotate(
        shaped(chart.tail_label),
        (start, float(median[at])),
        xytext=(0.99, 0.56),
        textcoords="axes fraction",
        fontsize=8.8,
        color="#3b2a05",
        ha="right",
        multialignment="left",
        va="top",
        bbox={"boxstyle": "round,pad=0.4", "fc": "#fdf3e1", "ec": TAIL, "lw": 0.8},
        arrowprops={"arrowstyle": "->", "color": TAIL, "lw": 1.0},
    )


@dataclass(frozen=True)
class Bar:
    row: int  # index into the row labels
    start: date
    end: date  # the last working day (inclusive)
    value: float  # what the colour shows (the hazard's priority score)


@dataclass(frozen=True)
class Label:
    row: int
    start: date
    end: date  # the last working day (inclusive)
    text: str


def gantt_chart(
    path: str | Path,
    rows: Sequence[str],
    bars: Sequence[Bar],
    title: str = N_("Teams and their sectors"),
    value_label: str = N_("priority score of the hazard"),
    marks: Sequence[tuple[str, date, str]] = (),  # (label, date, colour) of a vertical line
    labels: Sequence[Label] = (),  # text on a stretch of a row, e.g. the hazard that finishes last
) -> Path:
    height = min(max(3.5, 0.45 * len(rows) + 1.8), 30)
    fig, ax = plt.subplots(figsize=(13, height), dpi=120)
    values = np.array([b.value for b in bars]) if bars else np.zeros(1)
    norm = Normalize(vmin=float(values.min()), vmax=float(max(values.max(), values.min() + 1e-9)))
    cmap = colormaps["plasma_r"]
    # dates and colours of all bars at once (the same numbers as one bar at a time)
    starts = mdates.date2num([b.start for b in bars]) if bars else np.zeros(0)
    widths = mdates.date2num([b.end for b in bars]) + 1 - starts if bars else np.zeros(0)
    colours = cmap(norm(values)) if bars else np.zeros((0, 4))
    bar_rows = np.array([b.row for b in bars], dtype=np.int64)
    for row in range(len(rows)):
        mine = np.flatnonzero(bar_rows == row)
        if not len(mine):
            continue
        spans = list(zip(starts[mine].tolist(), widths[mine].tolist(), strict=True))
        ax.broken_barh(spans, (row - 0.38, 0.76), facecolors=colours[mine], edgecolor="white", linewidth=0.3)
    for i, (label, day, colour) in enumerate(sorted(marks, key=lambda m: m[1])):
        end = day_end(day)  # where a bar ending that day ends
        ax.axvline(end, color=colour, lw=1.4, ls=(0, (5, 3)))
        ax.annotate(
            f"{shaped(translate(label))} {day}",
            (end, -1.0 + (i % 2) * 0.4),  # alternate heights: close dates do not overlap
            xytext=(-3, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=8,
            color=colour,
            fontweight="bold",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9},
        )
    for label in labels:
        middle = (mdates.date2num(label.start) + mdates.date2num(label.end) + 1) / 2
        ax.annotate(
            shaped(label.text),
            (middle, label.row),
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": TAIL, "lw": 0.8, "alpha": 0.9},
        )
    ax.set_yticks(range(len(rows)), labels=[shaped(row) for row in rows], fontsize=9)
    ax.set_ylim(len(rows) - 0.5, -1.3)
    ax.xaxis_date()
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=12))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(shaped(translate(title)), fontsize=13)
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01, fraction=0.03)
    bar.set_label(shaped(translate(value_label)))
    fig.tight_layout()
    return _save(fig, path)


def day_end(day: date | Sequence[date]) -> Any:
    """Where the end of a day (or of each day) falls on a date axis: a finish date and a Gantt bar
    ending that day meet there, and a burn-down's value at the end of that day is drawn there."""
    if isinstance(day, date):
        return mdates.date2num(day) + 1
    return mdates.date2num(list(day)) + 1


def _save(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
