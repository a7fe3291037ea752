"""Zalo in: an event becomes one core event. Zalo has no buttons, so every choice
arrives as typed text (a number, or the words of a choice) and the core reads it."""

from __future__ import annotations

from domain.text import _
from domain.ui import Command, Inbound, Payload, Sender, TextMessage, Unsupported
from handlers.zalo.api import (
    IMAGE_RECEIVED,
    STICKER_RECEIVED,
    TEXT_RECEIVED,
    VOICE_RECEIVED,
    ZaloEvent,
)
from handlers.zalo.render import CHANNEL

# Said to an event the bot does not take: one the platform withholds
# (message.unsupported.received, also sent for the users it protects), or one in a
# group, where this channel does not serve; nothing of it is stored.
UNSUPPORTED_HERE = _(
    "Sorry, I cannot read this message. Please write to me as text, in a private chat with me."
)

# What the core cannot use yet: voice answers and photos need the files kept by the bot
# (a Zalo URL expires), which a later increment brings.
_UNSUPPORTED_KINDS = {
    STICKER_RECEIVED: "sticker",
    VOICE_RECEIVED: "voice",
    IMAGE_RECEIVED: "other",
}


def parse_command(text: str) -> Command:
    """Read ``/name argument`` into a command; the argument may span lines."""
    head, *rest = text.strip().split(None, 1)
    return Command(name=head[1:].lower(), argument=rest[0].strip() if rest else "")


def payload_of(event: ZaloEvent) -> Payload | None:
    """What the member did, in the core's terms; None for an event the bot does not take
    (a group's, one the platform withholds), which gets ``UNSUPPORTED_HERE``."""
    if not event.is_private:
        return None
    if event.event_name == TEXT_RECEIVED:
        text = event.text or ""
        if not text.strip():
            return None
        if text.lstrip().startswith("/"):
            return parse_command(text)
        return TextMessage(text)
    kind = _UNSUPPORTED_KINDS.get(event.event_name)
    return Unsupported(kind) if kind is not None else None


def inbound_of(event: ZaloEvent) -> Inbound | None:
    """The core event for a Zalo event; its message_id makes redelivery harmless, since
    Zalo numbers no updates."""
    payload = payload_of(event)
    if payload is None:
        return None
    return Inbound(
        sender=Sender(CHANNEL, event.sender_id, event.sender_name),
        payload=payload,
        event_id=f"zalo:{event.message_id}",
    )
