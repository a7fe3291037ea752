"""An initiative's files on its page: photos shown, recordings played, documents
downloaded. Each request re-checks in the core that the admin may read the initiative
(evidence may be confidential); the bytes come from the database for a file the bot
keeps, else from the channel that keeps it, by its file id."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from domain.kept import digest_of, sniffed_type
from domain.model import Attachment, AttachmentKind, Initiative, Member
from domain.ports import UnitOfWork
from domain.ports_files import FileUnavailable
from domain.review_queue import OpenedFile, open_file
from domain.text import Text
from handlers.public_files import EXTENSIONS
from handlers.web.context import PREFIX, Web, staff
from handlers.web.words import WORDS

log = logging.getLogger(__name__)

# The Bot API hands out files of at most 20 MB; nothing larger is fetched for a page.
FETCHED_MAX = 20 * 1024 * 1024
# A file is a bare resource: no script, no style, no frame, whatever its bytes say.
FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Confidential evidence: kept by this browser only, and not for long.
    "Cache-Control": "private, max-age=300",
}
# What a kind of file may be shown as, by the family of the type its bytes have.
_SHOWN_AS = {
    AttachmentKind.PHOTO: ("image/",),
    AttachmentKind.VOICE: ("audio/",),
    AttachmentKind.VIDEO_NOTE: ("video/", "audio/mp4"),
}
# How the page shows each kind of file; any other is downloaded.
_SHOWN = {
    AttachmentKind.PHOTO: "image",
    AttachmentKind.VOICE: "audio",
    AttachmentKind.VIDEO_NOTE: "video",
}
# A name a download may carry as it is (the rest is in the RFC 5987 form too).
_PLAIN = re.compile(r"[^A-Za-z0-9._-]+")
NAME_MAX = 120


@dataclass(frozen=True, slots=True)
class ShownFile:
    """One file as the initiative's page shows it."""

    kind: str
    name: str
    url: str
    # "image", "audio", "video", "download", or "elsewhere" (cannot be shown here).
    shown: str


def shown_files(initiative: Initiative, fetchable: bool) -> list[ShownFile]:
    """Each file of the initiative, with its address and how the page shows it."""
    files = []
    for number, attachment in enumerate(initiative.attachments, start=1):
        url = f"{PREFIX}/initiatives/{initiative.id}/files/{number}"
        reachable = fetchable or digest_of(attachment.file_id) is not None
        shown = _SHOWN.get(attachment.kind, "download") if reachable else "elsewhere"
        files.append(ShownFile(attachment.kind.value, attachment.file_name or "", url, shown))
    return files


def media_type(kind: AttachmentKind, data: bytes) -> str | None:
    """The type to show the bytes as, read from them; None when they are not what the
    kind of file may be shown as (then they are only downloaded)."""
    sniffed = sniffed_type(data)
    if sniffed is None or not sniffed.startswith(_SHOWN_AS.get(kind, ())):
        return None
    # A round video is an MP4: its bytes read as an ISO media file, a recording.
    return "video/mp4" if kind is AttachmentKind.VIDEO_NOTE else sniffed


def download_name(attachment: Attachment, number: int, data: bytes) -> str:
    """The name a download is saved as: the sender's, else one made of its kind."""
    name = (attachment.file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip(" .")[:NAME_MAX]
    if name:
        return name
    extension = EXTENSIONS.get(sniffed_type(data) or "", "")
    return f"{attachment.kind.value}-{number}{extension}"


def disposition(kind: str, name: str) -> str:
    """A Content-Disposition header: an ASCII name for old browsers, the real one in
    RFC 5987's UTF-8 form."""
    plain = _PLAIN.sub("_", name).strip("_") or "file"
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


class FilePages:
    """The files of an initiative, one request each, each re-checked."""

    def __init__(self, view: Web) -> None:
        self._config = view.config
        self._pages = view.pages

    def routes(self) -> web.RouteTableDef:
        """The files' route."""
        table = web.RouteTableDef()
        table.get(r"/initiatives/{id:\d{1,18}}/files/{n:\d{1,4}}", name="file")(self.file)
        return table

    async def file(self, request: web.Request) -> web.StreamResponse:
        """One file: shown inline when its bytes are a picture or a recording of its kind,
        else downloaded."""
        member = staff(request).member
        initiative_id, number = int(request.match_info["id"]), int(request.match_info["n"])

        async def case(uow: UnitOfWork, actor: Member, now: dt.datetime) -> OpenedFile:
            return await open_file(uow, actor, initiative_id, number, now)

        opened = await self._config.actions.run(member.id, case)
        data = await self._bytes(opened, member, initiative_id)
        if isinstance(data, web.Response):
            return data
        attachment = opened.attachment
        name = download_name(attachment, number, data)
        shown = None if "download" in request.query else media_type(attachment.kind, data)
        headers = {**FILE_HEADERS, "Content-Disposition": disposition(
            "inline" if shown else "attachment", name)}  # fmt: skip
        return web.Response(body=data, content_type=shown or "application/octet-stream",
                            headers=headers)  # fmt: skip

    async def _bytes(
        self, opened: OpenedFile, member: Member, initiative_id: int
    ) -> bytes | web.Response:
        """The file's bytes, or the page saying why there are none."""
        if opened.kept is not None:
            return opened.kept.data
        attachment, source = opened.attachment, self._config.channel_files
        if source is None:
            return self._refusal(404, member, WORDS["file_elsewhere"])
        if attachment.file_size is not None and attachment.file_size > FETCHED_MAX:
            return self._refusal(404, member, WORDS["file_too_large"])
        try:
            return await source.fetch(attachment.file_id, FETCHED_MAX)
        except FileUnavailable as error:
            log.warning("web: a file of initiative %s could not be fetched: %s",
                        initiative_id, error)  # fmt: skip
            return self._refusal(502, member, WORDS["file_failed"])

    def _refusal(self, status: int, member: Member, text: Text) -> web.Response:
        """The plain page saying why the file is not here."""
        return self._pages.message(status, member.language, text)
