"""Kept files at the bot's public address, for a channel that fetches pictures from a URL
(Zalo's sendPhoto takes a public https address, nothing else).

A link is ``{PUBLIC_URL}/files/<expiry>-<digest>-<mac><extension>``: the expiry in Unix
seconds, the file's digest, and 128 bits of HMAC-SHA-256 over both under a key only the
bot has. No link can be guessed or made from another; a character changed, or the
expiry passed, and it leads nowhere. Nothing is stored per link, so every process of
the bot serves the links any of them made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable
from urllib.parse import urlsplit

FILES_PATH = "/files"
# 32 hex digits: 128 bits of the MAC.
_MAC_HEX = 32
_NAME = re.compile(r"^(\d{1,12})-([0-9a-f]{64})-([0-9a-f]{32})(?:\.[a-z0-9]{1,5})?$")
# The types served as what they are, with the extension their links end with; anything
# else goes as a download (application/octet-stream), never as a page.
EXTENSIONS: dict[str, str] = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/avif": ".avif",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/amr": ".amr",
    "audio/wav": ".wav",
    # The Excel reports an admin on Zalo downloads (Zalo cannot send them a file).
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    # A member's copy of their data (/mydata), for programs.
    "application/json": ".json",
}


def link_key(secret: str) -> bytes:
    """The key that signs links, derived from a secret the bot already holds (as
    Telegram's login widget derives its key from the bot token)."""
    return hashlib.sha256(b"sangkien public files\x00" + secret.encode()).digest()


class PublicFiles:
    """Makes and checks the links to kept files under the bot's public address."""

    def __init__(
        self,
        base_url: str,
        key: bytes,
        lifetime: dt.timedelta,
        clock: Callable[[], dt.datetime],
    ) -> None:
        if len(key) < 16:
            raise ValueError("a link key has at least 128 bits")
        self._base = base_url.rstrip("/")
        self._key = key
        self.lifetime = lifetime
        self._clock = clock

    @property
    def path(self) -> str:
        """The path the bot's HTTP server serves the files under."""
        return f"{urlsplit(self._base).path.rstrip('/')}{FILES_PATH}"

    def expiry(self) -> dt.datetime:
        """When a link made now expires."""
        return self._clock() + self.lifetime

    def url(self, digest: str, mime_type: str, until: dt.datetime | None = None) -> str:
        """A link to the file, valid for the lifetime of links (or until ``until``)."""
        expires = self.expiry()
        if until is not None:
            expires = min(expires, until)
        stamp = str(int(expires.timestamp()))
        name = f"{stamp}-{digest}-{self._mac(stamp, digest)}{EXTENSIONS.get(mime_type, '')}"
        return f"{self._base}{FILES_PATH}/{name}"

    def digest_of(self, name: str) -> str | None:
        """The digest a link's last segment names, if this bot made it and it has not
        expired; None for anything else."""
        found = _NAME.match(name)
        if found is None:
            return None
        stamp, digest, mac = found.groups()
        if not hmac.compare_digest(mac, self._mac(stamp, digest)):
            return None
        if int(stamp) <= self._clock().timestamp():
            return None
        return digest

    def _mac(self, stamp: str, digest: str) -> str:
        """128 bits of the link's signature, in hex."""
        signed = hmac.new(self._key, f"{stamp}-{digest}".encode(), hashlib.sha256)
        return signed.hexdigest()[:_MAC_HEX]
