"""Zalo in: an event becomes one core event. Zalo has no buttons, so every choice
arrives as typed text (a number, or the words of a choice) and the core reads it. A
photo or voice note is fetched and kept by the bot first, since Zalo's address for it
expires: the core then takes it as it takes a Telegram photo or voice message."""

from __future__ import annotations

import logging

from domain.kept import OCTET_STREAM, KeptFiles, sniffed_type
from domain.model import Attachment, AttachmentKind
from domain.text import Text, _
from domain.ui import Command, FileShared, Inbound, Payload, Sender, TextMessage, Unsupported
from handlers.zalo.api import (
    DOWNLOAD_TIMEOUT,
    FILE_LIMIT,
    IMAGE_RECEIVED,
    STICKER_RECEIVED,
    TEXT_RECEIVED,
    VOICE_RECEIVED,
    Download,
    ZaloApi,
    ZaloDownloadFailed,
    ZaloEvent,
    ZaloFileTooLarge,
)
from handlers.zalo.render import CHANNEL

log = logging.getLogger(__name__)

# Said to an event the bot does not take: one the platform withholds
# (message.unsupported.received, also sent for the users it protects), or one in a
# group, where this channel does not serve; nothing of it is stored.
UNSUPPORTED_HERE = _(
    "Sorry, I cannot read this message. Please write to me as text, in a private chat with me."
)

# What the core cannot use: a sticker; and a photo or voice note that came without an
# address to fetch it from.
_UNSUPPORTED_KINDS = {
    STICKER_RECEIVED: "sticker",
    VOICE_RECEIVED: "voice",
    IMAGE_RECEIVED: "other",
}
_KINDS = {IMAGE_RECEIVED: AttachmentKind.PHOTO, VOICE_RECEIVED: AttachmentKind.VOICE}
# How the kind messages name the file.
_WHAT = {IMAGE_RECEIVED: _("this photo"), VOICE_RECEIVED: _("this voice message")}
MEGABYTE = 1024 * 1024


class FileNotKept(Exception):
    """A member's photo or voice note could not be kept; ``text`` tells them kindly."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.msgid)
        self.text = text


class FileKeeper:
    """Fetches a member's photo or voice note while Zalo's address for it lasts, and keeps
    it in the database (once, however often the message is delivered)."""

    def __init__(
        self,
        api: ZaloApi,
        files: KeptFiles,
        *,
        limit: int = FILE_LIMIT,
        timeout: float = DOWNLOAD_TIMEOUT,
    ) -> None:
        self._api = api
        self._files = files
        self._limit = limit
        self._timeout = timeout

    async def attachment(self, event: ZaloEvent) -> Attachment | None:
        """The kept photo or voice note an event carries; None for any other event (and
        for a group's, which the bot does not take). Raises ``FileNotKept``."""
        url = {IMAGE_RECEIVED: event.photo_url, VOICE_RECEIVED: event.voice_url}.get(
            event.event_name
        )
        if url is None or not event.is_private:
            return None
        what = _WHAT[event.event_name]
        try:
            fetched = await self._api.download(url, limit=self._limit, timeout=self._timeout)
        except ZaloFileTooLarge:
            log.info("Zalo message %s: the file is over %s bytes", event.message_id, self._limit)
            raise FileNotKept(
                _("Sorry, {what} is larger than {limit} MB, more than I can keep. Please send "
                  "a smaller one.", what=what, limit=self._limit // MEGABYTE)
            ) from None  # fmt: skip
        except ZaloDownloadFailed as error:
            log.warning("Zalo message %s: the file was not fetched: %s", event.message_id, error)
            raise FileNotKept(_couldnt(what)) from None
        mime_type = _type_of(event.event_name, fetched)
        if mime_type is None:
            log.warning("Zalo message %s: the file is not a %s", event.message_id,
                        _KINDS[event.event_name])  # fmt: skip
            raise FileNotKept(_couldnt(what))
        kept = await self._files.keep(fetched.data, mime_type)
        return Attachment(_KINDS[event.event_name], kept.file_id, kept.digest, kept.size, None,
                          mime_type)  # fmt: skip


def _couldnt(what: Text) -> Text:
    """Asks the member to send the file again."""
    return _("Sorry, I could not receive {what}. Please send it again.", what=what)


def _type_of(event_name: str, fetched: Download) -> str | None:
    """What the fetched bytes are, read from them: a photo must be a picture; a voice note
    a recording, or kept as bytes of an unknown kind (served only as a download)."""
    if not fetched.data:
        return None
    sniffed = sniffed_type(fetched.data)
    if event_name == IMAGE_RECEIVED:
        return sniffed if sniffed is not None and sniffed.startswith("image/") else None
    return sniffed if sniffed is not None and sniffed.startswith("audio/") else OCTET_STREAM


def parse_command(text: str) -> Command:
    """Read ``/name argument`` into a command; the argument may span lines."""
    head, *rest = text.strip().split(None, 1)
    return Command(name=head[1:].lower(), argument=rest[0].strip() if rest else "")


def payload_of(event: ZaloEvent, attachment: Attachment | None = None) -> Payload | None:
    """What the member did, in the core's terms (with the photo or voice note the bot
    kept); None for an event the bot does not take (a group's, one the platform
    withholds), which gets ``UNSUPPORTED_HERE``."""
    if not event.is_private:
        return None
    if event.event_name == TEXT_RECEIVED:
        text = event.text or ""
        if not text.strip():
            return None
        if text.lstrip().startswith("/"):
            return parse_command(text)
        return TextMessage(text)
    if attachment is not None:
        return FileShared(attachment, (event.caption or "").strip())
    kind = _UNSUPPORTED_KINDS.get(event.event_name)
    return Unsupported(kind) if kind is not None else None


def inbound_of(event: ZaloEvent, attachment: Attachment | None = None) -> Inbound | None:
    """The core event for a Zalo event; its message_id makes redelivery harmless, since
    Zalo numbers no updates."""
    payload = payload_of(event, attachment)
    if payload is None:
        return None
    return Inbound(
        sender=Sender(CHANNEL, event.sender_id, event.sender_name),
        payload=payload,
        event_id=f"zalo:{event.message_id}",
    )
