"""Files the bot keeps itself: photos and voice notes from a channel whose links expire,
and pictures it drew to be fetched from its public address.

A kept file is named by the SHA-256 of its bytes, so the same file delivered twice (a
redelivered message, a picture sent to many) is stored once. Its file id in an
attachment is ``kept:<digest>``, which no channel's own file ids look like.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.ports import UnitOfWorkFactory

KEPT_PREFIX = "kept:"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
OCTET_STREAM = "application/octet-stream"

# What a file's first bytes say it is: only these types are served as what they are.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"#!AMR", 0, "audio/amr"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"WAVE", 8, "audio/wav"),
    (b"\xff\xf1", 0, "audio/aac"),
    (b"\xff\xf9", 0, "audio/aac"),
    (b"\xff\xfb", 0, "audio/mpeg"),
    (b"\xff\xf3", 0, "audio/mpeg"),
)


# ISO media files ("....ftyp<brand>"): a phone's photo (HEIF, AVIF) or a recording (M4A).
_ISO_PICTURES = {b"heic": "image/heic", b"heix": "image/heic", b"mif1": "image/heif",
                 b"avif": "image/avif"}  # fmt: skip


def sniffed_type(data: bytes) -> str | None:
    """The media type of a picture or a recording, read from its bytes; None when it is
    neither (what a server says a file is cannot be trusted: a page is not a photo)."""
    if data[4:8] == b"ftyp":
        return _ISO_PICTURES.get(data[8:12], "audio/mp4")
    for signature, offset, mime_type in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return mime_type
    return None


@dataclass(frozen=True, slots=True)
class KeptFile:
    """A file the bot keeps: its bytes, what they are, and until when (None: for good)."""

    digest: str
    mime_type: str
    size: int
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    data: bytes = field(default=b"", repr=False)

    @property
    def file_id(self) -> str:
        """The file id an attachment carries for it."""
        return f"{KEPT_PREFIX}{self.digest}"


def digest_of(file_id: str | None) -> str | None:
    """The digest a kept file's id names; None for a channel's own file id."""
    if not file_id or not file_id.startswith(KEPT_PREFIX):
        return None
    digest = file_id[len(KEPT_PREFIX) :]
    return digest if _DIGEST.match(digest) else None


def digest(data: bytes) -> str:
    """The name of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


class KeptFiles:
    """Keeps files in the database and gives them back, each in its own short transaction."""

    def __init__(self, units_of_work: UnitOfWorkFactory, clock: Callable[[], dt.datetime]) -> None:
        self._uow = units_of_work
        self._clock = clock

    async def keep(
        self, data: bytes, mime_type: str, lifetime: dt.timedelta | None = None
    ) -> KeptFile:
        """Store the bytes (once, whoever sends them again); kept for good unless a
        ``lifetime`` is given, and at least as long as asked when kept already."""
        now = self._clock()
        kept = KeptFile(digest(data), mime_type, len(data), now,
                        now + lifetime if lifetime is not None else None, data)  # fmt: skip
        async with self._uow() as uow:
            await uow.files.add(kept)
            await uow.commit()
        return kept

    async def get(self, file_digest: str) -> KeptFile | None:
        """The file with its bytes; None when unknown or expired."""
        if not _DIGEST.match(file_digest):
            return None
        async with self._uow() as uow:
            kept = await uow.files.get(file_digest)
        if kept is None or (kept.expires_at is not None and kept.expires_at <= self._clock()):
            return None
        return kept

    async def forget_expired(self) -> int:
        """Delete the files whose time is up (drawn pictures); return how many."""
        async with self._uow() as uow:
            forgotten = await uow.files.forget_expired(self._clock())
            await uow.commit()
        return forgotten
