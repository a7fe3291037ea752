"""Paid broadcasts: the settings, the allowance within today's cap and the Stars balance,
the cap shared through the database, /announce's preview and the fall back to the free
pace."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from telegram import StarAmount
from telegram.error import NetworkError

from bot.settings import Settings, SettingsError
from domain.announce_cases import Pace, PaidOffer, sending_time, tell_free_pace
from domain.delivery import BroadcastExtras
from domain.model import Member
from handlers.telegram.paid import NoPaid, PaidBroadcasts
from locales import Translator
from storage.paid import PaidSends
from storage.uow import SqlUnitOfWorkFactory
from tests.fakebotapi import TOKEN

ZALO_TOKEN = "1459232241454765289:zalo-secret-part"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
TRANSLATOR = Translator(HANOI)
DAY = dt.date(2026, 11, 22)


def test_paid_broadcasts_are_off_unless_the_union_chooses_to_pay() -> None:
    settings = Settings.from_mapping({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert (settings.paid_broadcast, settings.paid_broadcast_rate) == (False, 1000.0)
    paying = Settings.from_mapping({"TELEGRAM_BOT_TOKEN": TOKEN, "PAID_BROADCAST": "1",
                                    "PAID_BROADCAST_DAILY_STARS": "5000",
                                    "PAID_BROADCAST_RATE": "500"})  # fmt: skip
    assert paying.paid_broadcast and paying.paid_broadcast_daily_stars == 5000
    assert paying.paid_broadcast_rate == 500.0
    # Telegram's settings mean nothing to Zalo alone: not read, not refused.
    zalo = Settings.from_mapping({"ZALO_BOT_TOKEN": ZALO_TOKEN, "PAID_BROADCAST": "1"})
    assert not zalo.paid_broadcast


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"PAID_BROADCAST": "1"}, "PAID_BROADCAST=1 needs PAID_BROADCAST_DAILY_STARS"),
        ({"PAID_BROADCAST": "maybe"}, "PAID_BROADCAST must be 1"),
        ({"PAID_BROADCAST_RATE": "30"}, "PAID_BROADCAST_RATE must be a number of messages"),
        ({"PAID_BROADCAST_RATE": "1001"}, "above 30 and at most 1000"),
        ({"PAID_BROADCAST_RATE": "nan"}, "PAID_BROADCAST_RATE"),
        ({"PAID_BROADCAST": "1", "PAID_BROADCAST_DAILY_STARS": "0"}, "at least 1"),
        ({"PAID_BROADCAST_DAILY_STARS": "12.5"}, "whole number of Stars"),
    ],
)
def test_bad_paid_settings_say_what_they_accept(values: dict[str, str], said: str) -> None:
    with pytest.raises(SettingsError, match=said):
        Settings.from_mapping({"TELEGRAM_BOT_TOKEN": TOKEN, **values})


class Balance:
    """getMyStarBalance, counted; ``stars`` None: Telegram does not answer."""

    def __init__(self, stars: int | None) -> None:
        self.stars = stars
        self.reads = 0

    async def __call__(self) -> StarAmount:
        self.reads += 1
        if self.stars is None:
            raise NetworkError("Telegram is unreachable")
        return StarAmount(self.stars, 500_000_000)


class Seconds:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def paying(
    units_of_work: SqlUnitOfWorkFactory,
    balance: Balance,
    clock: Seconds,
    day: list[dt.date],
    daily_stars: int = 100,
) -> PaidBroadcasts:
    """A process's paid pace over the shared database."""
    return PaidBroadcasts(balance, PaidSends(units_of_work), rate=1000.0,
                          daily_stars=daily_stars, today=lambda: day[0], clock=clock)  # fmt: skip


async def test_nothing_goes_paid_when_the_union_does_not_pay() -> None:
    assert await NoPaid().allowance(500) == 0


async def test_the_allowance_keeps_within_todays_cap_and_the_balance(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    clock, day = Seconds(), [DAY]
    # 100 Stars a day: 1.000 messages; a balance of 60,5 Stars: 605 messages.
    paid = paying(units_of_work, Balance(60), clock, day)
    assert await paid.allowance(400) == 400
    await paid.spent(400)
    assert await paid.allowance(400) == 205, "the balance's 605 messages, less those sent"
    await paid.spent(205)
    assert await paid.allowance(1) == 0
    rich = paying(units_of_work, Balance(10_000), clock, day)
    assert await rich.allowance(1000) == 1000 - 605, "the cap: 1.000 messages a day"


async def test_the_balance_is_read_once_a_minute_and_a_failure_pays_nothing(
    units_of_work: SqlUnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    clock, day, balance = Seconds(), [DAY], Balance(None)
    paid = paying(units_of_work, balance, clock, day)
    with caplog.at_level(logging.WARNING):
        assert await paid.allowance(10) == 0
    assert "Stars balance could not be read" in caplog.text
    balance.stars = 50
    clock.now += 30
    assert await paid.allowance(10) == 0, "a failed reading stands for a minute"
    clock.now += 31
    assert await paid.allowance(10) == 10
    assert await paid.allowance(10) == 10
    assert balance.reads == 2


async def test_granted_room_is_held_until_spent_or_let_go(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    clock, day = Seconds(), [DAY]
    paid = paying(units_of_work, Balance(10_000), clock, day, daily_stars=10)
    assert await paid.allowance(80) == 80
    assert await paid.allowance(80) == 20, "the first 80 are on their way"
    await paid.spent(60)
    assert await paid.allowance(80) == 0, "40 of the grants still hold room"
    clock.now += 11
    assert await paid.allowance(80) == 40, "grants never spent (sent free after all) let go"


async def test_the_daily_cap_is_shared_through_the_database_and_renews_the_next_day(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    clock, day = Seconds(), [DAY]
    first = paying(units_of_work, Balance(10_000), clock, day, daily_stars=50)
    assert await first.allowance(300) == 300
    await first.spent(300)
    # Another process, or this one after a restart: the same day's cap.
    second = paying(units_of_work, Balance(10_000), clock, day, daily_stars=50)
    assert await second.allowance(300) == 200
    await second.spent(200)
    assert await first.allowance(1) == 0
    assert await PaidSends(units_of_work).paid_on(DAY) == 500
    day[0] = DAY + dt.timedelta(days=1)
    assert await second.allowance(300) == 300, "a new day in the union's clock"


async def test_what_paying_offers_is_told_for_the_preview(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    paid = paying(units_of_work, Balance(30), Seconds(), [DAY], daily_stars=100)
    offer = await paid.offer()
    assert (offer.rate, offer.cap_room, offer.balance_room, offer.room) == (1000.0, 1000, 305, 305)
    assert offer.price == Decimal("0.1")


def render(lines: tuple[object, ...], language: str) -> str:
    return "\n".join(TRANSLATOR.render(line, language) for line in lines)  # type: ignore[arg-type]


TELEGRAM_FREE = Pace(29.0)


def telegram(cap_stars: int, balance_stars: int) -> Pace:
    return Pace(29.0, PaidOffer(1000.0, cap_stars * 10, balance_stars * 10, Decimal("0.1")))


def test_the_preview_at_the_free_pace_only() -> None:
    lines = sending_time({"telegram": 100_000}, {"telegram": TELEGRAM_FREE})
    assert render(lines, "en") == "Sending it takes about 58 minutes."
    assert render(lines, "vi") == "Gửi hết mất khoảng 58 phút."
    # Zalo shows its own pace, whatever Telegram's.
    zalo = sending_time({"zalo": 600}, {"zalo": Pace(5.0), "telegram": telegram(10**6, 10**6)})
    assert render(zalo, "en") == "Sending it takes about 2 minutes."


def test_the_preview_at_the_paid_pace_with_its_cost() -> None:
    lines = sending_time({"telegram": 100_000}, {"telegram": telegram(20_000, 15_000)})
    assert render(lines, "en").splitlines() == [
        "At the free pace it takes about 58 minutes.",
        "The union pays for faster sending: about 2 minutes, for 10,000 Stars (0.1 Star a "
        "message).",
        "Today's spending cap and the bot's Stars balance cover it.",
    ]
    assert render(lines, "vi").splitlines() == [
        "Theo tốc độ miễn phí, gửi hết mất khoảng 58 phút.",
        "Công đoàn trả phí để gửi nhanh hơn: khoảng 2 phút, hết 10.000 Sao (0,1 Sao mỗi tin).",
        "Mức chi tối đa hôm nay và số dư Sao của bot đủ cho thông báo này.",
    ]


def test_the_preview_says_what_a_short_balance_or_cap_leaves_at_the_free_pace() -> None:
    short = sending_time({"telegram": 100_000}, {"telegram": telegram(20_000, 4_000)})
    assert render(short, "en").splitlines()[-1] == (
        "The bot's Stars balance pays for 40,000 messages: the other 60,000 would go at the "
        "free pace (about 36 minutes in all)."
    )
    assert render(short, "vi").splitlines()[-1] == (
        "Số dư Sao của bot trả được cho 40.000 tin: 60.000 tin còn lại sẽ gửi theo tốc độ "
        "miễn phí (tổng cộng khoảng 36 phút)."
    )
    capped = sending_time({"telegram": 2_000_000}, {"telegram": telegram(150_000, 10**6)})
    assert render(capped, "en").splitlines()[1:] == [
        "The union pays for faster sending: about 34 minutes, for 200,000 Stars (0.1 Star a "
        "message).",
        "Today's spending cap leaves 150,000 Stars: 1,500,000 messages would go paid, the "
        "other 500,000 at the free pace (about 5 hours 13 minutes in all).",
    ]
    spent = sending_time({"telegram": 10}, {"telegram": telegram(0, 100)})
    assert render(spent, "vi").splitlines()[-1] == (
        "Hôm nay đã chạm mức chi tối đa: thông báo sẽ gửi theo tốc độ miễn phí."
    )
    broke = sending_time({"telegram": 10}, {"telegram": telegram(100, 0)})
    assert render(broke, "en").splitlines()[-1] == (
        "The bot's Stars balance cannot pay for it: it would go at the free pace."
    )


async def test_the_admin_is_told_once_that_their_announcement_goes_on_free(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    now = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)
    async with units_of_work() as uow:
        admin = await uow.members.add(Member(0, "telegram", "777", "Admin", "en"), now)
        worker = await uow.members.add(Member(0, "telegram", "778", "Worker", "vi"), now)
        announced = await uow.outbox.create("announce", "Hello", [worker.id], admin.id, now,
                                            BroadcastExtras())  # fmt: skip
        weekly = await uow.outbox.create("weekly", "Week", [worker.id], None, now,
                                         BroadcastExtras())  # fmt: skip
        assert announced is not None and weekly is not None
        assert await tell_free_pace(uow, announced, "cap", now)
        assert not await tell_free_pace(uow, announced, "balance", now), "once"
        assert not await tell_free_pace(uow, weekly, "cap", now), "nobody started it"
        await uow.commit()
    async with units_of_work() as uow:
        backlog = await uow.outbox.backlog(urgent_only=True)
    assert backlog == 1
    told: list[tuple[int, str]] = []

    async def tell(broadcast_id: int, shortage: str) -> None:
        told.append((broadcast_id, shortage))

    paid = PaidBroadcasts(Balance(0), PaidSends(units_of_work), rate=1000.0, daily_stars=10,
                          today=lambda: DAY, tell=tell)  # fmt: skip
    assert await paid.allowance(6) == 5, "half a Star pays for 5 messages"
    await paid.went_free(announced)
    await paid.went_free(announced)
    assert told == [(announced, "balance")]
