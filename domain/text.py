"""Translatable text as data: the core says what to show, a channel renders it.

The core never formats a number, amount or date itself: it wraps them in the
small value types below so that the channel formats them for the reader's
locale after translation (56.106 · 1.200.000 ₫ · 22/11/2026 in Vietnamese).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in Vietnamese đồng."""

    vnd: int


@dataclass(frozen=True, slots=True)
class Amount:
    """A large sum in đồng, said the way people say it: "33.000 tỷ đồng"."""

    vnd: int


@dataclass(frozen=True, slots=True)
class Day:
    """A calendar date, shown as dd/mm/yyyy in Vietnamese."""

    value: dt.date


@dataclass(frozen=True, slots=True)
class Moment:
    """A timezone-aware instant, shown in the union's clock."""

    value: dt.datetime


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month, shown as mm/yyyy; an instant is taken in the union's clock."""

    value: dt.date


@dataclass(frozen=True, slots=True)
class Percent:
    """A percentage given as a fraction of 100 (12.5 means 12,5%)."""

    value: Decimal | float | int


@dataclass(frozen=True, slots=True)
class Duration:
    """How long something takes, shown in seconds, minutes or hours and minutes."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Verbatim:
    """User-written text: shown as it is, never translated."""

    value: str


Arg = "str | int | Money | Day | Moment | Percent | Verbatim | Text"


@dataclass(frozen=True, slots=True)
class Text:
    """A message id with its named arguments, translated when rendered."""

    msgid: str
    args: Mapping[str, object] = field(default_factory=dict)
    plural: str | None = None
    count: int | None = None


def _(msgid: str, /, **args: object) -> Text:
    """Mark a message for translation; extraction looks for this name."""
    return Text(msgid, args)


def n_(singular: str, plural: str, count: int, /, **args: object) -> Text:
    """Mark a message with a plural form; ``count`` selects the form."""
    return Text(singular, {"count": count, **args}, plural=plural, count=count)


def verbatim(value: str) -> Text:
    """Wrap user text so that it passes through the catalog untouched."""
    return Text("{text}", {"text": Verbatim(value)})


def clip(text: str, limit: int, *, first_line: bool = False) -> str:
    """``text`` in at most ``limit`` characters, cut after the last whole word that fits,
    then "…"; with ``first_line``, only its first line (and "…" when more follows).

    Never cuts a word in the middle ("chừa đ…"); a single word longer than ``limit`` is
    the one exception, cut at the limit.
    """
    text = text.strip()
    more = False
    if first_line and "\n" in text:
        text, rest = text.split("\n", 1)
        text, more = text.rstrip(), bool(rest.strip())
    if len(text) <= limit:
        return f"{text} …" if more else text
    if limit < 2:
        return "…"[:limit]
    kept = text[: limit - 1]
    if not text[limit - 1].isspace():
        boundary = max(kept.rfind(" "), kept.rfind("\n"), kept.rfind("\t"))
        if boundary > 0:
            kept = kept[:boundary]
    return kept.rstrip(" \t\n,.;:-–—") + "…"
