"""An initiative's files on the web view: photos shown, recordings played, documents
downloaded, each re-checked at its request (confidential evidence only to those
entitled); a Telegram file fetched through the Bot API; and what is said when a file
cannot be had."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from aiohttp import ClientResponse

from domain.kept import KeptFile, digest
from domain.model import Attachment, AttachmentKind
from domain.text import Text
from handlers.web.words import WORDS
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import StartBot, seed_units
from tests.fakebotapi import FilesBotApi, Harness
from tests.test_review import grant, setup, submit
from tests.web_world import PUBLIC_URL, sign_in, web_client

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(300)
OGG = b"OggS\x00\x02" + bytes(300)
MP4 = b"\x00\x00\x00\x18ftypisom" + bytes(300)
PDF = b"%PDF-1.4\n" + bytes(300)
# A "photo" whose bytes are a page: never served as one.
PAGE = b"<html><script>alert(1)</script></html>"
TELEGRAM_PHOTO = "AgACAgIAAxkBAAIBtelegramphoto"
SIBLING_ADMIN = 9501
FILES = "/web/initiatives/1/files"


async def files_bot(start_bot: StartBot, database_url: str) -> tuple[Harness, FilesBotApi]:
    """The bot with its web view, on a fake Bot API that keeps files."""
    await seed_units(database_url)
    api = FilesBotApi()
    api.files[TELEGRAM_PHOTO] = JPEG
    return await start_bot(api, public_url=PUBLIC_URL), api


async def attach(
    database_url: str, files: list[tuple[AttachmentKind, str | bytes, str | None]],
    confidential: bool = False,
) -> None:  # fmt: skip
    """Give initiative 1 these files (a Telegram file id, or bytes the bot keeps)."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            initiative = await uow.initiatives.get(1)
            assert initiative is not None
            attachments = []
            for position, (kind, content, name) in enumerate(files):
                file_id = content if isinstance(content, str) else f"kept:{digest(content)}"
                if isinstance(content, bytes):
                    await uow.files.add(KeptFile(digest(content), "image/jpeg", len(content),
                                                 NOW, None, content))  # fmt: skip
                attachments.append(Attachment(kind, file_id, f"u{position}", file_name=name))
            initiative.attachments = attachments
            if confidential:
                initiative.confidential = True
                initiative.confidential_note = "Bản vẽ khuôn của công ty"
            await uow.initiatives.save(initiative)
            await uow.commit()
    finally:
        units_of_work.dispose()
        await engine.dispose()


def said(bot: Harness, text: Text) -> str:
    """A text as the web view says it, in Vietnamese."""
    rendered: str = bot.runtime.graph.translator.render(text, "vi")
    return rendered


def assert_guarded(response: ClientResponse) -> None:
    """The headers every file is served with."""
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"].startswith("private")


async def test_each_kind_of_file_is_shown_played_or_downloaded(
    start_bot: StartBot, database_url: str
) -> None:
    bot, api = await files_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await attach(database_url, [
        (AttachmentKind.PHOTO, TELEGRAM_PHOTO, None),
        (AttachmentKind.VOICE, OGG, None),
        (AttachmentKind.VIDEO_NOTE, MP4, None),
        (AttachmentKind.DOCUMENT, PDF, 'Bản vẽ/giá treo "mới".pdf'),
        (AttachmentKind.PHOTO, PAGE, None),
    ])  # fmt: skip
    async with web_client(bot) as client:
        await sign_in(client, a)
        page = await (await client.get("/web/queue/1")).text()
        assert f'<img src="{FILES}/1"' in page
        assert f'<audio controls preload="none" src="{FILES}/2"></audio>' in page
        assert f'<video controls preload="metadata" playsinline src="{FILES}/3"></video>' in page
        assert f'href="{FILES}/4?download=1"' in page and "giá treo &#34;mới&#34;.pdf" in page
        expected = [("image/jpeg", "inline", JPEG), ("audio/ogg", "inline", OGG),
                    ("video/mp4", "inline", MP4), ("application/octet-stream", "attachment", PDF),
                    ("application/octet-stream", "attachment", PAGE)]  # fmt: skip
        for number, (content_type, disposition, data) in enumerate(expected, start=1):
            served = await client.get(f"{FILES}/{number}")
            assert served.status == 200, number
            assert served.content_type == content_type, number
            assert served.headers["Content-Disposition"].startswith(disposition), number
            assert await served.read() == data, number
            assert_guarded(served)
        document = await client.get(f"{FILES}/4")
        assert document.headers["Content-Disposition"] == (
            "attachment; filename=\"gi_treo_m_i_.pdf\"; filename*=UTF-8''"
            + quote('giá treo "mới".pdf', safe="")
        ), "the sender's name, without its folder, safely quoted"
        voice = await client.get(f"{FILES}/2?download=1")
        assert voice.headers["Content-Disposition"].startswith('attachment; filename="voice-2.ogg')
        assert await voice.read() == OGG
    fetched = [call.params["file_id"] for call in api.calls if call.method == "getFile"]
    assert fetched == [TELEGRAM_PHOTO], "only the Telegram file is fetched, through getFile"
    assert api.downloads == [f"documents/{TELEGRAM_PHOTO}"]


async def test_files_are_refused_outside_the_admins_units_and_to_strangers(
    start_bot: StartBot, database_url: str
) -> None:
    bot, api = await files_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await attach(database_url, [(AttachmentKind.PHOTO, TELEGRAM_PHOTO, None),
                                (AttachmentKind.VOICE, OGG, None)])  # fmt: skip
    await grant(database_url, "HN-LB-DUCGIANG", SIBLING_ADMIN)
    async with web_client(bot) as client:
        for number in (1, 2):
            assert (await client.get(f"{FILES}/{number}")).status == 401, "signed out"
        await sign_in(client, bot.member(SIBLING_ADMIN, "Hà"))
        for number in (1, 2):
            refused = await client.get(f"{FILES}/{number}")
            assert refused.status == 403, number
            assert "Bạn không có quyền xem sáng kiến này." in await refused.text()
    async with web_client(bot) as client:
        await sign_in(client, a)
        missing = await client.get(f"{FILES}/3")
        assert missing.status == 404
        assert said(bot, Text("This initiative has no such file.")) in await missing.text()
        assert (await client.get("/web/initiatives/99/files/1")).status == 404
    assert not [call for call in api.calls if call.method == "getFile"], "nothing was fetched"


async def test_confidential_evidence_goes_only_to_those_entitled(
    start_bot: StartBot, database_url: str
) -> None:
    bot, _api = await files_bot(start_bot, database_url)
    worker, a, _b, upper = await setup(bot, database_url)
    await submit(worker)
    await attach(database_url, [(AttachmentKind.PHOTO, JPEG, None)], confidential=True)
    await grant(database_url, "TH", SIBLING_ADMIN)
    async with web_client(bot) as client:
        await sign_in(client, upper)
        shown = await client.get(f"{FILES}/1")
        assert shown.status == 200 and await shown.read() == JPEG, "a reviewer above may see it"
        assert shown.headers["Cache-Control"].startswith("private")
    async with web_client(bot) as client:
        await sign_in(client, bot.member(SIBLING_ADMIN, "Hà"))
        assert (await client.get(f"{FILES}/1")).status == 403, "another province's admin"
    async with web_client(bot) as client:
        await sign_in(client, a)
        assert (await client.get(f"{FILES}/1")).status == 200
        await grant(database_url, "HN-LB-MAY10", a.id, revoke=True)
        assert (await client.get(f"{FILES}/1")).status == 403, "re-checked at each request"


async def test_a_telegram_file_that_cannot_be_had_is_said_so(
    start_bot: StartBot, database_url: str
) -> None:
    bot, _api = await files_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await attach(database_url, [(AttachmentKind.PHOTO, "AgACAgIAAxkBAAIBgone", None)])
    async with web_client(bot) as client:
        await sign_in(client, a)
        failed = await client.get(f"{FILES}/1")
        assert failed.status == 502
        assert said(bot, WORDS["file_failed"]) in await failed.text()
    # Without Telegram's bot (a Zalo-only bot), its files are listed, not shown.
    bot.runtime.channel_files = None
    async with web_client(bot) as client:
        await sign_in(client, a)
        page = await (await client.get("/web/queue/1")).text()
        assert said(bot, WORDS["file_elsewhere"]) in page and "<img" not in page
        elsewhere = await client.get(f"{FILES}/1")
        assert elsewhere.status == 404
        assert said(bot, WORDS["file_elsewhere"]) in await elsewhere.text()
