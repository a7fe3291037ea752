"""A unit's poster on one A4 page: the union's name, its code printed large, and a QR
code for each channel the bot is on, with what to do after scanning it."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from charts import png
from charts.qr import qr_modules

# A4 portrait, drawn at a resolution that prints sharp.
PAGE_WIDTH = 8.27
PAGE_HEIGHT = 11.69
POSTER_DPI = 200
MARGIN = 0.5
# The unit code in a monospaced face, so that 0 and O, 1 and l never look alike; as
# large as fits across the page, and at most this many points.
CODE_POINTS_MAX = 84.0
# DejaVu Sans Mono's glyphs are 0.6 em wide.
MONO_EM = 0.6
FONT = "DejaVu Sans"
MONO = "DejaVu Sans Mono"
# Every text is drawn with parse_math=False: a union's name may hold "$".


@dataclass(frozen=True, slots=True)
class PosterPanel:
    """One channel on the poster: its name, the link its QR code holds, and what to do."""

    heading: str
    qr: str
    steps: str
    link: str


@dataclass(frozen=True, slots=True)
class PosterSheet:
    """Everything a poster shows, already translated: the picture draws this and only this."""

    programme: str
    call: str
    unit: str
    code_label: str
    code: str
    panels: tuple[PosterPanel, ...]
    footer: str

    def texts(self) -> list[str]:
        """Every text the poster prints, top to bottom."""
        lines = [self.programme, self.call, self.unit, self.code_label, self.code]
        for panel in self.panels:
            lines += [panel.heading, panel.steps, panel.link]
        return [*lines, self.footer]


def render_poster(sheet: PosterSheet) -> bytes:
    """The poster as a PNG picture of an A4 page."""
    return png(draw_poster(sheet))


def draw_poster(sheet: PosterSheet) -> Any:
    """The title, the union and its code, then the channels side by side."""
    # Imported here: matplotlib takes a second to load. The object-oriented Figure needs
    # no GUI backend and no global state.
    from matplotlib.figure import Figure

    if not sheet.panels:
        raise ValueError("a poster needs at least one channel")
    figure = Figure(figsize=(PAGE_WIDTH, PAGE_HEIGHT), dpi=POSTER_DPI, facecolor="white")
    _head(figure, sheet)
    width = (PAGE_WIDTH - 2 * MARGIN) / len(sheet.panels)
    for index, panel in enumerate(sheet.panels):
        _panel(figure, panel, MARGIN + index * width, width)
    _text(figure, PAGE_WIDTH / 2, PAGE_HEIGHT - 0.45, "\n".join(textwrap.wrap(sheet.footer, 80)),
          size=12, style="italic", color="#4e342e")  # fmt: skip
    return figure


def _text(figure: Any, x: float, top: float, text: str, **style: Any) -> None:
    """``text`` centred on ``x``, its top ``top`` inches below the page's top edge."""
    family = style.pop("family", FONT)
    figure.text(x / PAGE_WIDTH, 1 - top / PAGE_HEIGHT, text, ha="center", va="top",
                family=family, parse_math=False, linespacing=1.25, **style)  # fmt: skip


def _head(figure: Any, sheet: PosterSheet) -> None:
    """The programme, the call to join, the union's name and its code, large."""
    middle = PAGE_WIDTH / 2
    _text(figure, middle, 0.45, sheet.programme, size=18, color="#b71c1c", weight="bold")
    _text(figure, middle, 0.95, "\n".join(textwrap.wrap(sheet.call, 36)[:2]), size=26,
          weight="bold", color="#212121")  # fmt: skip
    unit = textwrap.wrap(sheet.unit, 34)
    if len(unit) > 3:
        unit = [*unit[:2], textwrap.shorten(" ".join(unit[2:]), 34, placeholder=" …")]
    _text(figure, middle, 2.05, "\n".join(unit), size=22, weight="bold", color="#0d47a1")
    _text(figure, middle, 3.45, sheet.code_label, size=15, color="#424242")
    across = 0.9 * (PAGE_WIDTH - 2 * MARGIN) * 72 / (MONO_EM * max(len(sheet.code), 1))
    _text(figure, middle, 3.8, sheet.code, family=MONO, size=min(CODE_POINTS_MAX, across),
          weight="bold", color="#b71c1c")  # fmt: skip


def _panel(figure: Any, panel: PosterPanel, left: float, width: float) -> None:
    """A channel's name, its QR code as large as the column allows, and what to do."""
    middle = left + width / 2
    top = 5.35
    _text(figure, middle, top, panel.heading, size=22, weight="bold", color="#212121")
    side = min(width - 0.5, 3.6)
    axes = figure.add_axes(((middle - side / 2) / PAGE_WIDTH, 1 - (top + 0.55 + side) / PAGE_HEIGHT,
                            side / PAGE_WIDTH, side / PAGE_HEIGHT))  # fmt: skip
    axes.imshow(qr_modules(panel.qr), cmap="binary", vmin=0, vmax=1, interpolation="nearest")
    axes.set_axis_off()
    wrap = max(24, int(width * 9.5))
    below = top + 0.65 + side
    # Not at a hyphen: the unit code in Zalo's steps stays whole.
    steps = textwrap.wrap(panel.steps, wrap, break_on_hyphens=False)
    _text(figure, middle, below, "\n".join(steps), size=13, color="#212121")
    link = textwrap.wrap(panel.link, int(width * 12), break_on_hyphens=False)
    _text(figure, middle, below + 0.3 * len(steps) + 0.15, "\n".join(link), family=MONO,
          size=10, color="#455a64")  # fmt: skip
