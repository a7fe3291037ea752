"""Files the bot keeps itself (a Zalo member's photo or voice note), sent on Telegram:
uploaded from their bytes the first time, then by the file id Telegram gave them, so an
announcement's photo to many is uploaded once."""

from __future__ import annotations

import logging
from collections import OrderedDict

from telegram import InputFile, Message

from domain.kept import KeptFiles, digest_of
from domain.model import AttachmentKind
from handlers.public_files import EXTENSIONS

log = logging.getLogger(__name__)

# Telegram file ids remembered: one per kept file and kind of message.
REMEMBERED = 256


class KeptUploads:
    """Turns a file id into what Telegram's send methods take."""

    def __init__(self, files: KeptFiles | None = None, size: int = REMEMBERED) -> None:
        self._files = files
        self._size = size
        self._ids: OrderedDict[tuple[str, AttachmentKind], str] = OrderedDict()

    async def media(self, file_id: str, kind: AttachmentKind) -> str | InputFile | None:
        """A Telegram file id as it is; a kept file as Telegram knows it, or its bytes to
        upload; None for a kept file that is gone."""
        digest = digest_of(file_id)
        if digest is None:
            return file_id
        known = self._ids.get((digest, kind))
        if known is not None:
            self._ids.move_to_end((digest, kind))
            return known
        kept = await self._files.get(digest) if self._files is not None else None
        if kept is None:
            log.warning("kept file %s… is not there to send", digest[:12])
            return None
        name = f"{kind.value}-{digest[:12]}{EXTENSIONS.get(kept.mime_type, '')}"
        return InputFile(kept.data, filename=name)

    def uploaded(self, file_id: str, kind: AttachmentKind, message: Message | None) -> None:
        """Remember the id Telegram gave a kept file it was sent: the next time goes by it."""
        digest = digest_of(file_id)
        sent = _file_id(message, kind) if message is not None else None
        if digest is None or sent is None:
            return
        self._ids[digest, kind] = sent
        self._ids.move_to_end((digest, kind))
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)


def _file_id(message: Message, kind: AttachmentKind) -> str | None:
    """The id Telegram gave the file a message carries."""
    if kind is AttachmentKind.PHOTO:
        return message.photo[-1].file_id if message.photo else None
    sent = {AttachmentKind.VOICE: message.voice, AttachmentKind.VIDEO_NOTE: message.video_note,
            AttachmentKind.DOCUMENT: message.document}.get(kind)  # fmt: skip
    return sent.file_id if sent is not None else None
