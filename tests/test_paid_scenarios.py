"""Paid broadcasts through the fake Bot API: /announce's preview of the time and the cost,
and an announcement sent paid as far as today's cap allows, the rest free, its sender told."""

from __future__ import annotations

from tests.conftest import StartBot, seed_units
from tests.fakebotapi import FakeBotApi, Harness, Member
from tests.scenario import join
from tests.test_delivery import TEXT, finished, members
from tests.test_review import drain, grant
from tests.zalo_world import ZaloUser, start_draft, zalo_admins, zalo_worker

PAYING = {"paid_broadcast": True, "paid_broadcast_daily_stars": 100}


async def preview(bot: Harness, database_url: str, english: bool = False) -> Member:
    """An admin of Long Biên writes an announcement to the three workers of CĐCS May 10 and
    chooses everyone: the question before sending is the last message."""
    await grant(database_url, "HN-LB", 5401)
    admin = bot.member(5401, "Long Biên")
    for index in range(3):
        await join(bot.member(5500 + index, f"Người {index}"), name=f"Lê Văn {chr(65 + index)}")
    if english:
        await admin.press("l:en")
    await admin.say("/announce")
    await admin.say("Chủ nhật này công đoàn tổ chức hội thi sáng kiến!")
    await admin.tap("Every member of my units" if english else "Mọi đoàn viên")
    return admin


async def test_without_paid_broadcasts_the_preview_shows_the_free_pace(
    bot: Harness, database_url: str
) -> None:
    admin = await preview(bot, database_url)
    asked = admin.last().text
    assert asked.startswith("Gửi hết mất khoảng 1 giây.\n"), asked
    assert "3 đoàn viên" in asked and "Sao" not in asked


async def test_with_paid_broadcasts_the_preview_shows_both_paces_and_the_cost(
    start_bot: StartBot, database_url: str
) -> None:
    await seed_units(database_url)
    api = FakeBotApi()
    api.star_balance = 500
    bot = await start_bot(api, **PAYING)
    admin = await preview(bot, database_url, english=True)
    assert admin.last().text.splitlines()[:3] == [
        "At the free pace it takes about 1 second.",
        "The union pays for faster sending: about 1 second, for 0.3 Stars (0.1 Star a message).",
        "Today's spending cap and the bot's Stars balance cover it.",
    ], admin.transcript()
    assert [label for label, _ in admin.last().buttons] == ["📣 Send", "Cancel"]


async def test_a_short_balance_is_said_before_the_admin_confirms(
    start_bot: StartBot, database_url: str
) -> None:
    await seed_units(database_url)
    api = FakeBotApi()
    api.star_balance = 0
    bot = await start_bot(api, **PAYING)
    admin = await preview(bot, database_url)
    lines = admin.last().text.splitlines()
    assert lines[:3] == [
        "Theo tốc độ miễn phí, gửi hết mất khoảng 1 giây.",
        "Công đoàn trả phí để gửi nhanh hơn: khoảng 1 giây, hết 0,3 Sao (0,1 Sao mỗi tin).",
        "Số dư Sao của bot không đủ để trả: thông báo sẽ gửi theo tốc độ miễn phí.",
    ], admin.transcript()
    api.star_balance = None  # Telegram does not answer: nothing can be paid
    await admin.tap("Mọi đoàn viên")
    assert "Số dư Sao của bot không đủ" in admin.last().text


async def test_paid_as_far_as_todays_cap_then_free_and_the_sender_told_once(
    start_bot: StartBot, database_url: str
) -> None:
    (admin,) = await members(database_url, 1, first=49_999)
    ids = await members(database_url, 14)
    api = FakeBotApi()
    api.star_balance = 1000
    # One Star a day: ten messages paid.
    bot = await start_bot(api, paid_broadcast=True, paid_broadcast_daily_stars=1)
    deliveries = bot.application.bot_data.deliveries
    broadcast = await deliveries.broadcast("announce", TEXT, ids, admin)
    await finished(bot, broadcast)
    await drain(bot)
    sent = [c for c in api.calls if c.method == "sendMessage" and c.text == TEXT]
    assert len(sent) == 14
    assert sum(1 for c in sent if c.params.get("allow_paid_broadcast") is True) == 10
    assert sum(1 for c in sent if "allow_paid_broadcast" not in c.params) == 4
    told = [c for c in api.sent_to(49_999) if "mức chi tối đa" in c.text]
    assert len(told) == 1, [c.text for c in api.sent_to(49_999)]
    assert told[0].text.startswith("📣 Hôm nay đã chạm mức chi tối đa cho việc gửi trả phí")
    again = await deliveries.broadcast("announce", TEXT, ids, admin)
    await finished(bot, again)
    await drain(bot)
    assert not any(c.params.get("allow_paid_broadcast") for c in api.calls[len(sent) + 1 :])
    assert len([c for c in api.sent_to(49_999) if "mức chi tối đa" in c.text]) == 2, (
        "told once per announcement"
    )


async def test_without_paid_broadcasts_nothing_carries_allow_paid_broadcast(
    start_bot: StartBot, database_url: str
) -> None:
    ids = await members(database_url, 5)
    api = FakeBotApi()
    bot = await start_bot(api)
    broadcast = await bot.application.bot_data.deliveries.broadcast("announce", TEXT, ids, None)
    await finished(bot, broadcast)
    assert all("allow_paid_broadcast" not in c.params for c in api.calls)
    assert not any(c.method == "getMyStarBalance" for c in api.calls)


async def test_a_zalo_announcement_shows_only_zalos_own_pace(
    start_bot: StartBot, database_url: str
) -> None:
    await seed_units(database_url)
    # Telegram pays; the two Zalo members go at Zalo's pace (ZALO_RATE), free.
    async with zalo_worker(start_bot, **PAYING) as zalo:
        await zalo_admins(database_url, "5550901")
        await start_draft(zalo)
        colleague = ZaloUser(zalo.fake, zalo.channel, "5550003")
        await start_draft(colleague)
        admin = ZaloUser(zalo.fake, zalo.channel, "5550901")
        await admin.say("/announce")
        await admin.say("Chiều thứ Sáu họp tổ sáng kiến lúc 16 giờ.")
        answer = await admin.choose("Mọi đoàn viên")
    assert answer[-1].startswith("Gửi hết mất khoảng 1 giây.\n"), answer
    assert "2 đoàn viên" in answer[-1] and "Sao" not in answer[-1]
