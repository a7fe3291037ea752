"""Links to a unit on each channel, and printable posters of them (no telegram import here).

Telegram's deep link carries the unit's code as its start payload. Zalo's Bot Platform
documents no start payload and no link in getMe's answer (``id``, ``account_name``,
``account_type``, ``can_join_groups``): the bot's link is copied from its page in Zalo
Bot Creator, and a worker sends the unit code printed on the poster.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from charts.poster import PosterPanel, PosterSheet, render_poster
from charts.qr import QR_BORDER, QR_SCALE, qr_png
from domain.text import Text, Verbatim, _
from domain.unit_import import is_valid_code
from locales import Translator

__all__ = [
    "QR_BORDER",
    "QR_SCALE",
    "USERNAME_RULE",
    "ZALO_LINK_RULE",
    "bot_username",
    "deep_link",
    "poster_sheet",
    "write_poster",
    "write_qr",
    "zalo_link",
]

# Telegram gives bots usernames of 5 to 32 letters, digits or _, ending in "bot".
_USERNAME = re.compile(r"[A-Za-z0-9_]{2,29}[Bb][Oo][Tt]")
USERNAME_RULE = '5 to 32 letters, digits or _, ending in "bot", like sangkien_bot'
ZALO_LINK_RULE = "the https address on the bot's page in Zalo Bot Creator"


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


def zalo_link(link: str) -> str:
    """The Zalo bot's link as given; ValueError unless it is an https address."""
    given = link.strip()
    address = urlsplit(given)
    if address.scheme != "https" or not address.hostname or any(c.isspace() for c in given):
        raise ValueError(f"{link!r} is not the Zalo bot's link ({ZALO_LINK_RULE})")
    return given


def write_qr(directory: Path, code: str, link: str) -> Path:
    """Write a poster-size QR code of ``link`` to ``directory/<code>.png`` and return its path."""
    return _write_png(directory, code, qr_png(link))


# What the poster says. Zalo's line names the code to send: its link has no payload.
POSTER_PROGRAMME = _("The “1 million initiatives” programme")
POSTER_CALL = _("Send your initiatives to your union")
POSTER_CODE = _("Your union's code")
POSTER_TELEGRAM = _("Scan the code with your phone's camera, then press Start.")
POSTER_FOOTER = _("Or send the bot part of your union's name and choose it from the list.")


def poster_sheet(
    code: str,
    name: str,
    *,
    telegram: str | None,
    zalo: str | None,
    translator: Translator,
    language: str,
) -> PosterSheet:
    """What a unit's poster prints: a panel for each channel whose link is given."""
    if not is_valid_code(code):
        raise ValueError(f"not a valid unit code: {code!r}")

    def say(text: Text) -> str:
        """``text`` in the poster's language."""
        return translator.render(text, language)

    panels = []
    if telegram is not None:
        panels.append(PosterPanel("Telegram", telegram, say(POSTER_TELEGRAM), _printed(telegram)))
    if zalo is not None:
        steps = say(_("Scan the code with Zalo, then send the bot your union's code: {code}",
                      code=Verbatim(code)))  # fmt: skip
        panels.append(PosterPanel("Zalo", zalo, steps, _printed(zalo)))
    if not panels:
        raise ValueError("a poster needs a Telegram or a Zalo link")
    return PosterSheet(
        programme=say(POSTER_PROGRAMME),
        call=say(POSTER_CALL),
        unit=name,
        code_label=say(POSTER_CODE),
        code=code,
        panels=tuple(panels),
        footer=say(POSTER_FOOTER),
    )


def _printed(link: str) -> str:
    """A link as printed under its QR code, for typing: without "https://"."""
    return link.removeprefix("https://")


def write_poster(directory: Path, sheet: PosterSheet) -> Path:
    """Write the A4 poster to ``directory/<code>.png`` and return its path."""
    return _write_png(directory, sheet.code, render_poster(sheet))


def _write_png(directory: Path, code: str, picture: bytes) -> Path:
    """Write ``picture`` to ``directory/<code>.png`` whole or not at all."""
    if not is_valid_code(code):
        raise ValueError(f"not a valid unit code: {code!r}")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{code}.png"
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
