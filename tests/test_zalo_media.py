"""Photos and voice notes on Zalo, and pictures sent to Zalo: a member's file is fetched
and kept by the bot before Zalo's address for it expires, then goes through the same
dialog as a Telegram photo or voice message; pictures reach Zalo readers as photos at
the bot's public address (PUBLIC_URL), or the text alone without one."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.settings import UNION_TIMEZONE, Settings, SettingsError
from domain.delivery import BroadcastExtras
from domain.kept import KeptFiles, digest, sniffed_type
from domain.model import Attachment, AttachmentKind
from domain.text import _, verbatim
from domain.ui import Bar, Chart, Reply
from domain.upkeep import Upkeep
from handlers.public_files import PublicFiles, link_key
from handlers.zalo.api import FILE_LIMIT
from handlers.zalo.fake_files import PHOTO, VOICE
from handlers.zalo.pictures import Photo, ZaloPictures
from locales import Translator
from storage.db import create_engine
from storage.models import AttachmentRow, KeptFileRow
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import Clock, StartBot, seed_units
from tests.fakebotapi import TOKEN, Call, Harness
from tests.scenario import MAY10, join
from tests.test_review import ADMIN_A, grant
from tests.test_review_typed import ZALO_ADMIN, card_seen
from tests.zalo_world import Worker, answer_solution_to_coauthors, zalo_admins, zalo_worker
from tests.zalo_world import start_draft as open_draft

_LINK = re.compile(r"https?://\S+/files/\S+")
_VI = Translator(UNION_TIMEZONE)
# What the bot says, in Vietnamese as the catalog has it.
VOICE_TAKEN = _VI.render(_("Recording received: {recording}.", recording=_("🎤 recording")), "vi")
TOO_LARGE = _VI.render(_("Sorry, {what} is larger than {limit} MB, more than I can keep. "
                         "Please send a smaller one.", what=_("this voice message"),
                         limit=20), "vi")  # fmt: skip
NOT_RECEIVED = _VI.render(_("Sorry, I could not receive {what}. Please send it again.",
                            what=_("this photo")), "vi")  # fmt: skip


@asynccontextmanager
async def public_bot(start_bot: StartBot, database_url: str) -> AsyncIterator[Worker]:
    """The bot with its Zalo channel on and a public address, its HTTP side really
    serving there, and a worker."""
    await seed_units(database_url)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        public = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with zalo_worker(start_bot, public_url=public) as worker:
            runner = web.AppRunner(worker.harness.runtime.http_side(False))
            await runner.setup()
            await web.SockSite(runner, sock).start()
            try:
                yield worker
            finally:
                await runner.cleanup()


async def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    """GET ``url`` as Zalo's servers would: status, body and headers."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.read(), dict(response.headers)


async def counts(database_url: str) -> tuple[int, int]:
    """Kept files, and attachments of initiatives."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            files = await connection.scalar(select(func.count()).select_from(KeptFileRow))
            attached = await connection.scalar(select(func.count()).select_from(AttachmentRow))
        return int(files or 0), int(attached or 0)
    finally:
        await engine.dispose()


async def stored_attachments(database_url: str) -> list[tuple[str, str, str | None]]:
    """The first initiative's (kind, file id, answer) of each attachment."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            initiative = await uow.initiatives.get(1)
        assert initiative is not None
        return [(a.kind.value, a.file_id, a.answer) for a in initiative.attachments]
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def start_draft(zalo: Worker) -> None:
    """Join May 10 and answer up to the question about the situation before."""
    await open_draft(zalo)
    await zalo.say("Giá treo cuộn chỉ xoay")
    await zalo.choose("Giải pháp kỹ thuật")
    answer = await zalo.say("san xuat")
    assert "Trước đây tình hình thế nào" in answer[-1], answer


async def submit_with_files(zalo: Worker) -> None:
    """A whole initiative whose situation before is a voice note, with a photo."""
    await start_draft(zalo)
    answer = await zalo.voice()
    assert VOICE_TAKEN in answer[-1], answer
    await zalo.choose("Xong")
    await answer_solution_to_coauthors(zalo)
    answer = await zalo.photo(caption="Giá treo sau khi lắp")
    assert any("1/10" in text for text in answer), answer
    await zalo.choose("Xong")
    await zalo.choose("Không")
    answer = await zalo.choose("Gửi")
    assert any("SK-000001" in text for text in answer), answer


async def test_a_zalo_workers_photo_and_voice_note_reach_a_telegram_reviewer(
    zalo: Worker, database_url: str
) -> None:
    await grant(database_url, MAY10, ADMIN_A)
    await submit_with_files(zalo)
    assert await stored_attachments(database_url) == [
        ("voice", f"kept:{digest(VOICE)}", "problem"),
        ("photo", f"kept:{digest(PHOTO)}", None),
    ]
    await zalo.harness.settle()
    admin = zalo.harness.member(ADMIN_A, "An")
    calls = await admin.tap("Xem đầy đủ")
    uploads = {call.method: call.files for call in calls if call.files}
    # Telegram cannot fetch Zalo's files: the bot uploads the bytes it kept.
    assert list(uploads["sendPhoto"].values()) == [PHOTO], calls
    assert list(uploads["sendVoice"].values()) == [VOICE], calls


async def test_a_zalo_reviewer_gets_the_photo_at_the_bots_public_address(
    start_bot: StartBot, database_url: str, clock: Clock
) -> None:
    async with public_bot(start_bot, database_url) as zalo:
        await zalo_admins(database_url, ZALO_ADMIN, unit_code=MAY10)
        admin = Worker(zalo.fake, zalo.channel, ZALO_ADMIN, zalo.harness)
        await submit_with_files(zalo)
        await card_seen(zalo, database_url)
        answer = await admin.choose("Xem đầy đủ")
        photos = zalo.fake.photos(ZALO_ADMIN)
        assert len(photos) == 1 and photos[0].photo_url is not None, photos
        url = photos[0].photo_url
        status, body, headers = await fetch(url)
        assert (status, body) == (200, PHOTO)
        assert headers["Content-Type"] == "image/png"
        assert headers["Cache-Control"] == "private"
        # The voice note: a line with a link to listen.
        links = [link for text in answer for link in _LINK.findall(text)]
        assert len(links) == 1, answer
        status, body, headers = await fetch(links[0])
        assert (status, body, headers["Content-Type"]) == (200, VOICE, "audio/mp4")

        stamp, name, mac = url.rsplit("/", 1)[1].removesuffix(".jpg").split("-")
        base = url.rsplit("/", 1)[0]
        other = "0" if mac[0] != "0" else "1"
        for tampered in (f"{base}/{stamp}-{name}-{other}{mac[1:]}.jpg",
                         f"{base}/{int(stamp) + 3600}-{name}-{mac}.jpg",
                         f"{base}/{stamp}-{digest(VOICE)}-{mac}.jpg",
                         f"{base}/", base, f"{base}/{name}"):  # fmt: skip
            assert (await fetch(tampered))[0] == 404, tampered
        async with aiohttp.ClientSession() as session, session.post(url) as response:
            assert response.status == 405
        clock.now += dt.timedelta(hours=72, seconds=1)
        assert (await fetch(url))[0] == 404


async def test_a_file_too_large_or_not_fetched_is_asked_again_and_loses_nothing(
    zalo: Worker, database_url: str
) -> None:
    await start_draft(zalo)
    await zalo.say("Công nhân phải cúi người thay cuộn chỉ.")
    too_large = PHOTO + bytes(FILE_LIMIT)
    for url in (zalo.fake.host(too_large), zalo.fake.host(too_large, chunked=True)):
        answer = await zalo.voice(url)
        assert answer == [TOO_LARGE], answer
    failing = zalo.fake.host(VOICE, status=500)
    for url in (failing, zalo.fake.host(b"<html>not a photo</html>", "text/html")):
        answer = await zalo.photo(url)
        assert answer == [NOT_RECEIVED], answer
    assert await counts(database_url) == (0, 0)
    # The draft is where it was, its answer as typed: the next message adds to it.
    answer = await zalo.voice()
    assert VOICE_TAKEN in answer[-1], answer
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            draft = await uow.initiatives.get(1)
    finally:
        units_of_work.dispose()
        await engine.dispose()
    assert draft is not None and draft.problem == "Công nhân phải cúi người thay cuộn chỉ."
    assert [a.file_id for a in draft.attachments] == [f"kept:{digest(VOICE)}"]


async def test_a_photo_delivered_twice_is_kept_and_attached_once(
    zalo: Worker, database_url: str
) -> None:
    await submit_until_files(zalo)
    first = await zalo.photo(message_id="photo-1")
    again = await zalo.photo(message_id="photo-1")
    assert any("1/10" in text for text in first) and again == [], (first, again)
    await zalo.choose("Xong")
    await zalo.choose("Không")
    await zalo.choose("Gửi")
    assert await counts(database_url) == (1, 1)


async def submit_until_files(zalo: Worker) -> None:
    """A draft answered up to the question asking for photos."""
    await start_draft(zalo)
    await zalo.say("Công nhân phải cúi người thay cuộn chỉ.")
    await zalo.say("xong")
    await zalo.say("Làm giá treo xoay bằng thép tận dụng.")
    await zalo.say("xong")
    await zalo.choose("Tháng này")
    await zalo.say("Giảm thời gian dừng máy.")
    await zalo.say("1.200.000đ")
    await zalo.choose("Không có đồng tác giả")
    answer = zalo.texts()[-1]
    assert "ảnh" in answer, answer


async def test_a_commendation_card_goes_as_a_photo_with_a_public_address(
    start_bot: StartBot, database_url: str, clock: Clock
) -> None:
    async with public_bot(start_bot, database_url) as zalo:
        await zalo_admins(database_url, ZALO_ADMIN, unit_code=MAY10)
        admin = Worker(zalo.fake, zalo.channel, ZALO_ADMIN, zalo.harness)
        await admin.say("/card")
        photos = zalo.fake.photos(ZALO_ADMIN)
        assert len(photos) == 1 and photos[0].caption, zalo.fake.sent(ZALO_ADMIN)
        assert "Thẻ biểu dương" in photos[0].caption
        assert photos[0].photo_url is not None
        status, body, headers = await fetch(photos[0].photo_url)
        assert status == 200 and body.startswith(b"\x89PNG"), status
        assert headers["Content-Type"] == "image/png"
        # The drawn card is kept while its link lasts, then the upkeep job deletes it.
        assert await counts(database_url) == (1, 0)
        await zalo.harness.runtime.jobs.run("forget_events")
        assert await counts(database_url) == (1, 0)
        clock.now += dt.timedelta(hours=72, seconds=1)
        await zalo.harness.runtime.jobs.run("forget_events")
        assert await counts(database_url) == (0, 0)


async def test_a_photo_zalo_will_not_take_leaves_its_text_to_go_alone(
    start_bot: StartBot, database_url: str
) -> None:
    async with public_bot(start_bot, database_url) as zalo:
        await zalo_admins(database_url, ZALO_ADMIN, unit_code=MAY10)
        admin = Worker(zalo.fake, zalo.channel, ZALO_ADMIN, zalo.harness)
        # Zalo could not fetch the address (a PUBLIC_URL its servers do not reach).
        zalo.fake.fail_next("sendPhoto", 400, "Bad request: photo cannot be downloaded")
        answer = await admin.say("/card")
        assert zalo.fake.photos(ZALO_ADMIN) == []
        assert any("Thẻ biểu dương" in text for text in answer), answer


async def test_without_a_public_address_the_card_goes_as_text(
    zalo: Worker, database_url: str
) -> None:
    await zalo_admins(database_url, ZALO_ADMIN, unit_code=MAY10)
    admin = Worker(zalo.fake, zalo.channel, ZALO_ADMIN, zalo.harness)
    answer = await admin.say("/card")
    assert zalo.fake.photos(ZALO_ADMIN) == []
    assert any("Thẻ biểu dương" in text for text in answer), answer
    assert await counts(database_url) == (0, 0)


async def queue_picture(zalo: Worker, database_url: str) -> int:
    """A queued picture with its caption (as the weekly commendation card is) to the
    Zalo worker, once they have joined; how many messages they had before it."""
    await zalo.say(f"/start {MAY10}")
    await zalo.choose("Đúng")
    await zalo.say("đồng ý")
    await zalo.say("Nguyễn Thị Lan")
    await zalo.say("1")
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            member = await uow.members.by_external_id("zalo", zalo.user_id)
        assert member is not None
    finally:
        units_of_work.dispose()
        await engine.dispose()
    seen = len(zalo.fake.messages(zalo.user_id))
    deliveries = zalo.harness.runtime.deliveries
    await deliveries.broadcast("card", Reply((verbatim("Thẻ biểu dương tuần"),)), [member.id],
                               None, BroadcastExtras(image=PHOTO))  # fmt: skip
    return seen


async def test_a_queued_picture_reaches_a_zalo_member_as_a_photo(
    start_bot: StartBot, database_url: str
) -> None:
    async with public_bot(start_bot, database_url) as zalo:
        seen = await queue_picture(zalo, database_url)
        sent = (await zalo.fake.wait_for_messages(zalo.user_id, seen + 1))[-1]
        assert sent.method == "sendPhoto" and sent.caption == "Thẻ biểu dương tuần", sent
        assert sent.photo_url is not None
        assert (await fetch(sent.photo_url))[:2] == (200, PHOTO)


async def test_a_queued_picture_goes_as_its_text_without_a_public_address(
    zalo: Worker, database_url: str
) -> None:
    seen = await queue_picture(zalo, database_url)
    sent = (await zalo.fake.wait_for_messages(zalo.user_id, seen + 1))[-1]
    assert (sent.method, sent.text) == ("sendMessage", "Thẻ biểu dương tuần"), sent


def test_links_cannot_be_made_without_the_key_and_expire() -> None:
    now = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    clock = Clock(now)
    public = PublicFiles("https://bot.congdoan.vn/", link_key("1:secret"), dt.timedelta(hours=1),
                         clock)  # fmt: skip
    stranger = PublicFiles("https://bot.congdoan.vn", link_key("2:other"), dt.timedelta(hours=1),
                           clock)  # fmt: skip
    name = digest(PHOTO)
    url = public.url(name, "image/png")
    assert url.startswith("https://bot.congdoan.vn/files/") and url.endswith(".png")
    last = url.rsplit("/", 1)[1]
    mac = last.removesuffix(".png").rsplit("-", 1)[1]
    assert len(mac) * 4 >= 128
    assert public.digest_of(last) == name
    assert stranger.digest_of(last) is None
    for index, character in enumerate(last):
        changed = last[:index] + ("1" if character != "1" else "2") + last[index + 1 :]
        if not changed.endswith(".png"):
            continue
        assert public.digest_of(changed) is None, changed
    clock.now = now + dt.timedelta(hours=1)
    assert public.digest_of(last) is None
    assert public.path == "/files"
    assert PublicFiles("https://congdoan.vn/bot", b"k" * 32, dt.timedelta(hours=1),
                       clock).path == "/bot/files"  # fmt: skip


async def test_pictures_of_a_reply_on_zalo(units_of_work: SqlUnitOfWorkFactory) -> None:
    clock = Clock(dt.datetime(2026, 12, 5, tzinfo=dt.UTC))
    files = KeptFiles(units_of_work, clock)
    public = PublicFiles("https://bot.congdoan.vn", link_key("1:k"), dt.timedelta(hours=2), clock)
    pictures = ZaloPictures(_VI, files, public)
    voice = await files.keep(VOICE, "audio/mp4")
    media = (
        Attachment(AttachmentKind.PHOTO, "AgACAgIAAxkBAAIB", "AQADAgAD", 1000, None, "image/jpeg"),
        Attachment(AttachmentKind.VOICE, voice.file_id, voice.digest, voice.size, None,
                   "audio/mp4"),
        Attachment(AttachmentKind.DOCUMENT, "BQACAgIAAxkBAAIC", "AQADAgAE", 1000, "so-lieu.xlsx",
                   None),
    )  # fmt: skip
    shown = await pictures.messages(Reply((verbatim("SK-000001"),), media=media), "vi")
    assert len(shown) == 1 and isinstance(shown[0], str), shown
    lines = shown[0].splitlines()
    assert lines[0] == "SK-000001"
    assert lines[1] == _VI.render(_("{what}, sent on Telegram: it cannot be shown on Zalo.",
                                    what=_("🖼 A photo")), "vi")  # fmt: skip
    assert public.digest_of(_LINK.findall(lines[2])[0].rsplit("/", 1)[1]) == voice.digest
    assert "so-lieu.xlsx" in lines[3]
    # A chart under a text too long for a caption: the text first, then the picture.
    chart = Chart(verbatim("Tiến độ"), (Bar("CĐCS May 10", 40.0),), 50.0, verbatim("100%"),
                  verbatim("Hôm nay"))  # fmt: skip
    long = Reply((verbatim("Tiến độ " * 300),), chart=chart)
    shown = await pictures.messages(long, "vi")
    assert [type(message) for message in shown] == [str, str, Photo], shown
    assert isinstance(shown[-1], Photo) and shown[-1].caption is None
    short = await pictures.messages(Reply((verbatim("Tiến độ"),), chart=chart), "vi")
    assert len(short) == 1 and isinstance(short[0], Photo) and short[0].caption == "Tiến độ"
    # Drawn once, kept while its link lasts; then forgotten by the upkeep, while a
    # member's file stays.
    drawn = public.digest_of(short[0].url.rsplit("/", 1)[1])
    assert drawn is not None and await files.get(drawn) is not None
    clock.now += dt.timedelta(hours=2)
    assert await files.get(drawn) is None
    upkeep = Upkeep(units_of_work, clock=clock, timezone=UNION_TIMEZONE, channels={})
    assert await upkeep.forget_expired_files() == 1
    assert await files.get(voice.digest) is not None


async def test_kept_files_are_stored_once_and_live_as_long_as_asked(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    clock = Clock(dt.datetime(2026, 12, 5, tzinfo=dt.UTC))
    files = KeptFiles(units_of_work, clock)
    first = await files.keep(PHOTO, "image/png", dt.timedelta(hours=1))
    await files.keep(PHOTO, "image/png", dt.timedelta(hours=3))
    await files.keep(PHOTO, "image/png", dt.timedelta(minutes=1))
    clock.now += dt.timedelta(hours=2)
    kept = await files.get(first.digest)
    assert kept is not None and kept.data == PHOTO and kept.mime_type == "image/png"
    await files.keep(PHOTO, "image/png")
    clock.now += dt.timedelta(days=365)
    assert await files.forget_expired() == 0
    assert await files.get(first.digest) is not None
    assert await files.get("0" * 64) is None and await files.get("not a digest") is None


def test_what_a_file_is_comes_from_its_bytes() -> None:
    assert sniffed_type(PHOTO) == "image/png"
    assert sniffed_type(VOICE) == "audio/mp4"
    assert sniffed_type(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sniffed_type(b"#!AMR\n") == "audio/amr"
    assert sniffed_type(b"\x00\x00\x00\x18ftypheic") == "image/heic"
    assert sniffed_type(b"<html><script>") is None
    assert sniffed_type(b"") is None


def test_the_public_address_is_checked() -> None:
    base = {"TELEGRAM_BOT_TOKEN": TOKEN}
    settings = Settings.from_mapping({**base, "PUBLIC_URL": "https://bot.congdoan.vn/"})
    assert settings.public_url == "https://bot.congdoan.vn"
    assert settings.public_link_hours == 72
    hours = Settings.from_mapping({**base, "PUBLIC_LINK_HOURS": "12"})
    assert (hours.public_url, hours.public_link_hours) == ("", 12)
    for wrong in ("http://bot.congdoan.vn", "bot.congdoan.vn", "https://", "https://x.vn/?a=1"):
        with pytest.raises(SettingsError, match="PUBLIC_URL"):
            Settings.from_mapping({**base, "PUBLIC_URL": wrong})
    for wrong in ("0", "abc", "nan", "100000"):
        with pytest.raises(SettingsError, match="PUBLIC_LINK_HOURS"):
            Settings.from_mapping({**base, "PUBLIC_LINK_HOURS": wrong})


async def member_ids(database_url: str, channel: str, *external_ids: str) -> list[int]:
    """The members known to a channel by these ids."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            found = [await uow.members.by_external_id(channel, id_) for id_ in external_ids]
        return [member.id for member in found if member is not None]
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def photo_to(bot: Harness, chat_id: int) -> Call:
    """The first photo Telegram was asked to show in the chat, once it is."""
    async with asyncio.timeout(10):
        while not bot.api.photos_to(chat_id):  # noqa: ASYNC110 - the fake's record
            await asyncio.sleep(0.01)
    return bot.api.photos_to(chat_id)[0]


async def test_a_kept_photo_in_a_broadcast_is_uploaded_to_telegram_once(
    bot: Harness, database_url: str
) -> None:
    an, binh = bot.member(6001, "An"), bot.member(6002, "Bình")
    await join(an)
    await join(binh, name="Trần Thị Bình")
    kept = await bot.runtime.graph.files.keep(PHOTO, "image/png")
    # An announcement's photo a Zalo admin sent, to one member and then another.
    photos = []
    for member in (an, binh):
        ids = await member_ids(database_url, "telegram", str(member.id))
        await bot.runtime.deliveries.broadcast(
            "notice", Reply((verbatim("Thông báo"),)), ids, None,
            BroadcastExtras(photo=kept.file_id),
        )  # fmt: skip
        photos.append(await photo_to(bot, member.id))
    first, second = photos
    assert list(first.files.values()) == [PHOTO] and first.text == "Thông báo"
    # Then by the file id Telegram gave it: no second upload.
    assert not second.files and second.params["photo"].startswith("uploaded-"), second
