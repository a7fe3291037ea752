"""Progress charts drawn as PNG pictures, for any channel that can show one."""

from __future__ import annotations

import io
import textwrap
from typing import Any

from domain.ui import Chart
from locales import Translator

WIDTH_INCHES = 8.0
BAR_INCHES = 0.42
LABEL_WIDTH = 34


def render_png(chart: Chart, translator: Translator, language: str) -> bytes:
    """The chart as a PNG picture."""
    figure = draw(chart, translator, language)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def draw(chart: Chart, translator: Translator, language: str) -> Any:
    """Horizontal bars of percent of target, the 100% line and today's pace."""
    # Imported here: matplotlib takes a second to load and only charts need it. The
    # object-oriented Figure needs no GUI backend and no global state.
    from matplotlib.figure import Figure

    bars = list(chart.bars)[::-1]  # best first, read from the top
    height = max(2.5, 1.4 + BAR_INCHES * len(bars))
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=110)
    axes = figure.add_subplot()
    # DejaVu Sans ships with matplotlib and has every Vietnamese letter with its marks.
    font = {"family": "DejaVu Sans"}
    labels = ["\n".join(textwrap.wrap(b.label, LABEL_WIDTH)[:2]) for b in bars]
    values = [b.percent for b in bars]
    colours = ["#2e7d32" if v >= 100 else "#f9a825" if v >= chart.pace_percent else "#c62828"
               for v in values]  # fmt: skip
    axes.barh(range(len(bars)), values, color=colours)
    axes.set_yticks(range(len(bars)), labels, fontdict={**font, "size": 8})
    axes.axvline(100, color="#1b5e20", linewidth=1.5,
                 label=translator.render(chart.target_label, language))  # fmt: skip
    axes.axvline(chart.pace_percent, color="#424242", linewidth=1.2, linestyle="--",
                 label=translator.render(chart.pace_label, language))  # fmt: skip
    for index, value in enumerate(values):
        axes.text(value + 1, index, f"{value:.1f}%".replace(".", ","), va="center",
                  fontdict={**font, "size": 7})  # fmt: skip
    axes.set_xlim(0, max([110.0, chart.pace_percent + 10, *(v + 15 for v in values)]))
    axes.set_title(translator.render(chart.title, language), fontdict={**font, "size": 11})
    axes.legend(prop={**font, "size": 8}, loc="lower right")
    axes.tick_params(axis="x", labelsize=8)
    figure.tight_layout()
    return figure
