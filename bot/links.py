"""Telegram deep links to a unit and printable QR codes for them (no telegram import here)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from charts.qr import QR_BORDER, QR_SCALE, qr_png
from domain.unit_import import is_valid_code

__all__ = ["QR_BORDER", "QR_SCALE", "USERNAME_RULE", "bot_username", "deep_link", "write_qr"]

# Telegram gives bots usernames of 5 to 32 letters, digits or _, ending in "bot".
_USERNAME = re.compile(r"[A-Za-z0-9_]{2,29}[Bb][Oo][Tt]")
USERNAME_RULE = '5 to 32 letters, digits or _, ending in "bot", like sangkien_bot'


def bot_username(name: str) -> str:
    """The username without its leading @; ValueError unless a bot could have it."""
    username = name.strip().removeprefix("@")
    if _USERNAME.fullmatch(username) is None:
        raise ValueError(f"{name!r} is not a Telegram bot username ({USERNAME_RULE})")
    return username


def deep_link(username: str, code: str) -> str:
    """Return ``https://t.me/<username>?start=<code>``; ValueError for a bad username or code."""
    name = bot_username(username)
    if not is_valid_code(code):
        raise ValueError(f"not a valid unit code / start payload: {code!r}")
    return f"https://t.me/{name}?start={code}"


def write_qr(directory: Path, code: str, link: str) -> Path:
    """Write a poster-size QR code of ``link`` to ``directory/<code>.png`` and return its path."""
    if not is_valid_code(code):
        raise ValueError(f"not a valid unit code: {code!r}")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{code}.png"
    picture = qr_png(link)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{code}.", suffix=".png")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(picture)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
