"""Zalo out, pictures included. sendPhoto takes only a public https address, so with
``PUBLIC_URL`` set a reply's picture (a chart, a card, a QR code, a photo) goes as a
photo with its text as caption, its photos as photos and its voice notes as a line with
a link to listen, all fetched by Zalo from the bot's own address (``bot.web``). Drawn
pictures are kept only as long as their links last. Files sent on Telegram cannot be
fetched from there: a line names them instead. Without ``PUBLIC_URL`` the text goes
alone."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from charts import render_card, render_png
from charts.qr import qr_png
from domain.kept import KeptFile, KeptFiles, digest, digest_of
from domain.model import Attachment, AttachmentKind
from domain.reports import XLSX_TYPE
from domain.text import Moment, Text, Verbatim, _
from domain.ui import Reply, caption_length
from handlers.public_files import PublicFiles
from handlers.zalo.api import (
    ZaloApi,
    ZaloError,
    ZaloForbidden,
    ZaloRateLimited,
    ZaloUnauthorized,
)
from handlers.zalo.render import CAPABILITIES, choice_lines, pieces, render, split_text
from locales import Translator

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Photo:
    """A picture Zalo fetches from ``url``, with the text under it."""

    url: str
    caption: str | None = None


# One message on Zalo: a text, or a photo.
Message = str | Photo
# A queued message's own picture: a file id (a channel's, or a kept file's), and the
# bytes of a picture drawn for it.
Picture = tuple[str | None, bytes | None]
NO_PICTURE: Picture = (None, None)
# A report asked for on Zalo, when the bot has no public address to link it at.
NO_FILES = _("Zalo cannot receive files: export this report from Telegram, the web page "
             "or the command line.")  # fmt: skip
JSON_TYPE = "application/json"
# Drawn pictures remembered as kept, so that one sent to many is stored once.
_REMEMBERED = 64

# Files sent on Telegram, named in a line since Zalo cannot fetch them.
_ON_TELEGRAM: dict[AttachmentKind, Text] = {
    AttachmentKind.PHOTO: _("🖼 A photo"),
    AttachmentKind.VOICE: _("🎤 A voice message"),
    AttachmentKind.VIDEO_NOTE: _("🎥 A video message"),
    AttachmentKind.DOCUMENT: _("📎 A file"),
}


class ZaloPictures:
    """Turns a reply into Zalo messages with its pictures and files, when the bot has a
    public address to serve them from."""

    def __init__(
        self,
        translator: Translator,
        files: KeptFiles | None = None,
        public: PublicFiles | None = None,
    ) -> None:
        self._translator = translator
        self._files = files
        self._public = public
        self._drawn: OrderedDict[str, KeptFile] = OrderedDict()

    async def messages(
        self, reply: Reply, language: str, picture: Picture = NO_PICTURE
    ) -> list[Message]:
        """What shows the reply: its picture with the text as caption (the text first when
        longer than a caption), then its photos; only the texts without an address."""
        if reply.document is not None:
            return self._document(reply, language, await self._document_link(reply))
        if self._files is None or self._public is None:
            return list(render(reply, self._translator, language))
        say = self._translator
        lines, photos = self._media(reply.media, language)
        url, named = await self._picture(reply, language, picture)
        lines += named
        text = "\n".join(part for part in (say.lines(reply.text, language), *lines) if part)
        choices = choice_lines(reply, say, language)
        if url is None:
            return [*pieces(text, choices), *photos]
        whole = "\n".join(part for part in (text, choices) if part)
        if not whole.strip():
            return [Photo(url), *photos]
        if caption_length(whole) <= CAPABILITIES.caption_limit:
            return [Photo(url, whole), *photos]
        return [*pieces(text, choices), Photo(url), *photos]

    async def _document_link(self, reply: Reply) -> tuple[str, dt.datetime] | None:
        """A file (a report) kept for as long as its link lasts, and that link; None
        without a public address. Zalo's bots cannot send files, only texts and photos."""
        if self._files is None or self._public is None or reply.document is None:
            return None
        # A member's copy of their data may be JSON; reports are workbooks.
        json_file = reply.document.file_name.endswith(".json")
        mime_type = JSON_TYPE if json_file else XLSX_TYPE
        kept = await self._files.keep(reply.document.data, mime_type, self._public.lifetime)
        expires = kept.expires_at or self._public.expiry()
        return self._public.url(kept.digest, kept.mime_type, expires), expires

    def _document(
        self, reply: Reply, language: str, link: tuple[str, dt.datetime] | None
    ) -> list[Message]:
        """The reply's text with the link to its file, or with where to get the file."""
        if link is None:
            line = (reply.document.unsent if reply.document else None) or NO_FILES
        else:
            line = _("📥 Download the file (the link works until {moment}): {link}",
                     moment=Moment(link[1]), link=Verbatim(link[0]))  # fmt: skip
        say = self._translator
        text = "\n".join((say.lines(reply.text, language), say.render(line, language)))
        return list(pieces(text, choice_lines(reply, say, language)))

    def _media(self, media: Sequence[Attachment], language: str) -> tuple[list[str], list[Message]]:
        """An initiative's files: lines (links to listen, files sent on Telegram) and
        photos."""
        lines: list[str] = []
        photos: list[Message] = []
        for attachment in media:
            found = self._link(attachment.file_id, attachment.mime_type)
            if found is None:
                lines.append(self._say(_on_telegram(attachment), language))
            elif attachment.kind is AttachmentKind.PHOTO:
                photos.append(Photo(found))
            elif attachment.kind is AttachmentKind.VOICE:
                lines.append(self._say(_("🎤 Voice message, to listen: {link}",
                                         link=Verbatim(found)), language))  # fmt: skip
            else:
                lines.append(self._say(_("📎 A file, to open: {link}", link=Verbatim(found)),
                                       language))  # fmt: skip
        return lines, photos

    async def _picture(
        self, reply: Reply, language: str, picture: Picture
    ) -> tuple[str | None, list[str]]:
        """The address of the reply's one picture, or a line naming a photo that was
        sent on Telegram."""
        photo, image = picture
        if image is None:
            image = await self._drawing(reply, language)
        if image is not None:
            return await self._keep_drawn(image), []
        photo = photo or reply.photo
        if photo is None:
            return None, []
        found = self._link(photo, "image/jpeg")
        if found is None:
            return None, [self._say(_on_telegram(None), language)]
        return found, []

    async def _drawing(self, reply: Reply, language: str) -> bytes | None:
        """The reply's chart, card or QR code, drawn (in a thread: matplotlib is slow)."""
        if reply.chart is not None:
            return await asyncio.to_thread(render_png, reply.chart, self._translator, language)
        if reply.card is not None:
            return await asyncio.to_thread(render_card, reply.card, self._translator, language)
        if reply.qr is not None:
            return qr_png(reply.qr)
        return None

    def _link(self, file_id: str, mime_type: str | None) -> str | None:
        """A link to a kept file (members' files are kept for good); None for a channel's
        own file id."""
        assert self._public is not None
        name = digest_of(file_id)
        return self._public.url(name, mime_type or "") if name is not None else None

    async def _keep_drawn(self, image: bytes) -> str:
        """A drawn picture kept for as long as its link lasts, and that link. A picture
        sent to many (a commendation card) is stored once while its link has time."""
        assert self._files is not None and self._public is not None
        name = digest(image)
        known = self._drawn.get(name)
        fresh = self._public.expiry() - self._public.lifetime / 2
        if known is None or known.expires_at is None or known.expires_at < fresh:
            known = await self._files.keep(image, "image/png", self._public.lifetime)
            self._drawn[name] = known
            if len(self._drawn) > _REMEMBERED:
                self._drawn.popitem(last=False)
        self._drawn.move_to_end(name)
        return self._public.url(known.digest, known.mime_type, known.expires_at)

    def _say(self, text: Text, language: str) -> str:
        """A line in the reader's language."""
        return self._translator.render(text, language)


def _on_telegram(attachment: Attachment | None) -> Text:
    """A line naming a file sent on Telegram (a reply's photo when None)."""
    kind = attachment.kind if attachment is not None else AttachmentKind.PHOTO
    what = _ON_TELEGRAM[kind]
    if attachment is not None and kind is AttachmentKind.DOCUMENT and attachment.file_name:
        what = _("📎 {name}", name=Verbatim(attachment.file_name))
    return _("{what}, sent on Telegram: it cannot be shown on Zalo.", what=what)


async def deliver(api: ZaloApi, chat_id: str, message: Message) -> str | None:
    """Send one message; the sent message's id when Zalo gave one. A photo Zalo would
    not take (it could not fetch the address) leaves its text to go alone."""
    if not isinstance(message, Photo):
        return await api.send_message(chat_id, message)
    try:
        return await api.send_photo(chat_id, message.url, message.caption)
    except (ZaloRateLimited, ZaloForbidden, ZaloUnauthorized):
        raise
    except ZaloError as error:
        log.warning("Zalo did not take a photo for %s (%s): its text goes alone", chat_id, error)
        if not message.caption:
            return None
    sent = None
    for piece in split_text(message.caption):
        sent = await api.send_message(chat_id, piece)
    return sent
