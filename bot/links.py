"""Telegram deep links to a unit and printable QR codes for them (no telegram import here)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import segno

from domain.unit_import import is_valid_code

__all__ = ["QR_BORDER", "QR_SCALE", "deep_link", "write_qr"]

QR_SCALE = 10
QR_BORDER = 4
_USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")


def deep_link(bot_username: str, code: str) -> str:
    """Return ``https://t.me/<username>?start=<code>``; ValueError for a bad username or code."""
    username = bot_username.strip().removeprefix("@")
    if _USERNAME.fullmatch(username) is None:
        raise ValueError(f"not a Telegram bot username: {bot_username!r}")
    if not is_valid_code(code):
        raise ValueError(f"not a valid unit code / start payload: {code!r}")
    return f"https://t.me/{username}?start={code}"


def write_qr(directory: Path, code: str, link: str) -> Path:
    """Write a poster-size QR code of ``link`` to ``directory/<code>.png`` and return its path."""
    if not is_valid_code(code):
        raise ValueError(f"not a valid unit code: {code!r}")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{code}.png"
    qr = segno.make(link, error="q", micro=False)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{code}.", suffix=".png")
    try:
        with os.fdopen(handle, "wb") as out:
            qr.save(out, kind="png", scale=QR_SCALE, border=QR_BORDER)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
