"""Small charts for the PDF documents: horizontal stacked bars, as PNG bytes (matplotlib Agg)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from sapper.i18n import translate, vocabulary
from sapper.i18n.shaping import shaped


def stacked_bars(
    rows: Sequence[tuple[str, Mapping[str, float]]],
    colours: Mapping[str, str],
    unit: str,
    width_in: float = 7.0,
    dpi: int = 150,
) -> bytes:
    """One bar per row, stacked by series (in the order of ``colours``); empty series leave no key."""
    height = 0.6 + 0.28 * max(len(rows), 1)
    fig = Figure(figsize=(width_in, height), dpi=dpi)  # no pyplot: safe in server threads
    ax = fig.subplots()
    labels = [label for label, _ in rows]
    y = np.arange(len(rows))[::-1]
    left = np.zeros(len(rows))
    for name, colour in colours.items():
        values = np.array([float(v.get(name, 0.0)) for _, v in rows])
        if values.any():
            ax.barh(y, values, left=left, color=colour, label=shaped(vocabulary.label(name)), height=0.7)
            left += values
    ax.set_yticks(y, [shaped(label) for label in labels], fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel(shaped(translate(unit)), fontsize=7)  # in the language in force, letters joined
    ax.spines[["top", "right"]].set_visible(False)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
