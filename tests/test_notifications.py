"""Every notification goes through the delivery queue, kept as the core said it, and is
rendered for its reader (their language, their channel's limits) when it is sent."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.delivery import NO_EXTRAS, DeliveryService, OutgoingState
from domain.message import Unstorable, decode_reply, encode_reply
from domain.model import Attachment, AttachmentKind, Member
from domain.ports import UnitOfWork
from domain.proxy import PROXY_CHANNEL
from domain.text import Amount, Day, Moment, Money, Percent, Text, Verbatim, _, n_, verbatim
from domain.ui import Button, KeyButton, Reply
from locales import Translator
from storage.db import alembic_config, create_engine, upgrade
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import StartBot
from tests.fakebotapi import Harness
from tests.test_delivery import finished

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)
TRANSLATOR = Translator(ZoneInfo("Asia/Ho_Chi_Minh"))
# The schema before the queue kept untranslated messages.
BEFORE = "0014"


@asynccontextmanager
async def unit_of_work(database_url: str) -> AsyncIterator[UnitOfWork]:
    """One transaction on the test database, committed when the block ends well."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            yield uow
            await uow.commit()
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def people(database_url: str, *who: tuple[str, str, str]) -> list[int]:
    """Members by (channel, external id, language); their ids."""
    ids = []
    async with unit_of_work(database_url) as uow:
        for channel, external_id, language in who:
            member = Member(0, channel, external_id, "Đoàn viên", language)
            ids.append((await uow.members.add(member, NOW)).id)
    return ids


# -- the stored format -------------------------------------------------------------------


def test_a_text_and_every_kind_of_argument_survive_the_queue() -> None:
    moment = dt.datetime(2026, 11, 22, 8, 30, tzinfo=dt.UTC)
    said = Reply(
        (
            _("{who} · {money} · {amount} · {day} · {moment} · {share} · {rate} · {list}",
              who=Verbatim("Nguyễn Thị {Lan}"), money=Money(1_200_000), amount=Amount(33 * 10**12),
              day=Day(dt.date(2026, 11, 22)), moment=Moment(moment), share=Percent(Decimal("12.5")),
              rate=Percent(0.5), list=(1200, Verbatim("a"), _("Cancelled."))),
            n_("You have {count} draft; type /new to continue it.",
               "You have {count} drafts; type /new to continue them.", 3),
            _("Nested: {inner}", inner=_("📣 Sent {done}/{total}", done=1200, total=5000)),
            verbatim(""),
        ),
        buttons=((Button(_("✅ Done"), "r:ok:1:2"), Button(verbatim("Xem"), "r:full:1")),),
    )  # fmt: skip
    stored = json.loads(json.dumps(encode_reply(said)))
    back = decode_reply(stored)
    assert back == said
    for language in ("vi", "en"):
        assert TRANSLATOR.lines(back.text, language) == TRANSLATOR.lines(said.text, language)
    assert "1.200.000" in TRANSLATOR.lines(back.text, "vi"), "formatted when read, not stored"


def test_what_a_notification_cannot_carry_is_refused_when_queued() -> None:
    photo = Attachment(AttachmentKind.PHOTO, "f", "u", 1, None, "image/jpeg")
    for reply in (Reply((_("Cancelled."),), media=(photo,)),
                  Reply((_("Cancelled."),), keyboard=((KeyButton(_("Skip")),),)),
                  Reply((_("Cancelled."), Text("{x}", {"x": object()})))):  # fmt: skip
        with pytest.raises(Unstorable):
            encode_reply(reply)
    with pytest.raises(ValueError, match="format"):
        decode_reply({"v": 99, "text": []})


# -- rendered for the reader when sent ---------------------------------------------------


async def test_a_broadcast_is_rendered_once_per_language_each_reader_in_theirs(
    start_bot: StartBot, database_url: str
) -> None:
    ids = await people(database_url, *[("telegram", str(80_000 + n), "en" if n % 2 else "vi")
                                       for n in range(20)])  # fmt: skip
    bot = await start_bot()
    deliveries: DeliveryService = bot.application.bot_data.deliveries
    fetched: list[int] = []
    content = deliveries.content

    async def counted(broadcast_id: int) -> Reply | None:
        fetched.append(broadcast_id)
        return await content(broadcast_id)

    deliveries.content = counted  # type: ignore[method-assign]
    said = Reply((_("📣 Sent {done}/{total}", done=1200, total=5000),))
    broadcast = await deliveries.broadcast("notice", said, ids, None)
    assert broadcast is not None
    assert (await finished(bot, broadcast))[OutgoingState.SENT] == 20
    for n in range(20):
        (message,) = bot.api.sent_to(80_000 + n)
        assert message.text == ("📣 Sent 1,200/5,000" if n % 2 else "📣 Đã gửi 1.200/5.000")
    assert fetched == [broadcast, broadcast], "read and rendered once for each language"


async def test_a_long_notification_is_cut_to_telegrams_limit_with_its_buttons_last(
    start_bot: StartBot, database_url: str
) -> None:
    (member,) = await people(database_url, ("telegram", "81000", "vi"))
    bot = await start_bot()
    lines = tuple(verbatim(f"Dòng {n}: " + "sáng kiến " * 9) for n in range(60))
    said = Reply(lines, buttons=((Button(_("✅ Done"), "x:done"),),))
    broadcast = await bot.application.bot_data.deliveries.broadcast("notice", said, [member], None)
    assert broadcast is not None
    assert (await finished(bot, broadcast))[OutgoingState.SENT] == 1
    pieces = bot.api.sent_to(81_000)
    assert len(pieces) == 2 and all(len(p.text) <= 4096 for p in pieces)
    assert "\n".join(p.text for p in pieces) == TRANSLATOR.lines(lines, "vi"), "cut at line ends"
    assert [p.buttons for p in pieces] == [[], [("✅ Xong", "x:done")]], "buttons on the last"


async def test_a_decision_waits_in_the_queue_and_reaches_everyone_in_their_language_of_now(
    bot: Harness, database_url: str, start_bot: StartBot
) -> None:
    from tests.test_review import ADMIN_A, ADMIN_B, WORKER, drain, edits, setup, submit

    worker, a, b, _upper = await setup(bot, database_url)
    await submit(worker)
    bot.application.bot_data.duty.kill()  # no sender runs: what is queued stays queued
    told_before = len(bot.api.sent_to(WORKER))
    await a.tap("✅ Duyệt")
    await a.tap("Xác nhận")
    assert "tác giả" in a.last().text.lower(), "the admin who decided is answered at once"
    assert len(bot.api.sent_to(WORKER)) == told_before, "the author's news waits in the queue"
    assert not edits(bot, ADMIN_B), "the other admin's card waits in the queue too"
    await worker.press("l:en")
    await b.press("l:en")
    later = await start_bot()  # a process whose sender runs
    await drain(later)
    (told,) = [c for c in later.api.sent_to(WORKER) if "SK-000001" in c.text]
    assert "has been approved" in told.text, told.text
    (card_b,) = edits(later, ADMIN_B)
    assert "✅ Approved by" in card_b.text and not card_b.buttons, "edited in place, in English"
    (card_a,) = edits(later, ADMIN_A)
    assert "✅ Đã duyệt bởi" in card_a.text, "each reader in their own language"


# -- one channel, one sender ---------------------------------------------------------------


async def test_each_row_knows_its_channel_and_each_sender_takes_only_its_own(
    database_url: str,
) -> None:
    ids = await people(database_url, ("telegram", "82000", "en"), ("zalo", "z-1", "vi"),
                       (PROXY_CHANNEL, "entered-by-a-helper", "vi"))  # fmt: skip
    async with unit_of_work(database_url) as uow:
        broadcast = await uow.outbox.create("announce", "Xin chào", ids, None, NOW, NO_EXTRAS)
        assert broadcast is not None
        telegram = await uow.outbox.claim("telegram", 10)
        zalo = await uow.outbox.claim("zalo", 10)
        tally = await uow.outbox.tally(broadcast)
    assert [(o.channel, o.chat_id, o.language) for o in telegram] == [("telegram", "82000", "en")]
    assert [(o.channel, o.chat_id) for o in zalo] == [("zalo", "z-1")]
    assert sum(tally.values()) == 2, "someone a helper entered has no chat to write to"


# -- rows queued before the upgrade ------------------------------------------------------


async def migrate(engine: AsyncEngine, revision: str) -> None:
    """Move the schema up or down to ``revision``."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def test_the_upgrade_keeps_queued_rows_sending_and_the_downgrade_stops_new_ones(
    start_bot: StartBot, database_url: str
) -> None:
    engine = create_engine(database_url)

    async def sql(statement: str, **values: Any) -> list[tuple[Any, ...]]:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), values)
            return [tuple(row) for row in result] if result.returns_rows else []

    try:
        old_reader, new_reader = await people(database_url, ("telegram", "83000", "vi"),
                                              ("telegram", "83001", "vi"))  # fmt: skip
        async with unit_of_work(database_url) as uow:
            untranslated = await uow.outbox.create(
                "notice", Reply((_("Cancelled."),)), [new_reader], None, NOW, NO_EXTRAS
            )
        await migrate(engine, BEFORE)
        stopped = await sql("SELECT state, error FROM outgoing WHERE broadcast_id = :b",
                            b=untranslated)  # fmt: skip
        assert stopped == [("cancelled", "downgraded")], "the old code could not send it"
        ((old,),) = await sql(
            "INSERT INTO broadcasts (kind, text, status, created_at, buttons) VALUES "
            "('notice', 'Thẻ duyệt đã soạn sẵn', 'running', :now, :buttons) RETURNING id",
            now=NOW, buttons=json.dumps([[["✅ Duyệt", "r:ok:1:1"]]]),
        )  # fmt: skip
        await sql("INSERT INTO outgoing (broadcast_id, member_id, chat_id, state, attempts, "
                  "urgent) VALUES (:b, :m, '83000', 'queued', 0, true)", b=old,
                  m=old_reader)  # fmt: skip
        await upgrade(engine)
        assert await sql("SELECT channel FROM outgoing WHERE broadcast_id = :b", b=old) == [
            ("telegram",)
        ]
    finally:
        await upgrade(engine)
        await engine.dispose()
    bot = await start_bot()
    assert (await finished(bot, old))[OutgoingState.SENT] == 1
    (message,) = bot.api.sent_to(83_000)
    assert (message.text, message.buttons) == ("Thẻ duyệt đã soạn sẵn", [("✅ Duyệt", "r:ok:1:1")])
    assert not bot.api.sent_to(83_001), "the stopped row stays stopped"
