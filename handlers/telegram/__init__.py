"""Telegram: updates in, messages out, the sender, its budget and the update processor.

Everything that knows Telegram lives in this package; the core never names it.
"""

from __future__ import annotations

from handlers.telegram.context import BotApplication, BotContext, BotData
from handlers.telegram.inbound import (
    chat_member_changed,
    group_command,
    keyboard_labels,
    parse_command,
    payload_of,
    respond,
)
from handlers.telegram.render import (
    CAPABILITIES,
    CHANNEL,
    markup,
    picture_of,
    progress_shown,
    remove_buttons,
    send_outcome,
    send_reply,
    show_card,
    split_text,
)

__all__ = [
    "CAPABILITIES",
    "CHANNEL",
    "BotApplication",
    "BotContext",
    "BotData",
    "chat_member_changed",
    "group_command",
    "keyboard_labels",
    "markup",
    "parse_command",
    "payload_of",
    "picture_of",
    "progress_shown",
    "remove_buttons",
    "respond",
    "send_outcome",
    "send_reply",
    "show_card",
    "split_text",
]
