"""Progress charts drawn as PNG pictures, for any channel that can show one."""

from __future__ import annotations

import io
import textwrap
from typing import Any

from domain.ui import Card, Chart
from locales import Translator

WIDTH_INCHES = 8.0
BAR_INCHES = 0.42
LABEL_WIDTH = 34
# Every text is drawn with parse_math=False, as written: names and titles are typed by
# people, and matplotlib would read "$...$" in them as a formula, failing on a bad one.


def png(figure: Any) -> bytes:
    """A figure as PNG bytes, on its own background colour."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor=figure.get_facecolor())
    return buffer.getvalue()


def render_png(chart: Chart, translator: Translator, language: str) -> bytes:
    """The chart as a PNG picture."""
    return png(draw(chart, translator, language))


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
    axes.set_yticks(range(len(bars)), labels, fontdict={**font, "size": 8}, parse_math=False)
    axes.axvline(100, color="#1b5e20", linewidth=1.5,
                 label=translator.render(chart.target_label, language))  # fmt: skip
    axes.axvline(chart.pace_percent, color="#424242", linewidth=1.2, linestyle="--",
                 label=translator.render(chart.pace_label, language))  # fmt: skip
    for index, value in enumerate(values):
        axes.text(value + 1, index, f"{value:.1f}%".replace(".", ","), va="center",
                  fontdict={**font, "size": 7})  # fmt: skip
    axes.set_xlim(0, max([110.0, chart.pace_percent + 10, *(v + 15 for v in values)]))
    axes.set_title(translator.render(chart.title, language), fontdict={**font, "size": 11},
                   parse_math=False)  # fmt: skip
    for text in axes.legend(prop={**font, "size": 8}, loc="lower right").get_texts():
        text.set_parse_math(False)
    axes.tick_params(axis="x", labelsize=8)
    figure.tight_layout()
    return figure


CARD_WIDTH = 9.0
CARD_WRAP = 80
CARD_LINES = 26


def render_card(card: Card, translator: Translator, language: str) -> bytes:
    """A commendation card as a PNG picture, for sharing on a unit's pages."""
    return png(draw_card(card, translator, language))


def plain(text: str) -> str:
    """Text without emoji, which the card's font does not draw."""
    return "".join(c for c in text if ord(c) < 0x1F000 and c != "\ufe0f").strip()


def card_lines(card: Card, translator: Translator, language: str) -> list[tuple[str, str]]:
    """The card's text, line by line, with the style of each: what the picture shows."""
    lines: list[tuple[str, str]] = []
    for heading, items in card.sections:
        lines.append(("heading", plain(translator.render(heading, language))))
        for item in items:
            wrapped = textwrap.wrap(plain(translator.render(item, language)), CARD_WRAP,
                                    subsequent_indent="   ")  # fmt: skip
            lines += [("item", piece) for piece in wrapped[:3]]
    if len(lines) > CARD_LINES:
        lines = [*lines[: CARD_LINES - 1], ("item", "…")]
    return lines


def draw_card(card: Card, translator: Translator, language: str) -> Any:
    """Title, unit and week, the figures in boxes, then the highlights."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    font = {"family": "DejaVu Sans"}
    lines = card_lines(card, translator, language)
    height = 4.2 + 0.3 * len(lines)
    figure = Figure(figsize=(CARD_WIDTH, height), dpi=120, facecolor="#fff8e1")
    inch = 1.0 / height  # one inch in figure coordinates, vertically
    y = 1.0 - 0.45 * inch
    figure.text(0.5, y, translator.render(card.title, language), ha="center", va="top",
                fontdict={**font, "size": 22, "weight": "bold"}, color="#b71c1c",
                parse_math=False)  # fmt: skip
    y -= 0.55 * inch
    subtitle = "\n".join(textwrap.wrap(translator.render(card.subtitle, language), 60)[:2])
    figure.text(0.5, y, subtitle, ha="center", va="top", fontdict={**font, "size": 13},
                color="#3e2723", parse_math=False)  # fmt: skip
    y -= 0.75 * inch
    count = max(1, len(card.figures))
    box = 1.0 / count
    for index, (label, value) in enumerate(card.figures):
        left = index * box + 0.01
        figure.patches.append(FancyBboxPatch(
            (left, y - 1.05 * inch), box - 0.02, 1.0 * inch, boxstyle="round,pad=0.004",
            transform=figure.transFigure, facecolor="#ffecb3", edgecolor="#ffb300",
        ))  # fmt: skip
        centre = left + (box - 0.02) / 2
        figure.text(centre, y - 0.3 * inch, translator.render(value, language), ha="center",
                    va="center", fontdict={**font, "size": 14, "weight": "bold"},
                    color="#b71c1c", parse_math=False)  # fmt: skip
        label_text = "\n".join(textwrap.wrap(translator.render(label, language), 16)[:2])
        figure.text(centre, y - 0.72 * inch, label_text, ha="center", va="center",
                    fontdict={**font, "size": 8}, color="#4e342e", parse_math=False)  # fmt: skip
    y -= 1.4 * inch
    for style, text in lines:
        bold = style == "heading"
        figure.text(0.05, y, text, ha="left", va="top", color="#212121", parse_math=False,
                    fontdict={**font, "size": 11 if bold else 10,
                              "weight": "bold" if bold else "normal"})  # fmt: skip
        y -= 0.3 * inch
    figure.text(0.5, 0.35 * inch, translator.render(card.footer, language), ha="center",
                va="center", fontdict={**font, "size": 9, "style": "italic"},
                color="#6d4c41", parse_math=False)  # fmt: skip
    return figure
