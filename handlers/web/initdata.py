"""Telegram Mini App launch data (``Telegram.WebApp.initData``), checked on the server
before anything else, as Telegram's Mini Apps documentation describes: the data-check
string (every field but ``hash``, sorted, ``key=value`` joined by line feeds) signed with
HMAC-SHA256 under the key HMAC-SHA256("WebAppData", bot token); ``auth_date`` recent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

# initData is a few hundred bytes; anything far larger is not from Telegram.
MAX_INIT_DATA = 8192


class InitDataRefused(Exception):
    """The launch data is not Telegram's, or too old; the message says which check failed."""


@dataclass(frozen=True, slots=True)
class Launch:
    """Whom a checked launch names, and when Telegram signed it."""

    user_id: int
    auth_date: dt.datetime


def secret_key(bot_token: str) -> bytes:
    """The key Telegram signs a bot's launch data with."""
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def sign(fields: dict[str, str], bot_token: str) -> str:
    """The hash Telegram puts beside these fields (hex)."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    return hmac.new(secret_key(bot_token), check.encode(), hashlib.sha256).hexdigest()


def _fields(raw: str) -> dict[str, str]:
    """The query string's fields; a repeated field is refused (which one was signed?)."""
    if not raw or len(raw) > MAX_INIT_DATA:
        raise InitDataRefused("missing or too long")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataRefused("not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataRefused("a field is repeated")
    return fields


def _user_id(fields: dict[str, str]) -> int:
    """The id of the user the data names."""
    try:
        user = json.loads(fields.get("user", ""))
        user_id = user["id"]
    except (ValueError, TypeError, KeyError):
        raise InitDataRefused("no user") from None
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise InitDataRefused("no user")
    return user_id


def check_init_data(raw: str, bot_token: str, now: dt.datetime, max_age: dt.timedelta) -> Launch:
    """The launch, once its hash is Telegram's (compared in constant time) and it is no
    older than ``max_age``; else ``InitDataRefused``."""
    fields = _fields(raw)
    given = fields.pop("hash", "")
    if not given or not bot_token:
        raise InitDataRefused("no hash")
    if not hmac.compare_digest(sign(fields, bot_token).encode(), given.encode()):
        raise InitDataRefused("wrong hash")
    try:
        signed = dt.datetime.fromtimestamp(int(fields.get("auth_date", "")), dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise InitDataRefused("no auth_date") from None
    if now - signed > max_age or signed - now > dt.timedelta(minutes=5):
        raise InitDataRefused("expired")
    return Launch(_user_id(fields), signed)
