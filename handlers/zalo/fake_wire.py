"""The fake Zalo Bot API's wire: the envelope, the events members cause as the
platform sends them (polled or posted to a webhook), and the checks it makes of a call's
parameters. ``handlers.zalo.fake`` serves them over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any, Final

from handlers.zalo.api import (
    SECRET_HEADER,
    TEXT_LIMIT,
)

TOKEN: Final = "1459232241454765289:fake-zalo-bot-secret-0000000000000000"
DISPLAY_NAME: Final = "Người lao động"
STICKER: Final = "0e078a2fb66a5f34067b"
# The names the documentation's error table gives each code.
DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Internal server error",
    404: "Not found",
    408: "Request timeout",
    429: "Quota exceeded",
}
# Calls that make a message in a chat, and those the quota counts.
MAKING: Final = frozenset({"sendMessage", "sendPhoto"})
SENDING: Final = frozenset({"sendMessage", "sendPhoto", "sendChatAction"})
# sendChatAction's documented actions ("upload_photo" is announced as coming soon).
ACTIONS: Final = frozenset({"typing", "upload_photo"})

Envelope = dict[str, Any]


def now_ms() -> int:
    """The time as the platform writes it: milliseconds since the epoch."""
    return int(time.time() * 1000)


def new_message_id() -> str:
    """A fresh message id, shaped like the platform's ("16f6366b3f02645a3d15")."""
    return uuid.uuid4().hex[:20]


def answer(result: Any = None) -> Envelope:
    """A successful answer; sendChatAction's carries no result."""
    return {"ok": True} if result is None else {"ok": True, "result": result}


def status_of(envelope: Envelope) -> int:
    """The HTTP status of an answer: 200, or a refusal's error code."""
    return 200 if envelope["ok"] else int(envelope["error_code"])


def refusal(code: int, description: str | None = None) -> Envelope:
    """A refusal, worded as the documentation's error table unless told otherwise."""
    return {
        "ok": False,
        "error_code": code,
        "description": description or DESCRIPTIONS.get(code, "Error"),
    }


def event(
    event_name: str,
    user_id: str,
    *,
    display_name: str = DISPLAY_NAME,
    message_id: str | None = None,
    date: dt.datetime | int | None = None,
    chat_id: str | None = None,
    chat_type: str = "PRIVATE",
    is_bot: bool = False,
    **content: str | None,
) -> dict[str, Any]:
    """An event exactly as the platform sends it; ``content`` adds ``text``, ``photo``,
    ``caption``, ``sticker``, ``voice_url``… (None leaves a key out)."""
    if isinstance(date, dt.datetime):
        date = int(date.timestamp() * 1000)
    message: dict[str, Any] = {
        "from": {"id": user_id, "display_name": display_name, "is_bot": is_bot},
        "chat": {"id": chat_id or user_id, "chat_type": chat_type},
        "message_id": message_id or new_message_id(),
        "date": now_ms() if date is None else date,
    }
    message.update({key: value for key, value in content.items() if value is not None})
    return {"event_name": event_name, "message": message}


def webhook_request(
    data: object, secret: str | None, *, wrapped: bool = True
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of the POST Zalo makes to a webhook for ``data``.

    The documented body is the event in the ``{"ok": true, "result": …}`` envelope;
    ``wrapped=False`` sends it bare. ``secret`` None sends no secret header.
    """
    body = answer(data) if wrapped else data
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    return json.dumps(body, ensure_ascii=False).encode(), headers


def chat_id_of(params: dict[str, Any]) -> str | None:
    value = params.get("chat_id")
    return value if isinstance(value, str) and value else None


def text_ok(value: object, *, required: bool) -> bool:
    """Whether a text or caption is within the platform's 1–2,000 characters."""
    if value is None:
        return not required
    return isinstance(value, str) and 1 <= len(value) <= TEXT_LIMIT


def poll_timeout(params: dict[str, Any]) -> float | None:
    """getUpdates' ``timeout`` (documented as a string of seconds, default 30)."""
    value = params.get("timeout", 30)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
