"""A notification as stored data: its texts and buttons as JSON, translated only when sent.

The delivery queue keeps what the core said (message ids with their arguments, buttons as
label and code), not what it looked like in one language, so that each recipient gets it
in their language at the moment it goes out, rendered by their own channel. The format
carries a version: a reader meets only versions it knows, or refuses loudly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from domain.text import Amount, Day, Moment, Money, Percent, Text, Verbatim, verbatim
from domain.ui import Button, Reply

FORMAT = 1

# A JSON value as the standard library reads and writes it.
Json = Any


class Unstorable(ValueError):
    """A reply the delivery queue cannot keep (a picture to draw, files, a keyboard)."""


# Argument types beyond JSON's own scalars, each stored as {tag: value}; the first type
# that matches wins (a Day before a date, a date after a Moment).
_ENCODERS: tuple[tuple[type, str, Callable[[Any], Json]], ...] = (
    (Verbatim, "verbatim", lambda v: v.value),
    (Text, "text", lambda v: encode_text(v)),
    (Money, "money", lambda v: v.vnd),
    (Amount, "amount", lambda v: v.vnd),
    (Percent, "percent", lambda v: encode_value(v.value)),
    (Decimal, "decimal", str),
    (Moment, "moment", lambda v: v.value.isoformat()),
    (Day, "day", lambda v: v.value.isoformat()),
    (dt.date, "date", lambda v: dt.date(v.year, v.month, v.day).isoformat()),
    (tuple, "list", lambda v: [encode_value(item) for item in v]),
)
_DECODERS: dict[str, Callable[[Json], object]] = {
    "verbatim": Verbatim,
    "text": lambda v: decode_text(v),
    "money": Money,
    "amount": Amount,
    "percent": lambda v: Percent(decode_value(v)),  # type: ignore[arg-type]
    "decimal": Decimal,
    "moment": lambda v: Moment(dt.datetime.fromisoformat(v)),
    "day": lambda v: Day(dt.date.fromisoformat(v)),
    "date": dt.date.fromisoformat,
    "list": lambda v: tuple(decode_value(item) for item in v),
}


def encode_value(value: object) -> Json:
    """One argument of a text as JSON: str, int, bool and float as themselves, anything
    else as a one-key object naming its type."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    for kind, tag, encode in _ENCODERS:
        if isinstance(value, kind):
            return {tag: encode(value)}
    raise Unstorable(f"a text argument of type {type(value).__name__} cannot be stored")


def decode_value(data: Json) -> object:
    """The argument ``encode_value`` stored."""
    if not isinstance(data, dict):
        return data
    ((tag, inner),) = data.items()
    if tag not in _DECODERS:
        raise ValueError(f"unknown argument type {tag!r} in a stored text")
    return _DECODERS[tag](inner)


def encode_text(text: Text) -> dict[str, Json]:
    """A text as JSON: its message id, arguments, and plural form when it has one."""
    data: dict[str, Json] = {"id": text.msgid}
    if text.args:
        data["args"] = {name: encode_value(value) for name, value in text.args.items()}
    if text.plural is not None:
        data["plural"], data["count"] = text.plural, text.count
    return data


def decode_text(data: Mapping[str, Json]) -> Text:
    """The text ``encode_text`` stored."""
    args = {name: decode_value(value) for name, value in (data.get("args") or {}).items()}
    return Text(str(data["id"]), args, data.get("plural"), data.get("count"))


def encode_reply(reply: Reply) -> dict[str, Json]:
    """What a notification says, as versioned JSON: its lines and its buttons. Its photo
    travels beside it (the broadcast's picture); anything else is refused."""
    if (reply.keyboard or reply.remove_keyboard or reply.media or reply.chart or reply.card
            or reply.qr or reply.progress is not None):  # fmt: skip
        raise Unstorable("a notification carries text, buttons and a photo only")
    data: dict[str, Json] = {"v": FORMAT, "text": [encode_text(line) for line in reply.text]}
    if reply.buttons:
        data["buttons"] = [[{"label": encode_text(b.label), "code": b.code} for b in row]
                           for row in reply.buttons]  # fmt: skip
    return data


def decode_reply(data: Mapping[str, Json]) -> Reply:
    """The notification ``encode_reply`` stored (its photo is the broadcast's)."""
    if data.get("v") != FORMAT:
        raise ValueError(f"stored notification of unknown format {data.get('v')!r}")
    buttons = tuple(tuple(Button(decode_text(b["label"]), str(b["code"])) for b in row)
                    for row in data.get("buttons") or ())  # fmt: skip
    return Reply(tuple(decode_text(line) for line in data["text"]), buttons)


def rendered(text: str, buttons: Sequence[Sequence[Sequence[str]]] | None = None) -> Reply:
    """A notification queued before the format existed, already in its reader's language:
    its text and button labels pass through untranslated."""
    rows = tuple(tuple(Button(verbatim(str(label)), str(code)) for label, code in row)
                 for row in buttons or ())  # fmt: skip
    return Reply((verbatim(text),), rows)
