"""Errors reach an operator's chat: one message per kind of error per ten minutes, with
the type and the update, never what the member wrote nor the token."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from bot.alerts import error_kind
from bot.settings import Settings, SettingsError, _time
from domain.service import ConversationService
from tests.conftest import Clock, StartBot, seed_units
from tests.fakebotapi import TOKEN, Harness, Member

ALERT_CHAT = -1001234567890
# What a member wrote, quoted by the exception as errors sometimes do.
PRIVATE = "Nguyễn Thị Lan, 0912 345 678"


@pytest.fixture
async def alerting(start_bot: StartBot, database_url: str) -> Harness:
    """A bot that tells errors to the alert chat."""
    await seed_units(database_url)
    return await start_bot(alert_chat_id=ALERT_CHAT)


def break_the_core(monkeypatch: pytest.MonkeyPatch, elsewhere: bool = False) -> None:
    """Every update fails in the core with a ValueError quoting the member; ``elsewhere``
    raises it from another place in our code (a different kind of error)."""

    async def handle(self: ConversationService, inbound: Any) -> None:
        if elsewhere:
            _time(PRIVATE)
        raise ValueError(f"cannot read {PRIVATE!r}")

    monkeypatch.setattr(ConversationService, "handle", handle)


async def fail(bot: Harness, member: Member) -> int:
    """The member sends something that fails; the error the harness collected is cleared
    (it was caused on purpose); returns the update's id."""
    update = member.text_update(PRIVATE)
    await member.deliver(update)
    assert len(bot.errors) == 1 and isinstance(bot.errors[0], ValueError), bot.errors
    bot.errors.clear()
    assert member.last().text.startswith("Xin lỗi, hệ thống đang gặp trục trặc")
    return int(update["update_id"])


async def test_one_alert_per_kind_of_error_per_ten_minutes(
    alerting: Harness, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = alerting.member(4101, "Lan")
    break_the_core(monkeypatch)
    first = await fail(alerting, member)
    await fail(alerting, member)
    clock.now += dt.timedelta(minutes=9, seconds=59)
    await fail(alerting, member)
    alerts = alerting.api.sent_to(ALERT_CHAT)
    assert len(alerts) == 1, "the same kind within 10 minutes is not told again"
    text = alerts[0].text
    assert "ValueError at handlers.telegram.inbound:respond" in text
    assert f"update {first}\n" in text and "more of this kind" not in text
    for secret in (PRIVATE, "Lan", "0912", "cannot read", TOKEN):
        assert secret not in text

    clock.now += dt.timedelta(seconds=1)
    later = await fail(alerting, member)
    alerts = alerting.api.sent_to(ALERT_CHAT)
    assert len(alerts) == 2, "10 minutes on, the kind is told again"
    assert f"update {later}\n" in alerts[1].text
    assert "2 more of this kind since the last alert" in alerts[1].text

    break_the_core(monkeypatch, elsewhere=True)
    other = await fail(alerting, member)
    alerts = alerting.api.sent_to(ALERT_CHAT)
    assert len(alerts) == 3, "another kind is told at once"
    assert "ValueError at bot.settings:_time" in alerts[2].text
    assert f"update {other}\n" in alerts[2].text and PRIVATE not in alerts[2].text


async def test_a_failing_alert_is_logged_and_the_error_handler_carries_on(
    alerting: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    member = alerting.member(4102, "Hùng")
    alerting.api.blocked.add(ALERT_CHAT)
    break_the_core(monkeypatch)
    with caplog.at_level(logging.WARNING):
        await fail(alerting, member)
    warnings = [r for r in caplog.records if r.name == "bot.alerts"]
    assert [(r.levelno, r.getMessage()) for r in warnings] == [
        (logging.WARNING, "could not alert the operator: Forbidden")
    ]
    assert not any("while handling the error" in r.getMessage() for r in caplog.records)


async def test_without_an_alert_chat_only_the_member_is_told(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = bot.member(4103, "Mai")
    break_the_core(monkeypatch)
    await fail(bot, member)
    chats = {int(c.params["chat_id"]) for c in bot.api.calls if c.method == "sendMessage"}
    assert chats == {member.id}


def test_a_kind_is_the_type_and_the_innermost_place_in_our_code() -> None:
    with pytest.raises(ValueError) as ours:
        _time("8h")
    assert error_kind(ours.value) == "ValueError at bot.settings:_time"
    with pytest.raises(SettingsError) as nested:
        Settings.from_mapping({"TELEGRAM_BOT_TOKEN": TOKEN, "ALERT_CHAT_ID": "ops"})
    assert error_kind(nested.value) == "bot.settings.SettingsError at bot.settings:_alert_chat"
    with pytest.raises(ZeroDivisionError) as theirs:
        _ = 1 / 0
    assert error_kind(theirs.value).startswith("ZeroDivisionError at tests.test_alerts:")


def test_the_alert_chat_setting() -> None:
    values = {"TELEGRAM_BOT_TOKEN": TOKEN}
    assert Settings.from_mapping(values).alert_chat_id is None
    chat = Settings.from_mapping({**values, "ALERT_CHAT_ID": " -1001234567890 "})
    assert chat.alert_chat_id == ALERT_CHAT
    for bad in ("ops-team", "0", "12.5"):
        with pytest.raises(SettingsError, match="ALERT_CHAT_ID"):
            Settings.from_mapping({**values, "ALERT_CHAT_ID": bad})
